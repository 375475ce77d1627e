// The device queue resolves each ring descriptor through the translator once and keeps the view
// while the driver posts the same buffer again (Linux's rpmsg pool always does): a descriptor whose
// address (either word) or length the driver changed is resolved afresh, and one the translator
// refuses is refused however often it was accepted before at another address.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtqueueDevice, type DeviceChain } from './vring-device.ts';
import { VRING_DESC_F_NEXT, VRING_DESC_F_WRITE } from './vring-constants.ts';
import { RawVring } from './vring-raw.ts';
import { BUF_SIZE, POOL_BASE, makeRingMemory, poolTranslator } from '../../test/support/vring-fixtures.ts';

const NUM = 4;
const ALIGN = 16;

function rig() {
  const memory = makeRingMemory(NUM, ALIGN, false);
  const raw = new RawVring(memory, NUM, ALIGN);
  const pool = new Uint8Array(8 * BUF_SIZE);
  const inner = poolTranslator(pool, POOL_BASE);
  const asked: [bigint, number][] = [];
  const device = new VirtqueueDevice({
    memory,
    num: NUM,
    align: ALIGN,
    name: 'resolve',
    translate: (addr, len) => {
      asked.push([addr, len]);
      return inner(addr, len);
    },
  });
  const chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
  let posted = 0;
  /** Post descriptor `d` as written now, take it, return it; the view the device resolved. */
  const cycle = (d: number): Uint8Array | undefined => {
    raw.setAvailRing(posted & (NUM - 1), d);
    raw.availIdx = ++posted & 0xffff;
    const got = device.getAvail(chain);
    if (got === undefined) return undefined;
    assert.equal(device.pushUsed(got.head, 0), 0);
    device.publishUsed();
    return got.buffers[0]?.view;
  };
  return { raw, pool, asked, device, cycle, last: chain };
}

/** Buffer i of the pool, marked with its index so that a view shows which buffer it is. */
function mark(pool: Uint8Array, i: number): bigint {
  pool[i * BUF_SIZE] = 0xa0 + i;
  return POOL_BASE + BigInt(i * BUF_SIZE);
}

describe('device queue: resolving descriptors', () => {
  it('asks the translator once for a buffer posted again unchanged, and gives the same bytes and address', () => {
    const r = rig();
    const addr = mark(r.pool, 2);
    r.raw.setDesc(1, { addr, len: 64, flags: 0, next: 0 });
    for (let k = 0; k < 5; k++) {
      assert.equal(r.cycle(1)?.[0], 0xa2, `pass ${k}`);
      assert.equal(r.last.buffers[0]?.addr, addr, `pass ${k}: the chain names the buffer's address`);
    }
    assert.deepEqual(r.asked, [[addr, 64]]);
  });

  it('a descriptor resolved before is still checked: readable after writable names it as a ring descriptor', () => {
    const r = rig();
    r.raw.setDesc(1, { addr: mark(r.pool, 2), len: 64, flags: 0, next: 0 });
    r.cycle(1);
    r.raw.setDesc(0, {
      addr: mark(r.pool, 3),
      len: 64,
      flags: VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
      next: 1,
    });
    assert.equal(r.cycle(0), undefined);
    assert.match(
      r.device.broken?.message ?? '',
      /: descriptor 0x1 of chain 0x0 is device-readable but follows a device-writable buffer$/,
    );
  });

  for (const c of [
    {
      what: 'the low address word',
      change: { addr: POOL_BASE + BigInt(3 * BUF_SIZE) },
      first: 0xa3,
      len: 64,
    },
    { what: 'the length', change: { len: 32 }, first: 0xa2, len: 32 },
    {
      what: 'the flags only (now device-writable)',
      change: { flags: VRING_DESC_F_WRITE },
      first: 0xa2,
      len: 64,
    },
  ]) {
    it(`follows a change of ${c.what}`, () => {
      const r = rig();
      mark(r.pool, 3);
      r.raw.setDesc(1, { addr: mark(r.pool, 2), len: 64, flags: 0, next: 0 });
      r.cycle(1);
      r.raw.setDesc(1, c.change);
      const view = r.cycle(1);
      assert.ok(view !== undefined);
      assert.equal(view[0], c.first);
      assert.equal(view.length, c.len);
    });
  }

  it('follows a change of the high address word: an address beyond 4 GiB is refused, not served from before', () => {
    const r = rig();
    const low = mark(r.pool, 2);
    r.raw.setDesc(1, { addr: low, len: 64, flags: 0, next: 0 });
    assert.equal(r.cycle(1)?.[0], 0xa2);
    r.raw.setDesc(1, { addr: low + (1n << 32n) });
    assert.equal(r.cycle(1), undefined);
    assert.match(r.device.broken?.message ?? '', /outside the memory the device can see/);
    assert.equal(r.asked.at(-1)?.[0], low + (1n << 32n));
  });

  it('a resolution is per descriptor: two descriptors on one buffer are each asked once', () => {
    const r = rig();
    const a = mark(r.pool, 5);
    r.raw.setDesc(0, { addr: a, len: 16, flags: 0, next: 0 });
    r.raw.setDesc(2, { addr: a, len: 16, flags: 0, next: 0 });
    for (let k = 0; k < 3; k++) {
      assert.equal(r.cycle(0)?.[0], 0xa5);
      assert.equal(r.cycle(2)?.[0], 0xa5);
    }
    assert.equal(r.asked.length, 2);
  });
});
