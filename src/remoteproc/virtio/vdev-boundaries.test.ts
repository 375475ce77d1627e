// Every check the device side of a vdev makes on a value the host writes into the live table
// (vring da, notify ids, the geometry it may overwrite, the status byte) or that locates the table,
// pinned at its boundary: the last value a check accepts builds the queues, the first value it
// refuses gives exactly that check's reason. Far-out values are in vdev-rings.test.ts and
// vdev-device-session.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocError } from '../../util/errors.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED } from '../../virtio/virtio-device.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import { FW_RSC_VDEV, vringOffset } from '../../rsc/rsc-layout.ts';
import { buildRscTable } from '../../rsc/rsc-build.ts';
import { LiveVdevFields, findVdev } from './vdev-locate.ts';
import { mapVdevRings, type VdevQueues } from './vdev-rings.ts';
import { VdevDeviceSession } from './vdev-device-session.ts';
import {
  BASE,
  MEM_SIZE,
  NUM,
  V0_DA,
  V1_DA,
  VDEV_ID,
  VdevBench,
} from '../../../test/support/vdev-fixtures.ts';

/**
 * Rings aligned to 2 bytes, 428 bytes long: a ring can then end exactly where memory or another ring
 * begins (ring memory itself must still start 4-byte aligned, so steps below are 4 bytes).
 */
const SMALL_ALIGN = 2;
const STEP = 4;
const SMALL = vringSize(NUM, SMALL_ALIGN);

function smallBench(): VdevBench {
  return new VdevBench({
    vrings: [
      { num: NUM, align: SMALL_ALIGN },
      { num: NUM, align: SMALL_ALIGN },
    ],
  });
}

function map(b: VdevBench, translate = b.translate): VdevQueues | string {
  return mapVdevRings({
    live: new LiveVdevFields(b.table, b.location),
    location: b.location,
    table: b.table,
    name: 'dev',
    labels: ['vring0 (a)', 'vring1 (b)'],
    memoryName: 'the test memory',
    supported: 0xffff_ffff,
    translate,
    translateBus: b.translate,
  });
}

function refusal(got: VdevQueues | string): string {
  assert.ok(typeof got === 'string', 'refused');
  return got;
}

interface Boundary {
  readonly check: string;
  readonly bench?: () => VdevBench;
  /** What the host writes (after placing both rings as Linux does). */
  readonly lastValid: (b: VdevBench) => void;
  readonly firstInvalid: (b: VdevBench) => void;
  readonly refused: string;
}

/** The last 4-aligned address at which a small ring still ends inside memory. */
const TOP = (BASE + MEM_SIZE - SMALL) & ~3;

const BOUNDARIES: readonly Boundary[] = [
  {
    check: 'ring memory 4-byte aligned (the queue maps it as u16/u32 words)',
    bench: smallBench,
    lastValid: (b) => b.poke(0, 'da', V0_DA + STEP),
    firstInvalid: (b) => b.poke(0, 'da', V0_DA + SMALL_ALIGN),
    refused: `vring0 at da 0x${(V0_DA + SMALL_ALIGN).toString(16)}: EINVAL: dev vring0 (a): ring memory at byte offset 0x${(V0_DA + SMALL_ALIGN - BASE).toString(16)} is not 4-byte aligned`,
  },
  {
    check: 'vring da aligned to the vring align',
    lastValid: (b) => b.poke(1, 'da', V1_DA),
    firstInvalid: (b) => b.poke(1, 'da', V1_DA + 1),
    refused: 'vring1 da 0x7001 is not aligned to its align 0x1000',
  },
  {
    check: 'vring da aligned, just below the next boundary',
    lastValid: (b) => b.poke(0, 'da', V0_DA),
    firstInvalid: (b) => b.poke(0, 'da', V0_DA - 1),
    refused: 'vring0 da 0x3fff is not aligned to its align 0x1000',
  },
  {
    check: 'the ring ends inside the memory the device sees',
    bench: smallBench,
    lastValid: (b) => b.poke(1, 'da', TOP),
    firstInvalid: (b) => b.poke(1, 'da', TOP + STEP),
    refused: `vring1 at da 0x${(TOP + STEP).toString(16)} (0x${SMALL.toString(16)} bytes for num 16, align 2) is outside the test memory`,
  },
  {
    check: 'the ring starts inside the memory the device sees',
    bench: smallBench,
    lastValid: (b) => b.poke(0, 'da', BASE + b.table.length),
    firstInvalid: (b) => b.poke(0, 'da', BASE - STEP),
    refused: 'vring0 at da 0xffc (0x1ac bytes for num 16, align 2) is outside the test memory',
  },
  {
    check: 'vring num as the firmware wrote it',
    lastValid: (b) => b.poke(0, 'num', NUM),
    firstInvalid: (b) => b.poke(0, 'num', NUM + 1),
    refused: "vring0 num/align 0x11/0x1000 differ from the firmware's 0x10/0x1000",
  },
  {
    check: 'vring align as the firmware wrote it',
    lastValid: (b) => b.poke(1, 'align', 0x1000),
    firstInvalid: (b) => b.poke(1, 'align', 0xfff),
    refused: "vring1 num/align 0x10/0xfff differ from the firmware's 0x10/0x1000",
  },
  {
    check: 'notify id below 0xffffffff (the freed marker)',
    lastValid: (b) => b.poke(1, 'notifyid', 0xffff_fffe),
    firstInvalid: (b) => b.poke(1, 'notifyid', 0xffff_ffff),
    refused: 'vring1 notifyid is 0xffffffff (unassigned)',
  },
  {
    check: 'vring0 and vring1 have different notify ids',
    lastValid: (b) => b.poke(1, 'notifyid', 1),
    firstInvalid: (b) => b.poke(1, 'notifyid', 2),
    refused: 'vring0 and vring1 have the same notify id 0x2',
  },
  {
    check: 'vring1 starts at or after the end of vring0',
    bench: smallBench,
    lastValid: (b) => b.poke(1, 'da', V0_DA + SMALL),
    firstInvalid: (b) => b.poke(1, 'da', V0_DA + SMALL - STEP),
    refused: 'vring0 and vring1 overlap',
  },
  {
    check: 'vring0 ends at or before the start of vring1',
    bench: smallBench,
    lastValid: (b) => b.poke(0, 'da', V1_DA - SMALL),
    firstInvalid: (b) => b.poke(0, 'da', V1_DA - SMALL + STEP),
    refused: 'vring0 and vring1 overlap',
  },
  {
    check: 'a vring starts at or after the end of the resource table',
    bench: smallBench,
    lastValid: (b) => b.poke(0, 'da', BASE + b.table.length),
    firstInvalid: (b) => b.poke(0, 'da', BASE + b.table.length - STEP),
    refused: 'a vring overlaps the resource table',
  },
  {
    check: 'vring1 does not overlap the resource table either',
    bench: smallBench,
    lastValid: (b) => b.poke(1, 'da', BASE + b.table.length),
    firstInvalid: (b) => b.poke(1, 'da', BASE + b.table.length - STEP),
    refused: 'a vring overlaps the resource table',
  },
];

