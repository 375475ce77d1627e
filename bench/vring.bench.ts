// Split-virtqueue overhead on one thread: a driver posts 512-byte read-only buffers (payload copied
// in), a device takes each one (validated chain walk, translator view, payload copied out) and
// returns it, the driver collects it — against a bare array-index SPSC ring (256 slots × 512 B,
// head/tail words published with Atomics.store) doing the same copies over the same
// SharedArrayBuffer, measured in the same run. Messages per second; ratio = vring / bare ring.
//
//   vring/512B-single-thread          every add and every return published on its own (as a
//                                     producer and a consumer on two threads that keep up would)
//   vring/512B-single-thread-batched  one publication per burst of 32 on both sides
//
// Cross-thread figures come with rpmsg (bench/rpmsg.bench.ts measures the bare ring across two
// threads in the same run).

import { VIRTIO_RING_F_EVENT_IDX } from '../src/virtio/vring-constants.ts';
import { VirtqueueDevice, type DeviceChain } from '../src/virtio/vring-device.ts';
import { VirtqueueDriver } from '../src/virtio/vring-driver.ts';
import { alignUp, vringSize } from '../src/virtio/vring-layout.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';

const NUM = 256;
const MSG = 512;
const BURST = 32;
const POOL_BASE = 0x9000_0000;

interface Arena {
  readonly ring: Uint8Array;
  readonly pool: Uint8Array;
  readonly spscSlots: Uint8Array;
  readonly spscLens: Uint32Array;
  /** [0] head (producer), [32] tail (consumer): 128 bytes apart, as bare-threads-worker.mjs lays out its ring. */
  readonly spscCtl: Int32Array;
}

function arena(): Arena {
  const ringSize = alignUp(vringSize(NUM, 4096), 4096);
  const poolSize = NUM * MSG;
  const sab = new SharedArrayBuffer(ringSize + 2 * poolSize + 4 * NUM * 16 + 256);
  let at = 0;
  const take = (n: number): number => {
    const o = at;
    at += n;
    return o;
  };
  const ring = new Uint8Array(sab, take(ringSize), ringSize);
  const pool = new Uint8Array(sab, take(poolSize), poolSize);
  const spscSlots = new Uint8Array(sab, take(poolSize), poolSize);
  // each slot's length word on its own 64-byte line
  const spscLens = new Uint32Array(sab, take(4 * NUM * 16), NUM * 16);
  const spscCtl = new Int32Array(sab, take(256), 64);
  return { ring, pool, spscSlots, spscLens, spscCtl };
}

function payload(): Uint8Array {
  const p = new Uint8Array(MSG);
  for (let i = 0; i < MSG; i++) p[i] = i & 0xff;
  return p;
}

/** Messages per second through driver → device → driver; publishEach: publish per message. */
function vringRun(a: Arena, count: number, publishEach: boolean): number {
  const { pool } = a;
  const size = pool.length;
  const translate = (addr: bigint, len: number): Uint8Array | undefined => {
    const off = Number(addr) - POOL_BASE;
    return off >= 0 && len <= size - off ? pool.subarray(off, off + len) : undefined;
  };
  const features = 1 << VIRTIO_RING_F_EVENT_IDX;
  const driver = new VirtqueueDriver<number>({ memory: a.ring, num: NUM, align: 4096, features, zero: true });
  const device = new VirtqueueDevice({ memory: a.ring, num: NUM, align: 4096, features, translate });
  const addrs = Array.from({ length: NUM }, (_, i) => BigInt(POOL_BASE + i * MSG));
  const free: number[] = Array.from({ length: NUM }, (_, i) => i);
  const src = payload();
  const dst = new Uint8Array(MSG);
  const chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += BURST) {
    for (let k = 0; k < BURST; k++) {
      const i = free.pop() ?? 0;
      pool.set(src, i * MSG);
      driver.addOutbuf(addrs[i] ?? 0n, MSG, i);
      if (publishEach) driver.kickPrepare();
    }
    if (!publishEach) driver.kickPrepare();
    for (let k = 0; k < BURST; k++) {
      const c = device.getAvail(chain);
      if (c === undefined) throw new Error(`device saw no chain: ${device.broken?.message ?? 'empty'}`);
      const view = c.buffers[0]?.view;
      if (view !== undefined) dst.set(view);
      sink += dst[7] ?? 0;
      device.pushUsed(c.head, 0);
      if (publishEach) device.kickPrepare();
    }
    if (!publishEach) device.kickPrepare();
    for (let t = driver.takeUsed(); t !== undefined; t = driver.takeUsed()) free.push(t);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === 0 || driver.broken !== undefined) throw new Error('vring bench did nothing');
  return count / secs;
}

/** The bare SPSC ring: same copies, head/tail published with Atomics.store. */
function spscRun(a: Arena, count: number, publishEach: boolean): number {
  const { spscSlots: slots, spscLens: lens, spscCtl: ctl } = a;
  const mask = NUM - 1;
  const src = payload();
  const dst = new Uint8Array(MSG);
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 32, 0);
  let head = 0;
  let tail = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < count; done += BURST) {
    // producer: space check against the consumer's published tail
    if (((head - Atomics.load(ctl, 32)) | 0) + BURST > NUM) throw new Error('spsc ring full');
    for (let k = 0; k < BURST; k++) {
      const slot = head & mask;
      slots.set(src, slot * MSG);
      lens[slot * 16] = MSG;
      head = (head + 1) | 0;
      if (publishEach) Atomics.store(ctl, 0, head);
    }
    if (!publishEach) Atomics.store(ctl, 0, head);
    // consumer
    const h = Atomics.load(ctl, 0);
    while (tail !== h) {
      const slot = tail & mask;
      const len = lens[slot * 16] ?? 0;
      dst.set(slots.subarray(slot * MSG, slot * MSG + len));
      sink += dst[7] ?? 0;
      tail = (tail + 1) | 0;
      if (publishEach) Atomics.store(ctl, 32, tail);
    }
    if (!publishEach) Atomics.store(ctl, 32, tail);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === 0) throw new Error('spsc bench did nothing');
  return count / secs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const bench: Bench = {
  name: 'vring',
  description: 'split virtqueue driver→device→driver vs a bare SPSC ring, one thread (msg/s, median of 7)',
  run() {
    const a = arena();
    const records: BenchRecord[] = [];
    const count = 1_000_000;
    for (const [name, publishEach] of [
      ['vring/512B-single-thread', true],
      ['vring/512B-single-thread-batched', false],
    ] as const) {
      // warm both up so neither is measured cold
      vringRun(a, 200_000, publishEach);
      spscRun(a, 200_000, publishEach);
      const v: number[] = [];
      const s: number[] = [];
      for (let r = 0; r < 7; r++) {
        v.push(vringRun(a, count, publishEach));
        s.push(spscRun(a, count, publishEach));
      }
      records.push(
        record(
          name,
          median(v),
          median(s),
          'msg/s',
          publishEach ? 'publish per message, EVENT_IDX' : `publish per ${BURST}, EVENT_IDX`,
        ),
      );
    }
    return Promise.resolve(records);
  },
};

export default bench;
