// Split-virtqueue overhead on one thread: a driver posts 512-byte read-only buffers (payload copied
// in), a device takes each one (validated chain walk, translator view, payload copied out) and
// returns it, the driver collects it — against the bare array-index SPSC ring on one thread
// (bench/bare-threads.ts: 256 slots × 512 B, head/tail words published with Atomics.store) doing
// the same copies, measured once in the same run. Messages per second; ratio = vring / bare ring.
//
//   vring/512B-single-thread          every add and every return published on its own (as a
//                                     producer and a consumer on two threads that keep up would);
//                                     baseline bare/ring-512B-1-thread
//   vring/512B-single-thread-batched  one publication per burst of 32 on both sides; baseline
//                                     bare/ring-512B-1-thread-batched
//
// Cross-thread figures come with rpmsg (bench/rpmsg.bench.ts, against the bare ring across two
// threads).

import { VIRTIO_RING_F_EVENT_IDX } from '../src/virtio/vring-constants.ts';
import { VirtqueueDevice, type DeviceChain } from '../src/virtio/vring-device.ts';
import { VirtqueueDriver } from '../src/virtio/vring-driver.ts';
import { alignUp, vringSize } from '../src/virtio/vring-layout.ts';
import { sharedBaselines } from './bare-threads.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';

const NUM = 256;
const MSG = 512;
const BURST = 32;
const POOL_BASE = 0x9000_0000;

interface Arena {
  readonly ring: Uint8Array;
  readonly pool: Uint8Array;
}

function arena(): Arena {
  const ringSize = alignUp(vringSize(NUM, 4096), 4096);
  const poolSize = NUM * MSG;
  const sab = new SharedArrayBuffer(ringSize + poolSize);
  let at = 0;
  const take = (n: number): number => {
    const o = at;
    at += n;
    return o;
  };
  const ring = new Uint8Array(sab, take(ringSize), ringSize);
  const pool = new Uint8Array(sab, take(poolSize), poolSize);
  return { ring, pool };
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

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const bench: Bench = {
  name: 'vring',
  description: 'split virtqueue driver→device→driver vs a bare SPSC ring, one thread (msg/s, median of 7)',
  async run() {
    const bare = await sharedBaselines();
    const a = arena();
    const records: BenchRecord[] = [];
    const count = 1_000_000;
    for (const [name, publishEach, base] of [
      ['vring/512B-single-thread', true, 'ring1t'],
      ['vring/512B-single-thread-batched', false, 'ring1tBatched'],
    ] as const) {
      // warm up so it is not measured cold
      vringRun(a, 200_000, publishEach);
      const v: number[] = [];
      for (let r = 0; r < 7; r++) v.push(vringRun(a, count, publishEach));
      records.push(
        record(
          name,
          median(v),
          bare.get(base),
          'msg/s',
          publishEach ? 'publish per message, EVENT_IDX' : `publish per ${BURST}, EVENT_IDX`,
        ),
      );
    }
    return records;
  },
};

export default bench;
