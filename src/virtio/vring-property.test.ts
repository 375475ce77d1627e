// Property: a driver queue and a device queue on the same memory behave like an array model under
// any sequence of adds (1–3 descriptors, random write flags, some invalid), flushes and kicks,
// device takes and returns (random used length within the writable part), publications, driver
// completions and callback toggles — FIFO order, each token back exactly once with its length,
// exact free-descriptor accounting, no violation recorded and no exception, at every index start.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { ERRNO } from '../util/errors.ts';
import { VIRTIO_RING_F_EVENT_IDX } from './vring-constants.ts';
import { BUF_SIZE, makePair } from '../../test/support/vring-fixtures.ts';

interface Part {
  readonly buf: number;
  readonly len: number;
  readonly write: boolean;
}

type Op =
  | { readonly op: 'add'; readonly parts: readonly Part[] }
  | { readonly op: 'flush' | 'kick' | 'publish' | 'get' | 'cbOff' | 'cbOn' | 'notifyOff' | 'notifyOn' }
  | { readonly op: 'take'; readonly frac: number; readonly pushNow: boolean };

interface Rec {
  readonly token: number;
  readonly parts: readonly Part[];
  readonly writable: number;
}

const POOL_BUFS = 16;

const partArb = fc.record({
  buf: fc.integer({ min: 0, max: POOL_BUFS - 1 }),
  len: fc.integer({ min: 1, max: BUF_SIZE }),
  write: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      parts: fc.array(partArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('take' as const),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
      pushNow: fc.boolean(),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constantFrom(
        'flush' as const,
        'kick' as const,
        'publish' as const,
        'cbOff' as const,
        'cbOn' as const,
        'notifyOff' as const,
        'notifyOn' as const,
      ),
    }),
  },
);

function ordered(parts: readonly Part[]): boolean {
  let sawWrite = false;
  for (const p of parts) {
    if (p.write) sawWrite = true;
    else if (sawWrite) return false;
  }
  return true;
}

function run(num: number, eventIdx: boolean, shared: boolean, startIdx: number, ops: readonly Op[]): void {
  const p = makePair<number>({
    num,
    shared,
    startIdx,
    buffers: POOL_BUFS,
    ...(eventIdx ? { features: 1 << VIRTIO_RING_F_EVENT_IDX } : {}),
  });
  let free = num;
  let nextToken = 0;
  const unpublished: Rec[] = [];
  const available: Rec[] = [];
  const held = new Map<number, Rec>(); // device head → chain
  const heldOrder: number[] = [];
  const usedUnpublished: { rec: Rec; len: number }[] = [];
  const usedPublished: { rec: Rec; len: number }[] = [];
  const returned = new Set<number>();
  const posted = new Set<number>();

  const publishUsed = (): void => {
    usedPublished.push(...usedUnpublished.splice(0));
  };
  const flush = (): void => {
    available.push(...unpublished.splice(0));
  };
  const push = (frac: number): void => {
    const head = heldOrder.shift();
    if (head === undefined) return;
    const rec = held.get(head)!;
    held.delete(head);
    const len = Math.floor(rec.writable * frac);
    assert.equal(p.device.pushUsed(head, len), 0);
    usedUnpublished.push({ rec, len });
  };
  const get = (): void => {
    const u = p.driver.getBuf();
    const want = usedPublished.shift();
    if (want === undefined) {
      assert.equal(u, undefined);
      return;
    }
    assert.deepEqual(u, { token: want.rec.token, len: want.len });
    assert.ok(!returned.has(want.rec.token), 'token returned twice');
    returned.add(want.rec.token);
    free += want.rec.parts.length;
  };

  for (const o of ops) {
    switch (o.op) {
      case 'add': {
        const token = nextToken++;
        const chain = o.parts.map((x) => ({ addr: p.addr(x.buf), len: x.len, write: x.write }));
        const rc = p.driver.addBuf(chain, token);
        const expected = !ordered(o.parts) ? -ERRNO.EINVAL : o.parts.length > free ? -ERRNO.ENOSPC : 0;
        assert.equal(rc, expected);
        if (rc === 0) {
          free -= o.parts.length;
          posted.add(token);
          const writable = o.parts.reduce((s, x) => s + (x.write ? x.len : 0), 0);
          unpublished.push({ token, parts: o.parts, writable });
        }
        break;
      }
      case 'flush':
        p.driver.flush();
        flush();
        break;
      case 'kick':
        p.driver.kick();
        flush();
        break;
      case 'take': {
        const c = p.device.getAvail();
        const want = available.shift();
        if (want === undefined) {
          assert.equal(c, undefined);
        } else {
          assert.ok(c, p.device.broken?.message);
          assert.deepEqual(
            c.buffers.map((b) => [b.addr, b.len, b.write, b.view.length]),
            want.parts.map((x) => [p.addr(x.buf), x.len, x.write, x.len]),
          );
          assert.equal(c.writable, want.writable);
          held.set(c.head, want);
          heldOrder.push(c.head);
          if (o.pushNow) push(o.frac);
        }
        if (!o.pushNow) push(o.frac);
        break;
      }
      case 'publish':
        p.device.kick();
        publishUsed();
        break;
      case 'get':
        get();
        break;
      case 'cbOff':
        p.driver.disableCb();
        break;
      case 'cbOn':
        assert.equal(p.driver.enableCb(), usedPublished.length === 0);
        break;
      case 'notifyOff':
        p.device.disableNotify();
        break;
      case 'notifyOn':
        assert.equal(p.device.enableNotify(), available.length === 0);
        break;
      default: {
        const never: never = o;
        throw new Error(`unknown op ${String(never)}`);
      }
    }
    assert.equal(p.driver.numFree, free);
    assert.equal(p.device.chainsInFlight, held.size);
    assert.equal(p.driver.broken, undefined);
    assert.equal(p.device.broken, undefined);
  }

  // drain: everything posted comes back exactly once, in order
  p.driver.kick();
  flush();
  for (;;) {
    const c = p.device.getAvail();
    if (c === undefined) break;
    const want = available.shift()!;
    held.set(c.head, want);
    heldOrder.push(c.head);
  }
  while (heldOrder.length > 0) push(1);
  p.device.kick();
  publishUsed();
  while (usedPublished.length > 0) get();
  assert.equal(p.driver.getBuf(), undefined);
  assert.deepEqual(p.driver.detachUnusedBufs(), []);
  assert.equal(p.driver.numFree, num);
  assert.deepEqual(
    [...returned].sort((a, b) => a - b),
    [...posted].sort((a, b) => a - b),
  );
}

describe('vring property', () => {
  it('driver and device agree with an array model', () => {
    checkProperty(
      'vring-model',
      fc.property(
        fc.constantFrom(1, 2, 4, 8, 16),
        fc.boolean(),
        fc.boolean(),
        fc.oneof(
          fc.constant(0),
          fc.integer({ min: 0xff80, max: 0xffff }),
          fc.integer({ min: 0, max: 0xffff }),
        ),
        fc.array(opArb, { maxLength: 300, size: 'large' }),
        (num, eventIdx, shared, startIdx, ops) => {
          run(num, eventIdx, shared, startIdx, ops);
        },
      ),
      { numRuns: 300 },
    );
  });
});