describe('device side: every check on the host’s vring setup at its boundary', () => {
  for (const bd of BOUNDARIES) {
    it(`${bd.check}: last valid builds the queues, first invalid is refused`, () => {
      const ok = (bd.bench ?? (() => new VdevBench()))();
      ok.place();
      bd.lastValid(ok);
      const built = map(ok);
      assert.ok(typeof built !== 'string', typeof built === 'string' ? built : '');
      const bad = (bd.bench ?? (() => new VdevBench()))();
      bad.place();
      bd.firstInvalid(bad);
      assert.equal(map(bad), bd.refused);
    });
  }

  it('a translator giving exactly the ring size is used; one byte short is unmapped', () => {
    const b = new VdevBench();
    b.place();
    const size = vringSize(NUM, 0x1000);
    assert.ok(typeof map(b, (da, len) => b.translate(da, len)) !== 'string');
    assert.match(
      refusal(map(b, (da, len) => b.translate(da, len)?.subarray(0, size - 1))),
      /^vring0 at da 0x4000 .* is outside the test memory$/,
    );
  });

  it('gfeatures is masked by dfeatures and what the device supports, bit for bit', () => {
    const b = new VdevBench({ dfeatures: 0x8000_0001 });
    b.place({ gfeatures: 0xffff_ffff });
    const got = map(b);
    assert.ok(typeof got !== 'string');
    assert.equal(got.features, 0x8000_0001);
  });
});

