// Fixtures for the vring tests: a ring in its own (Shared)ArrayBuffer, a buffer pool at a bus
// address with the translator a device would use, and a driver/device pair on the same memory.

import { VirtqueueDevice, type VringTranslate } from '../../src/virtio/vring-device.ts';
import { VirtqueueDriver, type VqToken } from '../../src/virtio/vring-driver.ts';
import { vringSize } from '../../src/virtio/vring-layout.ts';
import { RawVring } from '../../src/virtio/vring-raw.ts';
import type { VirtioFeatures } from '../../src/virtio/vring-constants.ts';

/** Bus address of the test buffer pool. */
export const POOL_BASE = 0x9000_0000n;
export const BUF_SIZE = 512;

export interface PairOptions {
  readonly num?: number;
  readonly align?: number;
  readonly features?: VirtioFeatures;
  readonly shared?: boolean;
  readonly startIdx?: number;
  /** Buffers in the pool (default 2 × num). */
  readonly buffers?: number;
  readonly driverNotify?: () => void;
  readonly deviceNotify?: () => void;
}

export interface Pair<T extends VqToken> {
  readonly memory: Uint8Array;
  readonly pool: Uint8Array;
  readonly raw: RawVring;
  readonly driver: VirtqueueDriver<T>;
  readonly device: VirtqueueDevice;
  readonly translate: VringTranslate;
  /** Bus address of pool buffer i. */
  readonly addr: (i: number) => bigint;
  /** The pool bytes of buffer i. */
  readonly buf: (i: number) => Uint8Array;
}

export function poolTranslator(pool: Uint8Array, base: bigint): VringTranslate {
  const size = BigInt(pool.length);
  return (addr, len) => {
    const off = addr - base;
    if (off < 0n || off > size || BigInt(len) > size - off) return undefined;
    const o = Number(off);
    return pool.subarray(o, o + len);
  };
}

export function makeRingMemory(num: number, align: number, shared: boolean): Uint8Array {
  const size = vringSize(num, align);
  return new Uint8Array(shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
}

export function makePair<T extends VqToken>(options: PairOptions = {}): Pair<T> {
  const num = options.num ?? 16;
  const align = options.align ?? 16;
  const shared = options.shared ?? true;
  const memory = makeRingMemory(num, align, shared);
  const nbuf = options.buffers ?? 2 * num;
  const pool = new Uint8Array(
    shared ? new SharedArrayBuffer(nbuf * BUF_SIZE) : new ArrayBuffer(nbuf * BUF_SIZE),
  );
  const translate = poolTranslator(pool, POOL_BASE);
  const common = {
    memory,
    num,
    align,
    ...(options.features === undefined ? {} : { features: options.features }),
    ...(options.startIdx === undefined ? {} : { startIdx: options.startIdx }),
  };
  const driver = new VirtqueueDriver<T>({
    ...common,
    name: 'test-vq',
    zero: true,
    ...(options.driverNotify === undefined ? {} : { notify: options.driverNotify }),
  });
  const device = new VirtqueueDevice({
    ...common,
    name: 'test-vq',
    translate,
    ...(options.deviceNotify === undefined ? {} : { notify: options.deviceNotify }),
  });
  return {
    memory,
    pool,
    raw: new RawVring(memory, num, align),
    driver,
    device,
    translate,
    addr: (i) => POOL_BASE + BigInt(i * BUF_SIZE),
    buf: (i) => pool.subarray(i * BUF_SIZE, (i + 1) * BUF_SIZE),
  };
}
