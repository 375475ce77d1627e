// Ring-level malformed-input cases (TC-V03 of docs/malformed-input-cases.md and virtio_ring.c's defences, plus the device
// side's mirror image): a remote writing garbage into the used ring, or a driver writing garbage
// into the avail ring and descriptors. Each must end with no exception, no hang, the queue marked
// broken (driver) / the chain refused (device) with a reason that names the bad value in hex, and
// no token handed back twice. Two fuzz properties then scribble at random over the peer's words.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { ERRNO } from '../util/errors.ts';
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
} from './vring-constants.ts';
import { POOL_BASE, makePair, type Pair } from '../../test/support/vring-fixtures.ts';

const BOUNDED = { timeout: 5000 };

/** A driver with `n` single-buffer RX chains posted (tokens 'b0'..), published. */
function posted(n: number, num = 16, chainLen = 1): Pair<string> {
  const p = makePair<string>({ num });
  for (let i = 0; i < n; i++) {
    const chain = Array.from({ length: chainLen }, (_, k) => ({ addr: p.addr(i), len: 64 + k, write: true }));
    assert.equal(p.driver.addBuf(chain, `b${i}`), 0);
  }
  p.driver.kick();
  return p;
}

/** After a violation: getBuf stays undefined (bounded), adds fail, and every token comes back once. */
function assertBrokenForever(
  p: Pair<string>,
  returnedBefore: readonly string[],
  allTokens: readonly string[],
): void {
  for (let i = 0; i < 1000; i++) assert.equal(p.driver.getBuf(), undefined);
  assert.equal(p.driver.moreUsed(), false);
  assert.equal(p.driver.kickPrepare(), false);
  assert.equal(p.driver.addInbuf(p.addr(0), 8, 'late'), -ERRNO.EIO);
  assert.equal(p.driver.stats.violations, 1);
  const detached = p.driver.detachUnusedBufs();
  const all = [...returnedBefore, ...detached].sort();
  assert.deepEqual(all, [...allTokens].sort(), 'each token exactly once through getBuf or detach');
  assert.equal(p.driver.numFree, p.driver.num);
}

const tokens = (n: number): string[] => Array.from({ length: n }, (_, i) => `b${i}`);