describe('locating the vdev entry at its boundaries', () => {
  it('entry index: the last matching entry is found, one more is ENODEV, a negative or fractional index EINVAL', () => {
    const b = new VdevBench();
    assert.equal(findVdev(b.table, { ids: [VDEV_ID], index: 0 }).id, VDEV_ID);
    assert.throws(
      () => findVdev(b.table, { ids: [VDEV_ID], index: 1 }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'ENODEV' &&
        /has 1 vdev entries \(id 11\), no entry 1$/.test(e.detail),
    );
    for (const index of [-1, 0.5]) {
      assert.throws(
        () => findVdev(b.table, { ids: [VDEV_ID], index }),
        (e: unknown) =>
          e instanceof RprocError &&
          e.code === 'EINVAL' &&
          e.detail === `vdev index ${String(index)} is not a non-negative integer`,
      );
    }
  });

  it('two vrings are found; one is EINVAL at num_of_vrings', () => {
    const b = new VdevBench();
    assert.equal(findVdev(b.table, { ids: [VDEV_ID] }).numOfVrings, 2);
    const one = buildRscTable([{ kind: 'vdev', id: VDEV_ID, vrings: [{ num: NUM, align: 0x1000 }] }]);
    assert.throws(
      () => findVdev(one, { ids: [VDEV_ID] }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'EINVAL' &&
        /declares 1 vrings; it needs 2$/.test(e.detail) &&
        // The field itself: the entry at 0x18 (buildRscTable aligns it to 8), its body after the
        // type word, num_of_vrings at its place in struct fw_rsc_vdev.
        e.detail.startsWith('vdev (resource entry 0 at offset 0x18)') &&
        e.offset === 0x18 + 4 + FW_RSC_VDEV.num_of_vrings,
    );
  });

  it('a vring with geometry a split ring cannot use is EINVAL at that vring', () => {
    const good = { num: NUM, align: 0x1000 };
    const bad = { num: NUM, align: 24 };
    for (const [i, vrings] of [
      [0, [bad, good]],
      [1, [good, bad]],
    ] as const) {
      const table = buildRscTable([{ kind: 'vdev', id: VDEV_ID, vrings: [...vrings] }]);
      assert.throws(
        () => findVdev(table, { ids: [VDEV_ID] }),
        (e: unknown) =>
          e instanceof RprocError &&
          e.code === 'EINVAL' &&
          e.detail ===
            `vdev (resource entry 0 at offset 0x18) vring ${i}: vring align 24 is not a power of two` &&
          // The vring's own fw_rsc_vdev_vring, after the entry's type word and fixed part.
          e.offset === vringOffset(0x18 + 4, i),
      );
    }
  });

  it('vring geometry: num 32768 is a ring, a num the table layer cannot refuse here is checked again', () => {
    const big = new VdevBench({
      vrings: [
        { num: 0x8000, align: 4 },
        { num: 1, align: 1 },
      ],
    });
    assert.deepEqual(
      big.location.vrings.map((v) => [v.num, v.align]),
      [
        [0x8000, 4],
        [1, 1],
      ],
    );
  });

  it('the live view must hold the fixed part and both vrings: exactly is enough, one byte less throws', () => {
    const b = new VdevBench();
    const end = b.location.bodyOffset + vringOffset(0, 2);
    assert.equal(new LiveVdevFields(b.table.subarray(0, end), b.location).vring(1).num, NUM);
    assert.throws(() => new LiveVdevFields(b.table.subarray(0, end - 1), b.location), RprocError);
  });

  it('live fields are read at the offsets fixed at parse time', () => {
    const b = new VdevBench();
    b.place({ da0: 0x5000, id1: 9, gfeatures: 0x1234_5678 });
    b.status(0x0f);
    const live = new LiveVdevFields(b.table, b.location);
    assert.equal(live.status(), 0x0f);
    assert.equal(live.gfeatures(), 0x1234_5678);
    assert.deepEqual(live.vring(0), { da: 0x5000, align: 0x1000, num: NUM, notifyId: 2 });
    assert.equal(live.vring(1).notifyId, 9);
    assert.equal(b.table[b.location.bodyOffset + FW_RSC_VDEV.status], 0x0f);
  });
});

describe('the device session at its boundaries', () => {
  const session = (b: VdevBench, table: { da: number; size: number } | Uint8Array) =>
    new VdevDeviceSession<VdevQueues>({
      name: 'dev',
      op: 'test-device',
      device: { table, translate: b.translate, notify: () => undefined },
      locate: (t) => findVdev(t, { ids: [VDEV_ID] }),
      entryName: 'test vdev entry',
      supported: 0xffff_ffff,
      labels: ['vring0 (a)', 'vring1 (b)'],
      memoryName: 'the test memory',
      stats: {
        handshakes: 0,
        resets: 0,
        configErrors: 0,
        queueErrors: 0,
        callbackErrors: 0,
        kicks: 0,
        kicksSuppressed: 0,
        internalErrors: 0,
      },
      exclusiveBatches: false,
      role: { open: (q) => q, work: () => 0, arm: () => true, dropped: () => undefined },
    });

  it('table size: 1 byte is a size (then no table), 0 is EINVAL; a table ending at the memory end is found, one byte more is EFAULT', () => {
    const b = new VdevBench();
    assert.throws(
      () => session(b, { da: BASE, size: 0 }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'EINVAL' &&
        e.detail === 'resource table size 0 is not a positive integer',
    );
    assert.throws(
      () => session(b, { da: BASE, size: 1 }),
      (e: unknown) => e instanceof RprocError && e.code === 'ENODEV',
    );
    assert.throws(
      () => session(b, { da: BASE + MEM_SIZE - 16, size: 17 }),
      (e: unknown) =>
        e instanceof RprocError &&
        e.code === 'EFAULT' &&
        e.detail === 'resource table at da 0x10ff0 (0x11 bytes) is outside the test memory map',
    );
    assert.equal(session(b, { da: BASE, size: b.table.length }).state, 'wait-driver-ok');
  });

  it('the host is up when DRIVER_OK is set and FAILED clear, whatever the other bits', () => {
    const b = new VdevBench();
    b.place();
    const s = session(b, b.table);
    for (const [status, up] of [
      [VIRTIO_CONFIG_S_DRIVER_OK, true],
      [0xff & ~VIRTIO_CONFIG_S_FAILED, true],
      [0xff & ~VIRTIO_CONFIG_S_DRIVER_OK, false],
      [VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED, false],
      [0, false],
    ] as const) {
      b.status(status);
      assert.equal(s.hostUp(), up, `status ${status.toString(16)}`);
    }
  });
});
