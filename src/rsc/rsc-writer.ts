// Host write-back into a resource table in memory: carveout da/pa/len, vring da/notifyid, vdev
// status/gfeatures and the vdev config space, each bounds-checked through ByteView.
// Mirrors the stores remoteproc_core.c (rproc_alloc_carveout, rproc_alloc_vring, rproc_free_vring)
// and remoteproc_virtio.c (set_status, finalize_features, get/set config) make into table_ptr.

import { RprocError, hex } from '../util/errors.ts';
import { ByteView, type Endian } from '../util/bytes.ts';
import { RVDEV_NUM_VRINGS } from './rsc-constants.ts';
import {
  FW_RSC_CARVEOUT,
  FW_RSC_VDEV,
  FW_RSC_VDEV_VRING,
  vdevConfigOffset,
  vringOffset,
} from './rsc-layout.ts';

const OP = 'rsc-write';
const U32_MAX = 0xffff_ffff;

/**
 * The shape of a vdev entry as validated at parse time (a parsed RscVdev fits). Writes that depend on
 * num_of_vrings or config_len take them from here, never from the table, because once the remote runs
 * it can rewrite those bytes (TC-L01) and Linux's habit of re-reading them is what we avoid.
 */
export interface VdevLayout {
  readonly bodyOffset: number;
  readonly numOfVrings: number;
  readonly configLen: number;
}

export interface CarveoutWriteBack {
  readonly da: number;
  readonly pa: number;
  readonly len: number;
}

export class RscTableWriter {
  private readonly view: ByteView;

  constructor(bytes: Uint8Array, endian: Endian = 'le') {
    this.view = new ByteView(bytes, endian, { what: 'resource table', op: OP });
  }

  /** Record where a carveout was placed: da, pa (32-bit) and len, as rproc_alloc_carveout does. */
  setCarveout(bodyOffset: number, { da, pa, len }: CarveoutWriteBack): void {
    // Validate everything first so that a bad value never leaves a half-updated entry behind.
    this.view.check(bodyOffset, FW_RSC_CARVEOUT.size, 'carveout entry');
    assertU32(da, 'carveout da', bodyOffset + FW_RSC_CARVEOUT.da);
    assertU32(pa, 'carveout pa', bodyOffset + FW_RSC_CARVEOUT.pa);
    assertU32(len, 'carveout len', bodyOffset + FW_RSC_CARVEOUT.len);
    this.view.setU32(bodyOffset + FW_RSC_CARVEOUT.da, da, 'carveout da');
    this.view.setU32(bodyOffset + FW_RSC_CARVEOUT.pa, pa, 'carveout pa');
    this.view.setU32(bodyOffset + FW_RSC_CARVEOUT.len, len, 'carveout len');
  }

  /** vring[i].da: the vring's device address at virtqueue creation, 0 when it is freed. */
  setVringDa(vdev: VdevLayout, i: number, da: number): void {
    const off = this.vringField(vdev, i, FW_RSC_VDEV_VRING.da, `vring ${i} da`);
    assertU32(da, `vring ${i} da`, off);
    this.view.setU32(off, da, `vring ${i} da`);
  }

  /** vring[i].notifyid: assigned at vdev setup, 0xffffffff (-1) when the vring is freed. */
  setVringNotifyId(vdev: VdevLayout, i: number, notifyId: number): void {
    const off = this.vringField(vdev, i, FW_RSC_VDEV_VRING.notifyid, `vring ${i} notifyid`);
    assertU32(notifyId, `vring ${i} notifyid`, off);
    this.view.setU32(off, notifyId, `vring ${i} notifyid`);
  }

  /** The virtio status byte the remote polls for DRIVER_OK. */
  setVdevStatus(vdevBodyOffset: number, status: number): void {
    const off = vdevBodyOffset + FW_RSC_VDEV.status;
    // ByteView.setU8 would silently wrap 0x107 to 0x07; a status is a byte or a bug.
    if (!Number.isInteger(status) || status < 0 || status > 0xff) {
      throw new RprocError('EINVAL', OP, `vdev status ${hex(status)} does not fit in a byte`, {
        offset: off,
      });
    }
    this.view.setU8(off, status, 'vdev status');
  }

  /** The negotiated (guest) features, written at virtio finalize_features. */
  setVdevGfeatures(vdevBodyOffset: number, gfeatures: number): void {
    const off = vdevBodyOffset + FW_RSC_VDEV.gfeatures;
    assertU32(gfeatures, 'vdev gfeatures', off);
    this.view.setU32(off, gfeatures, 'vdev gfeatures');
  }

  /** A live view (not a copy) of the vdev's config space, for virtio get/set config. */
  vdevConfig(vdev: VdevLayout): Uint8Array {
    assertVringCount(vdev);
    return this.view.sub(
      vdevConfigOffset(vdev.bodyOffset, vdev.numOfVrings),
      vdev.configLen,
      'vdev config space',
    );
  }

  private vringField(vdev: VdevLayout, i: number, field: number, what: string): number {
    assertVringCount(vdev);
    if (!Number.isInteger(i) || i < 0 || i >= vdev.numOfVrings) {
      throw new RprocError(
        'EINVAL',
        OP,
        `${what}: vring index ${i} is out of range, the vdev at ${hex(vdev.bodyOffset)} has ${vdev.numOfVrings} vrings`,
        { offset: vdev.bodyOffset },
      );
    }
    const off = vringOffset(vdev.bodyOffset, i);
    this.view.check(off, FW_RSC_VDEV_VRING.size, `vring ${i}`);
    return off + field;
  }
}

function assertVringCount(vdev: VdevLayout): void {
  // A parsed vdev never has more; a larger count would place vrings over the config space.
  if (!Number.isInteger(vdev.numOfVrings) || vdev.numOfVrings < 0 || vdev.numOfVrings > RVDEV_NUM_VRINGS) {
    throw new RprocError(
      'EINVAL',
      OP,
      `vdev at ${hex(vdev.bodyOffset)} claims ${vdev.numOfVrings} vrings, at most ${RVDEV_NUM_VRINGS} are allowed`,
      { offset: vdev.bodyOffset },
    );
  }
}

function assertU32(value: number, field: string, offset: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RprocError('EINVAL', OP, `${field} value ${hex(value)} does not fit in 32 bits`, { offset });
  }
}