describe('hostile device → driver (used ring)', BOUNDED, () => {
  it('TC-V03a used.idx advanced by more than num marks the queue broken', () => {
    const p = posted(4);
    p.raw.usedIdx = 17;
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(
      p.driver.broken?.message ?? '',
      /used\.idx 0x11 runs 17 entries ahead .* more than the ring's 16/,
    );
    assertBrokenForever(p, [], tokens(4));
  });

  it('TC-V03a′ used.idx ahead by more than the buffers in flight (but ≤ num) marks it broken', () => {
    const p = posted(2);
    p.raw.pushUsedRaw(0, 1);
    p.raw.pushUsedRaw(1, 1);
    p.raw.pushUsedRaw(2, 1);
    assert.equal(p.driver.moreUsed(), false);
    assert.match(
      p.driver.broken?.message ?? '',
      /used\.idx 0x3 runs 3 entries ahead .* only 2 buffers are in flight/,
    );
    assertBrokenForever(p, [], tokens(2));
  });

  it('TC-V03a″ used.idx moving backwards is a jump of 65535 entries', () => {
    const p = posted(4);
    p.raw.pushUsedRaw(0, 8);
    assert.equal(p.driver.getBuf()?.token, 'b0');
    p.raw.usedIdx = 0;
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(
      p.driver.broken?.message ?? '',
      /used\.idx 0x0 runs 65535 entries ahead of the last consumed 0x1/,
    );
    assertBrokenForever(p, ['b0'], tokens(4));
  });

  it('TC-V03b used id ≥ num marks the queue broken', () => {
    const p = posted(4);
    p.raw.pushUsedRaw(0x1ff, 8);
    assert.equal(p.driver.getBuf(), undefined);
    assert.equal(
      p.driver.broken?.detail,
      'test-vq: used ring entry 0 names descriptor 0x1ff, but the ring has 16',
    );
    assertBrokenForever(p, [], tokens(4));
  });

  it('TC-V03b′ used id 0xffffffff (u32 max) marks the queue broken', () => {
    const p = posted(1);
    p.raw.pushUsedRaw(0xffff_ffff, 8);
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(p.driver.broken?.message ?? '', /descriptor 0xffffffff, but the ring has 16/);
    assertBrokenForever(p, [], tokens(1));
  });

  it('TC-V03c used id that is not the head of a chain in flight (a middle descriptor) marks it broken', () => {
    const p = posted(2, 16, 3); // chains 0→1→2 and 3→4→5
    p.raw.pushUsedRaw(1, 8);
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(
      p.driver.broken?.message ?? '',
      /used ring entry 0 names descriptor 0x1, which is not the head of a buffer in flight/,
    );
    assertBrokenForever(p, [], tokens(2));
  });

  it('TC-V03c′ used id naming a free descriptor marks it broken', () => {
    const p = posted(2);
    p.raw.pushUsedRaw(9, 8);
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(p.driver.broken?.message ?? '', /descriptor 0x9, which is not the head/);
    assertBrokenForever(p, [], tokens(2));
  });

  it('used id returned twice: the second is refused, the token is not handed back twice', () => {
    const p = posted(3);
    p.raw.pushUsedRaw(0, 8);
    p.raw.pushUsedRaw(0, 8);
    assert.deepEqual(p.driver.getBuf(), { token: 'b0', len: 8 });
    assert.equal(p.driver.getBuf(), undefined);
    assert.match(
      p.driver.broken?.message ?? '',
      /used ring entry 1 names descriptor 0x0, which is not the head/,
    );
    assertBrokenForever(p, ['b0'], tokens(3));
  });

  it('used.len greater than the writable length is clamped and counted, not trusted', () => {
    const p = posted(2); // writable 64 each
    p.raw.pushUsedRaw(0, 0x1000);
    p.raw.pushUsedRaw(1, 0xffff_ffff);
    assert.deepEqual(p.driver.getBuf(), { token: 'b0', len: 64 });
    assert.deepEqual(p.driver.getBuf(), { token: 'b1', len: 64 });
    assert.equal(p.driver.stats.lenClamped, 2);
    assert.match(
      p.driver.lastWarning ?? '',
      /reports 0xffffffff bytes written into chain 0x1, whose device-writable length is 0x40; clamped/,
    );
    assert.equal(p.driver.broken, undefined);
    assert.equal(p.driver.numFree, 16);
  });

  it('used.len on a device-readable chain reads as 0 (OpenAMP reports desc.len there) and is not a violation', () => {
    const p = makePair<string>({ num: 4 });
    p.driver.addOutbuf(p.addr(0), 100, 'tx');
    p.driver.kick();
    p.raw.pushUsedRaw(0, 100);
    assert.deepEqual(p.driver.getBuf(), { token: 'tx', len: 0 });
    assert.equal(p.driver.stats.lenClamped, 0);
  });

  it('descriptors rewritten by the device after posting do not change what is freed', () => {
    const p = posted(2, 8, 3); // chains 0→1→2, 3→4→5; 2 free
    for (let d = 0; d < 8; d++) p.raw.setDesc(d, { addr: 0xdeadn, len: 0xffff_ffff, flags: 0xffff, next: 7 });
    p.raw.pushUsedRaw(3, 1);
    assert.equal(p.driver.getBuf()?.token, 'b1');
    assert.equal(p.driver.numFree, 5);
    // the freed descriptors make a fresh, correct chain again
    assert.equal(
      p.driver.addBuf(
        [
          { addr: p.addr(7), len: 9, write: false },
          { addr: p.addr(8), len: 10, write: true },
        ],
        'c',
      ),
      0,
    );
    assert.equal(p.driver.numFree, 3);
    assert.equal(p.driver.broken, undefined);
  });

  it('a flood of used.idx bumps from a device that posts nothing stays bounded', () => {
    const p = posted(16);
    for (let i = 0; i < 100_000; i++) {
      p.raw.usedIdx = i & 0xffff;
      p.driver.getBuf();
    }
    assert.notEqual(p.driver.broken, undefined);
    assert.equal(p.driver.stats.violations, 1);
  });
});

