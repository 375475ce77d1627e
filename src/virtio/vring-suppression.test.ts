// Notification suppression on both sides of a split vring, as a table over what the peer wrote:
// EVENT_IDX negotiated or not × the peer's flag word (VRING_USED_F_NO_NOTIFY for the driver's kick,
// VRING_AVAIL_F_NO_INTERRUPT for the device's interrupt) × its event index (at, one behind, one
// ahead of the new index), each row asserting the decision, the callback and the kick counters
// exactly. Then what disabling and enabling notifications write into the ring. Virtio 1.x §2.7.7
// (used buffer notification suppression), §2.7.10 (available buffer notification suppression);
// Linux drivers/virtio/virtio_ring.c virtqueue_kick_prepare_split, virtqueue_disable_cb_split,
// virtqueue_enable_cb_prepare_split; vhost's vhost_notify for the device side.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_RING_F_EVENT_IDX,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_USED_F_NO_NOTIFY,
} from './vring-constants.ts';
import { makePair, type Pair } from '../../test/support/vring-fixtures.ts';

const NUM = 8;
const EVENT_IDX = 1 << VIRTIO_RING_F_EVENT_IDX;
const NOTIFY_ON_EMPTY = 1 << VIRTIO_F_NOTIFY_ON_EMPTY;

interface Row {
  readonly eventIdx: boolean;
  /** The peer's flag word (used.flags for the driver, avail.flags for the device). */
  readonly flags: number;
  /** The peer's event index (avail_event for the driver, used_event for the device). */
  readonly event: number;
  readonly want: boolean;
}

// The side under test moves its index from 0 to 2 between two decisions: the event index "at" the
// new index is 2, one behind it 1, one ahead 3; 0 is the first new entry, 0xffff one before it.
const ROWS: readonly Row[] = [
  // Without EVENT_IDX only bit 0 of the flag word counts; the event index is not read.
  { eventIdx: false, flags: 0, event: 2, want: true },
  { eventIdx: false, flags: 0, event: 1, want: true },
  { eventIdx: false, flags: 1, event: 1, want: false },
  { eventIdx: false, flags: 1, event: 2, want: false },
  { eventIdx: false, flags: 0xfffe, event: 2, want: true },
  { eventIdx: false, flags: 0xffff, event: 1, want: false },
  // With EVENT_IDX only the event index counts; the flag word is not read.
  { eventIdx: true, flags: 0, event: 0, want: true },
  { eventIdx: true, flags: 0, event: 1, want: true },
  { eventIdx: true, flags: 0, event: 2, want: false },
  { eventIdx: true, flags: 0, event: 3, want: false },
  { eventIdx: true, flags: 0, event: 0xffff, want: false },
  { eventIdx: true, flags: 1, event: 1, want: true },
  { eventIdx: true, flags: 1, event: 0, want: true },
  { eventIdx: true, flags: 0xffff, event: 2, want: false },
];

function name(row: Row, flag: string, event: string): string {
  return `${row.eventIdx ? 'EVENT_IDX' : 'no EVENT_IDX'}, ${flag} ${row.flags.toString(16)}, ${event} ${row.event}: ${row.want ? 'notifies' : 'suppressed'}`;
}

/** A pair whose driver counts its kicks and whose device counts its interrupts. */
function counted(features: number): { p: Pair<number>; kicks: () => number; interrupts: () => number } {
  let kicks = 0;
  let interrupts = 0;
  const p = makePair<number>({
    num: NUM,
    features,
    driverNotify: () => kicks++,
    deviceNotify: () => interrupts++,
  });
  return { p, kicks: () => kicks, interrupts: () => interrupts };
}

