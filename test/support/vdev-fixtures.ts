// Fixture for the device-side vdev tests: one memory [BASE, BASE + 64 KiB) holding a resource table
// with one vdev at BASE and room for its two vrings above it, and a host played by hand through
// RscTableWriter (vring da/notifyid, gfeatures, status), as Linux's remoteproc_virtio.c writes them.

import { buildRscTable } from '../../src/rsc/rsc-build.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../../src/rsc/rsc-layout.ts';
import { RscTableWriter, type VdevLayout } from '../../src/rsc/rsc-writer.ts';
import type { RscEntrySpec, RscVringSpec } from '../../src/rsc/rsc-types.ts';
import { findVdev, type VdevLocation } from '../../src/remoteproc/virtio/vdev-locate.ts';
import { RawVring } from '../../src/virtio/vring-raw.ts';

export const BASE = 0x1000;
export const MEM_SIZE = 0x1_0000;
/** Where the host places the two vrings when it behaves. */
export const V0_DA = 0x4000;
export const V1_DA = 0x7000;
export const NUM = 16;
export const ALIGN = 0x1000;
export const VDEV_ID = 11;

export interface BenchOptions {
  readonly dfeatures?: number;
  /** Entries before the vdev (to move it away from entry 0). */
  readonly before?: readonly RscEntrySpec[];
  readonly vrings?: readonly RscVringSpec[];
}

export class VdevBench {
  readonly memory = new Uint8Array(MEM_SIZE);
  readonly table: Uint8Array;
  readonly writer: RscTableWriter;
  readonly location: VdevLocation;
  readonly layout: VdevLayout;

  constructor(options: BenchOptions = {}) {
    const bytes = buildRscTable([
      ...(options.before ?? []),
      {
        kind: 'vdev',
        id: VDEV_ID,
        dfeatures: options.dfeatures ?? 0,
        vrings: options.vrings ?? [
          { num: NUM, align: ALIGN },
          { num: NUM, align: ALIGN },
        ],
      },
    ]);
    this.table = this.memory.subarray(0, bytes.length);
    this.table.set(bytes);
    this.writer = new RscTableWriter(this.table);
    this.location = findVdev(this.table, { ids: [VDEV_ID] });
    this.layout = { bodyOffset: this.location.bodyOffset, numOfVrings: 2, configLen: 0 };
  }

  /** The device's address map: exactly [BASE, BASE + MEM_SIZE). */
  readonly translate = (addr: bigint | number, len: number): Uint8Array | undefined => {
    const a = Number(addr);
    if (a < BASE || a + len > BASE + MEM_SIZE) return undefined;
    return this.memory.subarray(a - BASE, a - BASE + len);
  };

  /** What the host's probe writes: vring da and notifyid, gfeatures, then the status. */
  place(host: { da0?: number; da1?: number; id0?: number; id1?: number; gfeatures?: number } = {}): void {
    this.writer.setVringDa(this.layout, 0, host.da0 ?? V0_DA);
    this.writer.setVringDa(this.layout, 1, host.da1 ?? V1_DA);
    this.writer.setVringNotifyId(this.layout, 0, host.id0 ?? 2);
    this.writer.setVringNotifyId(this.layout, 1, host.id1 ?? 3);
    this.writer.setVdevGfeatures(this.location.bodyOffset, host.gfeatures ?? 0);
  }

  status(value: number): void {
    this.writer.setVdevStatus(this.location.bodyOffset, value);
  }

  /** A u32 field of vring `ring` in the table, written as a hostile host may write it. */
  poke(ring: 0 | 1, field: 'da' | 'align' | 'num' | 'notifyid', value: number): void {
    this.u32(vringOffset(this.location.bodyOffset, ring) + FW_RSC_VDEV_VRING[field], value);
  }

  /** num_of_vrings, which the host may rewrite under the device. */
  pokeNumOfVrings(value: number): void {
    this.table[this.location.bodyOffset + FW_RSC_VDEV.num_of_vrings] = value;
  }

  private u32(offset: number, value: number): void {
    new DataView(this.table.buffer, this.table.byteOffset).setUint32(offset, value, true);
  }

  /** The host's raw view of a ring placed at `da`. */
  raw(da: number): RawVring {
    const view = this.translate(da, 0x2000);
    if (view === undefined) throw new Error(`no ring memory at ${da}`);
    return new RawVring(view, NUM, ALIGN);
  }
}