describe('hostile driver → device (avail ring, descriptors)', BOUNDED, () => {
  /** A device whose ring a hostile driver writes by hand. */
  function device(num = 16, features = 0): Pair<string> {
    return makePair<string>({ num, features });
  }

  function refused(p: Pair<string>, pattern: RegExp): void {
    assert.equal(p.device.getAvail(), undefined);
    assert.match(p.device.broken?.message ?? '', pattern);
    for (let i = 0; i < 1000; i++) assert.equal(p.device.getAvail(), undefined);
    assert.equal(p.device.availCount(), 0);
    assert.equal(p.device.stats.rejected, 1);
    assert.equal(p.device.chainsInFlight, 0);
    assert.equal(p.raw.usedIdx, 0, 'nothing was returned for a refused chain');
  }

  const good = (p: Pair<string>, d: number, i = d): void =>
    p.raw.setDesc(d, { addr: p.addr(i), len: 64, flags: VRING_DESC_F_WRITE, next: 0 });

  it('avail.idx jumping by more than num is refused', () => {
    const p = device();
    good(p, 0);
    p.raw.availIdx = 0x8000;
    refused(p, /avail\.idx 0x8000 runs 32768 entries ahead of the last taken 0x0, more than the ring's 16/);
  });

  it('avail ring entry naming a head ≥ num is refused', () => {
    const p = device();
    p.raw.pushAvailRaw(0xffff);
    refused(p, /avail ring entry 0 names head descriptor 0xffff, but the ring has 16/);
  });

  it('a head offered again while the device still holds it is refused', () => {
    const p = device();
    good(p, 3);
    p.raw.pushAvailRaw(3);
    p.raw.pushAvailRaw(3);
    assert.equal(p.device.getAvail()?.head, 3);
    assert.equal(p.device.getAvail(), undefined);
    assert.match(
      p.device.broken?.message ?? '',
      /avail ring entry 1 names head descriptor 0x3, which the device has not returned yet/,
    );
    assert.equal(p.device.pushUsed(3, 0), 0, 'the chain taken before the violation can still be returned');
  });

  it('descriptor loop (next pointing back) is detected, not followed', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 8, flags: VRING_DESC_F_NEXT, next: 1 });
    p.raw.setDesc(1, { addr: p.addr(1), len: 8, flags: VRING_DESC_F_NEXT, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /chain from head 0x0 comes back to descriptor 0x0 after 2 descriptors \(a loop/);
  });

  it('descriptor pointing at itself is a loop', () => {
    const p = device();
    p.raw.setDesc(5, { addr: p.addr(0), len: 8, flags: VRING_DESC_F_NEXT, next: 5 });
    p.raw.pushAvailRaw(5);
    refused(p, /chain from head 0x5 comes back to descriptor 0x5 after 1 descriptors/);
  });

  it('chain longer than num (every descriptor linked in a cycle) is refused after num descriptors', () => {
    const p = device(16);
    for (let d = 0; d < 16; d++) {
      p.raw.setDesc(d, { addr: p.addr(d), len: 8, flags: VRING_DESC_F_NEXT, next: (d + 1) % 16 });
    }
    p.raw.pushAvailRaw(0);
    refused(p, /comes back to descriptor 0x0 after 16 descriptors \(a loop; a chain holds at most 16\)/);
  });

  it('a chain of exactly num descriptors is accepted', () => {
    const p = device(8);
    for (let d = 0; d < 8; d++) {
      p.raw.setDesc(d, { addr: p.addr(d), len: 8, flags: d < 7 ? VRING_DESC_F_NEXT : 0, next: d + 1 });
    }
    p.raw.pushAvailRaw(0);
    assert.equal(p.device.getAvail()?.buffers.length, 8);
  });

  it('next ≥ num is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 8, flags: VRING_DESC_F_NEXT, next: 0x10 });
    p.raw.pushAvailRaw(0);
    refused(p, /descriptor 0x0 of chain 0x0 links to 0x10, but the ring has 16/);
  });

  it('an address the device cannot translate is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: 0x1234_5678_9abc_def0n, len: 64, flags: 0, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(
      p,
      /descriptor 0x0 of chain 0x0: buffer at 0x123456789abcdef0 of 0x40 bytes is outside the memory/,
    );
  });

  it('a buffer whose end wraps past 2^64 is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: 0xffff_ffff_ffff_fff0n, len: 0x20, flags: 0, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /buffer at 0xfffffffffffffff0 of 0x20 bytes is outside/);
  });

  it('a buffer running past the end of the visible memory is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(31) + 256n, len: 512, flags: 0, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /of 0x200 bytes is outside/);
  });

  it('length 0 is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 0, flags: VRING_DESC_F_WRITE, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /descriptor 0x0 of chain 0x0 has length 0/);
  });

  it('length 0xffffffff is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 0xffff_ffff, flags: VRING_DESC_F_WRITE, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /buffer at 0x90000000 of 0xffffffff bytes is outside/);
  });

  it('a device-readable buffer after a device-writable one is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 8, flags: VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, next: 1 });
    p.raw.setDesc(1, { addr: p.addr(1), len: 8, flags: 0, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(p, /descriptor 0x1 of chain 0x0 is device-readable but follows a device-writable buffer/);
  });

  it('VRING_DESC_F_INDIRECT without VIRTIO_RING_F_INDIRECT_DESC is refused', () => {
    const p = device();
    p.raw.setDesc(0, { addr: p.addr(0), len: 32, flags: VRING_DESC_F_INDIRECT, next: 0 });
    p.raw.pushAvailRaw(0);
    refused(
      p,
      /descriptor 0x0 of chain 0x0 has VRING_DESC_F_INDIRECT \(flags 0x4\), but VIRTIO_RING_F_INDIRECT_DESC was not negotiated/,
    );
  });

  describe('indirect tables (feature negotiated)', () => {
    const INDIRECT = 1 << VIRTIO_RING_F_INDIRECT_DESC;
    /** Write an indirect table into pool buffer 0 and point descriptor 0 at it. */
    function withTable(
      entries: readonly [bigint, number, number, number][],
      tableLen = entries.length * 16,
    ): Pair<string> {
      const p = device(16, INDIRECT);
      const dv = new DataView(p.pool.buffer, 0, 512);
      entries.forEach(([a, l, f, n], i) => {
        dv.setBigUint64(i * 16, a, true);
        dv.setUint32(i * 16 + 8, l, true);
        dv.setUint16(i * 16 + 12, f, true);
        dv.setUint16(i * 16 + 14, n, true);
      });
      p.raw.setDesc(0, { addr: p.addr(0), len: tableLen, flags: VRING_DESC_F_INDIRECT, next: 0 });
      p.raw.pushAvailRaw(0);
      return p;
    }

    it('INDIRECT together with NEXT is refused', () => {
      const p = device(16, INDIRECT);
      p.raw.setDesc(0, {
        addr: p.addr(0),
        len: 16,
        flags: VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
        next: 1,
      });
      p.raw.pushAvailRaw(0);
      refused(p, /has both VRING_DESC_F_INDIRECT and VRING_DESC_F_NEXT \(flags 0x5\)/);
    });

    it('a table length that is not a multiple of 16 is refused', () => {
      const p = withTable([[POOL_BASE, 8, 0, 0]], 24);
      refused(p, /indirect table length 0x18 is not a non-zero multiple of 16/);
    });

    it('a table longer than the ring is refused', () => {
      const p = withTable([[POOL_BASE, 8, 0, 0]], 17 * 16);
      refused(p, /indirect table of 17 descriptors is longer than the ring's 16/);
    });

    it('a nested indirect entry is refused', () => {
      const p = withTable([[POOL_BASE, 16, VRING_DESC_F_INDIRECT, 0]]);
      refused(
        p,
        /indirect entry 0x0 \(table in descriptor 0x0\) of chain 0x0 has VRING_DESC_F_INDIRECT inside an indirect table/,
      );
    });

    it('a loop inside the table is refused', () => {
      const p = withTable([
        [POOL_BASE + 512n, 8, VRING_DESC_F_NEXT, 1],
        [POOL_BASE + 1024n, 8, VRING_DESC_F_NEXT, 0],
      ]);
      refused(p, /indirect table of descriptor 0x0 of chain 0x0 comes back to entry 0x0 \(a loop\)/);
    });

    it('a table link ≥ its length is refused', () => {
      const p = withTable([[POOL_BASE + 512n, 8, VRING_DESC_F_NEXT, 5]]);
      refused(p, /indirect entry 0x0 .* links to 0x5, but the table has 1 entries/);
    });

    it('an untranslatable table entry is refused', () => {
      const p = withTable([[0x42n, 8, 0, 0]]);
      refused(p, /indirect entry 0x0 .*: buffer at 0x42 of 0x8 bytes is outside/);
    });
  });
});