describe('vring driver: whether a kick goes out', () => {
  for (const row of ROWS) {
    it(name(row, 'used.flags', 'avail_event'), () => {
      const { p, kicks } = counted(row.eventIdx ? EVENT_IDX : 0);
      p.raw.usedFlags = row.flags;
      p.raw.availEvent = row.event;
      assert.equal(p.driver.addInbuf(p.addr(0), 64, 0), 0);
      assert.equal(p.driver.addInbuf(p.addr(1), 64, 1), 0);
      assert.equal(p.driver.kick(), row.want);
      assert.equal(p.raw.availIdx, 2, 'published before the decision');
      assert.equal(kicks(), row.want ? 1 : 0);
      assert.deepEqual([p.driver.stats.kicks, p.driver.stats.kicksSuppressed], row.want ? [1, 0] : [0, 1]);
    });
  }

  it('a second decision with nothing added: EVENT_IDX never kicks, the flag word alone still does', () => {
    for (const [eventIdx, want] of [
      [true, false],
      [false, true],
    ] as const) {
      const { p, kicks } = counted(eventIdx ? EVENT_IDX : 0);
      p.raw.availEvent = 0;
      p.driver.addInbuf(p.addr(0), 64, 0);
      assert.equal(p.driver.kick(), true);
      // avail_event 0 still names the first entry of the first batch, which is not new any more.
      assert.equal(p.driver.kick(), want);
      assert.equal(kicks(), want ? 2 : 1);
      assert.deepEqual([p.driver.stats.kicks, p.driver.stats.kicksSuppressed], want ? [2, 0] : [1, 1]);
    }
  });

  it('a broken driver neither kicks nor counts a decision', () => {
    const { p, kicks } = counted(0);
    p.driver.addInbuf(p.addr(0), 64, 0);
    p.driver.flush();
    p.raw.usedIdx = NUM + 1; // runs ahead of what is in flight
    assert.equal(p.driver.takeUsed(), undefined);
    assert.notEqual(p.driver.broken, undefined);
    assert.equal(p.driver.kick(), false);
    assert.equal(kicks(), 0);
    assert.deepEqual([p.driver.stats.kicks, p.driver.stats.kicksSuppressed], [0, 0]);
  });
});

/** The device took `taken` of `posted` chains and returned them all. */
function deviceUsed(features: number, posted: number, taken: number) {
  const c = counted(features);
  const { p } = c;
  for (let i = 0; i < posted; i++) assert.equal(p.driver.addInbuf(p.addr(i), 64, i), 0);
  p.driver.flush();
  const heads: number[] = [];
  for (let i = 0; i < taken; i++) {
    const chain = p.device.getAvail();
    assert.ok(chain !== undefined);
    heads.push(chain.head);
  }
  for (const h of heads) assert.equal(p.device.pushUsed(h, 0), 0);
  return c;
}

describe('vring device: whether the driver is interrupted', () => {
  for (const row of ROWS) {
    it(name(row, 'avail.flags', 'used_event'), () => {
      const { p, interrupts } = deviceUsed(row.eventIdx ? EVENT_IDX : 0, 3, 2);
      p.raw.availFlags = row.flags;
      p.raw.usedEvent = row.event;
      assert.equal(p.device.kick(), row.want);
      assert.equal(p.raw.usedIdx, 2, 'published before the decision');
      assert.equal(interrupts(), row.want ? 1 : 0);
      assert.deepEqual([p.device.stats.kicks, p.device.stats.kicksSuppressed], row.want ? [1, 0] : [0, 1]);
    });
  }

  // [what the device took of what was posted, used entries pushed, whether it interrupts]: with
  // NOTIFY_ON_EMPTY and NO_INTERRUPT set, only running out of entries after using some overrides it.
  const empty: readonly [string, number, number, boolean, boolean][] = [
    ['took all 2 posted, used 2', 2, 2, true, true],
    ['took 2 of 3 posted', 3, 2, true, false],
    ['took all 2 posted, used 2, no NOTIFY_ON_EMPTY', 2, 2, false, false],
    ['nothing posted, nothing used', 0, 0, true, false],
  ];
  for (const [what, posted, taken, onEmpty, want] of empty) {
    it(`NO_INTERRUPT set, ${what}: ${want ? 'interrupts' : 'suppressed'}`, () => {
      const { p, interrupts } = deviceUsed(onEmpty ? NOTIFY_ON_EMPTY : 0, posted, taken);
      p.raw.availFlags = VRING_AVAIL_F_NO_INTERRUPT;
      assert.equal(p.device.kick(), want);
      assert.equal(interrupts(), want ? 1 : 0);
      assert.deepEqual([p.device.stats.kicks, p.device.stats.kicksSuppressed], want ? [1, 0] : [0, 1]);
    });
  }

  it('NOTIFY_ON_EMPTY with EVENT_IDX: a used_event not reached is overridden once the ring is empty', () => {
    const { p, interrupts } = deviceUsed(EVENT_IDX | NOTIFY_ON_EMPTY, 2, 2);
    p.raw.usedEvent = 5;
    assert.equal(p.device.kick(), true);
    assert.equal(interrupts(), 1);
    // Nothing used since: the override needs used entries.
    assert.equal(p.device.kick(), false);
    assert.deepEqual([p.device.stats.kicks, p.device.stats.kicksSuppressed], [1, 1]);
  });

  it('a second decision with nothing used: EVENT_IDX never interrupts, the flag word alone still does', () => {
    for (const [eventIdx, want] of [
      [true, false],
      [false, true],
    ] as const) {
      const { p } = deviceUsed(eventIdx ? EVENT_IDX : 0, 2, 1);
      p.raw.usedEvent = 0;
      assert.equal(p.device.kick(), true);
      assert.equal(p.device.kick(), want);
      assert.deepEqual([p.device.stats.kicks, p.device.stats.kicksSuppressed], want ? [2, 0] : [1, 1]);
    }
  });
});

