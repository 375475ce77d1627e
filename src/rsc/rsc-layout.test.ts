// Struct sizes, field offsets and constants against include/linux/rsc_table.h, and the builder's
// bytes read back at those offsets.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteView } from '../util/bytes.ts';
import {
  FW_RSC_ADDR_ANY,
  FW_RESOURCE_TYPE,
  RSC_HANDLED,
  RSC_IGNORED,
  RVDEV_NUM_VRINGS,
  VIRTIO_ID,
  VIRTIO_RPMSG_F_NS,
  rscTypeName,
  virtioFeatureNames,
  virtioIdName,
  virtioStatusNames,
} from './rsc-constants.ts';
import {
  FW_RSC_CARVEOUT,
  FW_RSC_DEVMEM,
  FW_RSC_HDR,
  FW_RSC_TRACE,
  FW_RSC_VDEV,
  FW_RSC_VDEV_VRING,
  RESOURCE_TABLE,
  rscOffsetSlot,
  rscTableHeaderSize,
  vdevBodySize,
  vdevConfigOffset,
  vringOffset,
} from './rsc-layout.ts';
import { buildRscTable } from './rsc-build.ts';

/** [struct, field widths by offset] — every layout must tile its struct exactly, with no gap. */
const layouts: readonly [string, Readonly<Record<string, number>>, Readonly<Record<string, number>>][] = [
  ['resource_table', RESOURCE_TABLE, { ver: 4, num: 4, reserved0: 4, reserved1: 4 }],
  ['fw_rsc_hdr', FW_RSC_HDR, { type: 4 }],
  ['fw_rsc_carveout', FW_RSC_CARVEOUT, { da: 4, pa: 4, len: 4, flags: 4, reserved: 4, name: 32 }],
  ['fw_rsc_trace', FW_RSC_TRACE, { da: 4, len: 4, reserved: 4, name: 32 }],
  [
    'fw_rsc_vdev',
    FW_RSC_VDEV,
    {
      id: 4,
      notifyid: 4,
      dfeatures: 4,
      gfeatures: 4,
      config_len: 4,
      status: 1,
      num_of_vrings: 1,
      reserved: 2,
    },
  ],
  ['fw_rsc_vdev_vring', FW_RSC_VDEV_VRING, { da: 4, align: 4, num: 4, notifyid: 4, pa: 4 }],
];

describe('resource table layouts', () => {
  it('have the sizes of the packed C structs', () => {
    assert.equal(RESOURCE_TABLE.size, 16);
    assert.equal(FW_RSC_HDR.size, 4);
    assert.equal(FW_RSC_CARVEOUT.size, 52);
    assert.equal(FW_RSC_DEVMEM.size, 52);
    assert.equal(FW_RSC_TRACE.size, 44);
    assert.equal(FW_RSC_VDEV.size, 24);
    assert.equal(FW_RSC_VDEV_VRING.size, 20);
  });

  for (const [name, layout, widths] of layouts) {
    it(`${name}: fields follow each other without gaps and fill the struct`, () => {
      let expected = 0;
      for (const [field, width] of Object.entries(widths)) {
        assert.equal(layout[field], expected, `${name}.${field}`);
        expected += width;
      }
      assert.equal(expected, layout['size'], `${name} size`);
    });
  }

  it('puts offset[] right after the header and vrings right after the vdev body', () => {
    assert.equal(RESOURCE_TABLE.offset, 16);
    assert.equal(FW_RSC_VDEV.vring, 24);
    assert.equal(rscOffsetSlot(3), 16 + 12);
    assert.equal(vringOffset(0x100, 1), 0x100 + 24 + 20);
    assert.equal(vdevConfigOffset(0x100, 2), 0x100 + 24 + 40);
  });

  it('computes header and vdev sizes without 32-bit wrap', () => {
    assert.equal(rscTableHeaderSize(0), 16);
    assert.equal(rscTableHeaderSize(0x4000_0000), 0x1_0000_0010);
    assert.equal(rscTableHeaderSize(0xffff_ffff), 16 + 4 * 0xffff_ffff);
    assert.equal(vdevBodySize(2, 0), 64);
    assert.equal(vdevBodySize(2, 0xffff_ffff), 64 + 0xffff_ffff);
    assert.equal(vdevBodySize(255, 0xffff_ffff), 24 + 20 * 255 + 0xffff_ffff);
  });
});