describe('fuzz: a peer scribbling over its own words', () => {
  it('garbage in the used ring never throws, never returns a token twice', () => {
    checkProperty(
      'vring-hostile-used',
      fc.property(
        fc.constantFrom(1, 4, 16),
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('idx' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
            fc.record({ kind: fc.constant('bump' as const), v: fc.integer({ min: 1, max: 3 }) }),
            fc.record({
              kind: fc.constant('elem' as const),
              slot: fc.nat(15),
              id: fc.oneof(fc.nat(20), fc.integer({ min: 0, max: 0xffff_ffff })),
              len: fc.oneof(fc.nat(600), fc.integer({ min: 0, max: 0xffff_ffff })),
            }),
            fc.record({ kind: fc.constant('get' as const), v: fc.nat(4) }),
            fc.record({ kind: fc.constant('add' as const), v: fc.integer({ min: 1, max: 3 }) }),
          ),
          { maxLength: 200, size: 'large' },
        ),
        (num, eventIdx, ops) => {
          const p = makePair<number>({
            num,
            ...(eventIdx ? { features: 1 << VIRTIO_RING_F_EVENT_IDX } : {}),
          });
          const postedTokens = new Set<number>();
          const got = new Set<number>();
          let next = 0;
          for (const o of ops) {
            switch (o.kind) {
              case 'idx':
                p.raw.usedIdx = o.v;
                break;
              case 'bump':
                p.raw.usedIdx = (p.raw.usedIdx + o.v) & 0xffff;
                break;
              case 'elem':
                p.raw.setUsedElem(o.slot % num, o.id, o.len);
                break;
              case 'get':
                for (let i = 0; i <= o.v; i++) {
                  const u = p.driver.getBuf();
                  if (u === undefined) continue;
                  assert.ok(postedTokens.has(u.token) && !got.has(u.token), `token ${u.token} unexpected`);
                  assert.ok(u.len <= 64 * 3);
                  got.add(u.token);
                }
                break;
              case 'add': {
                const chain = Array.from({ length: o.v }, (_, k) => ({
                  addr: p.addr(k),
                  len: 64,
                  write: true,
                }));
                const t = next++;
                if (p.driver.addBuf(chain, t) === 0) postedTokens.add(t);
                p.driver.kick();
                break;
              }
              default: {
                const never: never = o;
                throw new Error(String(never));
              }
            }
            assert.ok(p.driver.numFree >= 0 && p.driver.numFree <= num);
          }
          const detached = p.driver.detachUnusedBufs();
          for (const t of detached) assert.ok(!got.has(t), `token ${t} both returned and detached`);
          assert.equal(got.size + detached.length, postedTokens.size);
          assert.equal(p.driver.numFree, num);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('garbage in the avail ring and descriptors never throws; every chain it yields is sound', () => {
    checkProperty(
      'vring-hostile-avail',
      fc.property(
        fc.constantFrom(1, 4, 16),
        fc.boolean(),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('idx' as const), v: fc.integer({ min: 0, max: 0xffff }) }),
            {
              weight: 4,
              arbitrary: fc.record({ kind: fc.constant('bump' as const), v: fc.integer({ min: 1, max: 2 }) }),
            },
            fc.record({
              kind: fc.constant('ring' as const),
              slot: fc.nat(15),
              v: fc.oneof(fc.nat(20), fc.nat(0xffff)),
            }),
            fc.record({
              kind: fc.constant('desc' as const),
              d: fc.nat(15),
              addr: fc.oneof(
                fc.nat(40).map((i) => POOL_BASE + BigInt(i * 64)),
                fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
              ),
              len: fc.oneof(fc.nat(1200), fc.integer({ min: 0, max: 0xffff_ffff })),
              flags: fc.nat(7),
              next: fc.oneof(fc.nat(20), fc.nat(0xffff)),
            }),
            fc.record({ kind: fc.constant('take' as const), push: fc.boolean() }),
          ),
          { maxLength: 200, size: 'large' },
        ),
        (num, indirect, ops) => {
          const p = makePair<string>({
            num,
            ...(indirect ? { features: 1 << VIRTIO_RING_F_INDIRECT_DESC } : {}),
          });
          // Start from sound single-buffer descriptors and an identity avail ring, then scribble.
          for (let d = 0; d < num; d++) {
            p.raw.setDesc(d, { addr: p.addr(d), len: 64, flags: VRING_DESC_F_WRITE, next: (d + 1) % num });
            p.raw.setAvailRing(d, d);
          }
          let taken = 0;
          for (const o of ops) {
            switch (o.kind) {
              case 'idx':
                p.raw.availIdx = o.v;
                break;
              case 'bump':
                p.raw.availIdx = (p.raw.availIdx + o.v) & 0xffff;
                break;
              case 'ring':
                p.raw.setAvailRing(o.slot % num, o.v);
                break;
              case 'desc':
                p.raw.setDesc(o.d % num, { addr: o.addr, len: o.len, flags: o.flags, next: o.next });
                break;
              case 'take': {
                const c = p.device.getAvail();
                if (c === undefined) break;
                assert.ok(c.head < num);
                assert.ok(c.buffers.length >= 1 && c.buffers.length <= 2 * num);
                let sawWrite = false;
                let r = 0;
                let w = 0;
                for (const b of c.buffers) {
                  assert.ok(b.len > 0 && b.view.length === b.len);
                  assert.equal(b.view.buffer, p.pool.buffer, 'views only into the visible memory');
                  if (b.write) {
                    sawWrite = true;
                    w += b.len;
                  } else {
                    assert.ok(!sawWrite);
                    r += b.len;
                  }
                }
                assert.equal(c.readable, r);
                assert.equal(c.writable, w);
                taken++;
                if (o.push) assert.equal(p.device.pushUsed(c.head, c.writable), 0);
                break;
              }
              default: {
                const never: never = o;
                throw new Error(String(never));
              }
            }
          }
          if (p.device.broken !== undefined) assert.match(p.device.broken.message, /0x[0-9a-f]+/);
          assert.equal(p.device.stats.chains, taken);
        },
      ),
      { numRuns: 300 },
    );
  });
});