describe('a whole index cycle between two decisions', () => {
  // 65536 chains round trip without a decision in between: the new index equals the old one again,
  // so the event test alone would say "nothing new"; both sides notify instead.
  const CYCLE = 0x10000;
  it('the driver kicks and the device interrupts after 2^16 entries, whatever the event indices say', () => {
    const { p, kicks, interrupts } = counted(EVENT_IDX);
    for (let i = 0; i < CYCLE; i++) {
      assert.equal(p.driver.addInbuf(p.addr(0), 64, i), 0);
      p.driver.flush();
      const chain = p.device.getAvail();
      assert.ok(chain !== undefined);
      assert.equal(p.device.pushUsed(chain.head, 0), 0);
      p.device.publishUsed();
      assert.equal(p.driver.takeUsed(), i);
    }
    p.raw.availEvent = 0;
    p.raw.usedEvent = 0;
    assert.equal(p.driver.kick(), true);
    assert.equal(p.device.kick(), true);
    assert.deepEqual([kicks(), interrupts()], [1, 1]);
  });
});

describe('what disabling and enabling notifications writes into the ring', () => {
  it('driver without EVENT_IDX: NO_INTERRUPT in avail.flags, written once per change', () => {
    const p = makePair<number>({ num: NUM });
    p.driver.disableCb();
    assert.equal(p.raw.availFlags, VRING_AVAIL_F_NO_INTERRUPT);
    // Already disabled: nothing is written again (the word is left as it is).
    p.raw.availFlags = 0;
    p.driver.disableCb();
    assert.equal(p.raw.availFlags, 0);
    p.raw.availFlags = VRING_AVAIL_F_NO_INTERRUPT;
    assert.equal(p.driver.enableCb(), true);
    assert.equal(p.raw.availFlags, 0);
    p.raw.availFlags = 0x8000;
    assert.equal(p.driver.enableCb(), true);
    assert.equal(p.raw.availFlags, 0x8000, 'already enabled: nothing written');
    assert.equal(p.raw.usedEvent, 0, 'used_event is not touched');
  });

  it('driver with EVENT_IDX: used_event one behind to disable, at the next entry to enable; avail.flags untouched', () => {
    const p = makePair<number>({ num: NUM, features: EVENT_IDX });
    p.driver.addInbuf(p.addr(0), 64, 0);
    p.driver.addInbuf(p.addr(1), 64, 1);
    p.driver.flush();
    p.driver.disableCb();
    assert.equal(p.raw.usedEvent, 0xffff);
    p.raw.pushUsedRaw(0, 1);
    // Taking an entry with interrupts off leaves used_event alone.
    assert.equal(p.driver.takeUsed(), 0);
    assert.equal(p.raw.usedEvent, 0xffff);
    assert.equal(p.driver.enableCb(), true);
    assert.equal(p.raw.usedEvent, 1);
    // With interrupts on, taking an entry asks for the one after it.
    p.raw.pushUsedRaw(1, 1);
    assert.equal(p.driver.takeUsed(), 1);
    assert.equal(p.raw.usedEvent, 2);
    assert.equal(p.raw.availFlags, 0);
  });

  it('driver: enableCb says whether used entries arrived meanwhile', () => {
    for (const eventIdx of [false, true]) {
      const p = makePair<number>({ num: NUM, features: eventIdx ? EVENT_IDX : 0 });
      p.driver.addInbuf(p.addr(0), 64, 0);
      p.driver.flush();
      p.driver.disableCb();
      p.raw.pushUsedRaw(0, 1);
      assert.equal(p.driver.enableCb(), false, `EVENT_IDX ${String(eventIdx)}`);
      assert.equal(p.driver.takeUsed(), 0);
    }
  });

  it('driver: enableCbDelayed without EVENT_IDX is enableCb; with it, used_event at 3/4 of what is in flight', () => {
    const plain = makePair<number>({ num: NUM });
    plain.driver.disableCb();
    assert.equal(plain.driver.enableCbDelayed(), true);
    assert.deepEqual([plain.raw.availFlags, plain.raw.usedEvent], [0, 0]);

    const p = makePair<number>({ num: NUM, features: EVENT_IDX });
    for (let i = 0; i < 2; i++) p.driver.addInbuf(p.addr(i), 64, i);
    p.driver.flush();
    p.raw.pushUsedRaw(0, 1);
    p.raw.pushUsedRaw(1, 1);
    assert.equal(p.driver.takeUsed(), 0);
    assert.equal(p.driver.takeUsed(), 1);
    for (let i = 2; i < 6; i++) p.driver.addInbuf(p.addr(i), 64, i);
    p.driver.flush();
    p.driver.disableCb();
    // 4 in flight from used index 2: the event at 2 + 3.
    assert.equal(p.driver.enableCbDelayed(), true);
    assert.equal(p.raw.usedEvent, 5);
    // Interrupts are on again: taking an entry asks for the next one, and disabling writes.
    p.raw.pushUsedRaw(2, 1); // descriptor 2 heads one of the chains in flight
    assert.notEqual(p.driver.takeUsed(), undefined);
    assert.equal(p.raw.usedEvent, 3);
    p.driver.disableCb();
    assert.equal(p.raw.usedEvent, 2);
  });

  it('device without EVENT_IDX: NO_NOTIFY in used.flags, written once per change', () => {
    const p = makePair<number>({ num: NUM });
    p.device.disableNotify();
    assert.equal(p.raw.usedFlags, VRING_USED_F_NO_NOTIFY);
    // Already set in the device's own copy: nothing is written again.
    p.raw.usedFlags = 0;
    p.device.disableNotify();
    assert.equal(p.raw.usedFlags, 0);
    assert.equal(p.device.enableNotify(), true);
    assert.equal(p.raw.usedFlags, 0);
    p.device.disableNotify();
    assert.equal(p.raw.usedFlags, VRING_USED_F_NO_NOTIFY);
    assert.equal(p.device.enableNotify(), true);
    // Already enabled: nothing is written (whatever the word holds now stays).
    p.raw.usedFlags = 0x8000;
    assert.equal(p.device.enableNotify(), true);
    assert.equal(p.raw.usedFlags, 0x8000);
    assert.equal(p.raw.availEvent, 0, 'avail_event is not touched');
  });

  it('device with EVENT_IDX: disabling writes nothing; enabling puts avail_event at the next entry', () => {
    const p = makePair<number>({ num: NUM, features: EVENT_IDX });
    p.driver.addInbuf(p.addr(0), 64, 0);
    p.driver.addInbuf(p.addr(1), 64, 1);
    p.driver.flush();
    p.device.disableNotify();
    assert.equal(p.raw.usedFlags, 0);
    assert.equal(p.raw.availEvent, 0);
    // Taking a chain with notifications off leaves avail_event alone.
    assert.ok(p.device.getAvail() !== undefined);
    assert.equal(p.raw.availEvent, 0);
    // One entry still pending: enabling says so.
    assert.equal(p.device.enableNotify(), false);
    assert.equal(p.raw.availEvent, 1);
    // With notifications on, taking a chain asks for the entry after it.
    assert.ok(p.device.getAvail() !== undefined);
    assert.equal(p.raw.availEvent, 2);
    assert.equal(p.device.enableNotify(), true);
  });
});