describe('builder bytes at the layout offsets', () => {
  it('writes every carveout field where fw_rsc_carveout has it', () => {
    const bytes = buildRscTable([
      { kind: 'carveout', da: 0x1111_1111, pa: 0x2222_2222, len: 0x3333, flags: 0x44, name: 'abc' },
    ]);
    const v = new ByteView(bytes, 'le', { what: 'test table', op: 'test' });
    assert.equal(v.u32(RESOURCE_TABLE.ver, 'ver'), 1);
    assert.equal(v.u32(RESOURCE_TABLE.num, 'num'), 1);
    const off = v.u32(rscOffsetSlot(0), 'offset[0]');
    assert.equal(off, 24); // 16 + 4, aligned up to 8
    assert.equal(v.u32(off + FW_RSC_HDR.type, 'type'), FW_RESOURCE_TYPE.RSC_CARVEOUT);
    const body = off + FW_RSC_HDR.size;
    assert.equal(v.u32(body + FW_RSC_CARVEOUT.da, 'da'), 0x1111_1111);
    assert.equal(v.u32(body + FW_RSC_CARVEOUT.pa, 'pa'), 0x2222_2222);
    assert.equal(v.u32(body + FW_RSC_CARVEOUT.len, 'len'), 0x3333);
    assert.equal(v.u32(body + FW_RSC_CARVEOUT.flags, 'flags'), 0x44);
    assert.equal(v.u32(body + FW_RSC_CARVEOUT.reserved, 'reserved'), 0);
    assert.deepEqual(v.cstring(body + FW_RSC_CARVEOUT.name, 32, 'name'), { text: 'abc', terminated: true });
    assert.equal(bytes.length, body + 52);
  });

  it('writes every vdev and vring field where fw_rsc_vdev has it', () => {
    const config = Uint8Array.of(0xc0, 0xc1, 0xc2);
    const bytes = buildRscTable(
      [
        {
          kind: 'vdev',
          id: 7,
          notifyId: 9,
          dfeatures: 0xd,
          gfeatures: 0xe,
          status: 0x5,
          vrings: [
            { da: 0xa000, align: 16, num: 8, notifyId: 3, pa: 0xb000 },
            { da: 0xa100, align: 32, num: 16, notifyId: 4, pa: 0xb100 },
          ],
          config,
        },
      ],
      { endian: 'be' },
    );
    const v = new ByteView(bytes, 'be', { what: 'test table', op: 'test' });
    const body = v.u32(rscOffsetSlot(0), 'offset[0]') + FW_RSC_HDR.size;
    const V = FW_RSC_VDEV;
    assert.deepEqual(
      [V.id, V.notifyid, V.dfeatures, V.gfeatures, V.config_len].map((f) => v.u32(body + f, 'f')),
      [7, 9, 0xd, 0xe, 3],
    );
    assert.equal(v.u8(body + V.status, 'status'), 5);
    assert.equal(v.u8(body + V.num_of_vrings, 'num_of_vrings'), 2);
    assert.deepEqual([v.u8(body + V.reserved, 'r0'), v.u8(body + V.reserved + 1, 'r1')], [0, 0]);
    const R = FW_RSC_VDEV_VRING;
    const vr = (i: number): number[] =>
      [R.da, R.align, R.num, R.notifyid, R.pa].map((f) => v.u32(vringOffset(body, i) + f, 'vring'));
    assert.deepEqual(vr(0), [0xa000, 16, 8, 3, 0xb000]);
    assert.deepEqual(vr(1), [0xa100, 32, 16, 4, 0xb100]);
    assert.deepEqual(v.copy(vdevConfigOffset(body, 2), 3, 'config'), config);
    assert.equal(bytes.length, vdevConfigOffset(body, 2) + 3);
  });
});

describe('resource table constants', () => {
  it('keep the values of rsc_table.h', () => {
    assert.deepEqual(FW_RESOURCE_TYPE, {
      RSC_CARVEOUT: 0,
      RSC_DEVMEM: 1,
      RSC_TRACE: 2,
      RSC_VDEV: 3,
      RSC_LAST: 4,
      RSC_VENDOR_START: 128,
      RSC_VENDOR_END: 512,
    });
    assert.equal(FW_RSC_ADDR_ANY, 0xffff_ffff);
    assert.deepEqual([RSC_HANDLED, RSC_IGNORED], [0, 1]);
    assert.equal(RVDEV_NUM_VRINGS, 2);
    assert.equal(VIRTIO_RPMSG_F_NS, 0);
    assert.equal(VIRTIO_ID.VIRTIO_ID_RPMSG, 7);
    assert.equal(VIRTIO_ID.VIRTIO_ID_9P, 9);
    assert.equal(VIRTIO_ID.VIRTIO_ID_RPROC_SERIAL, 11);
  });

  const typeNames: readonly [number, string][] = [
    [0, 'carveout'],
    [1, 'devmem'],
    [2, 'trace'],
    [3, 'vdev'],
    [4, 'unknown (0x4)'],
    [5, 'unknown (0x5)'],
    [127, 'unknown (0x7f)'],
    [128, 'vendor (0x80)'],
    [512, 'vendor (0x200)'],
    [513, 'unknown (0x201)'],
    [0xffff_ffff, 'unknown (0xffffffff)'],
  ];
  for (const [type, name] of typeNames) {
    it(`names resource type ${type} "${name}"`, () => assert.equal(rscTypeName(type), name));
  }

  it('names virtio ids, feature bits and status bits', () => {
    assert.equal(virtioIdName(7), 'VIRTIO_ID_RPMSG');
    assert.equal(virtioIdName(3), 'VIRTIO_ID_CONSOLE');
    assert.equal(virtioIdName(14), undefined);
    assert.deepEqual(virtioFeatureNames(7, 0x1), ['VIRTIO_RPMSG_F_NS']);
    assert.deepEqual(virtioFeatureNames(1, 0x1), ['bit 0']);
    assert.deepEqual(virtioFeatureNames(7, 0x3000_0001), [
      'VIRTIO_RPMSG_F_NS',
      'VIRTIO_RING_F_INDIRECT_DESC',
      'VIRTIO_RING_F_EVENT_IDX',
    ]);
    assert.deepEqual(virtioFeatureNames(7, 0x8000_0000), ['bit 31']);
    assert.deepEqual(virtioStatusNames(0), []);
    assert.deepEqual(virtioStatusNames(0x7), ['ACKNOWLEDGE', 'DRIVER', 'DRIVER_OK']);
    assert.deepEqual(virtioStatusNames(0xb0), ['FAILED', '0x30']);
  });
});
