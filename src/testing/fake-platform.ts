// A fake platform driver (RprocOps) for tests of the remoteproc core and of the layers above it:
// it records every op call in order, can be told to fail the Nth call (or every call of one op),
// owns a small physical memory with a core-local RAM window and a DMA pool whose outstanding
// allocations can be counted. Part of the public `testing` entry (docs/testing.md).

import { RprocError, hex } from '../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';
import type { DmaAllocator, DmaBuffer } from '../remoteproc/carveouts.ts';
import type { RprocOps } from '../remoteproc/rproc-ops.ts';
import type { RprocSubdev } from '../remoteproc/subdev.ts';

export interface FakeMemoryMap {
  /** Core-local RAM the firmware links against (QEMU virt's RAM base by default). */
  readonly ramDa: number;
  readonly ramSize: number;
  /** DMA pool for carveouts: device address = physical address here. */
  readonly poolDa: number;
  readonly poolSize: number;
}

export const DEFAULT_FAKE_MAP: FakeMemoryMap = {
  ramDa: 0x8000_0000,
  ramSize: 0x4_0000,
  poolDa: 0x9000_0000,
  poolSize: 0x10_0000,
};

const POOL_ALIGN = 0x1000;

export type FailMatcher = { readonly call: number } | { readonly op: string; readonly nth?: number };

/** First-fit allocator over a byte array, counting what is outstanding. */
export class FakeDmaPool implements DmaAllocator {
  readonly memory: Uint8Array;
  readonly base: number;
  private readonly live = new Map<number, number>();
  /** When set, every allocation fails (to test ENOMEM paths). */
  exhausted = false;

  constructor(base: number, size: number) {
    this.base = base;
    this.memory = new Uint8Array(size);
  }

  get outstanding(): number {
    return this.live.size;
  }

  alloc(len: number, da: number): DmaBuffer | undefined {
    if (this.exhausted || len <= 0) return undefined;
    const size = Math.ceil(len / POOL_ALIGN) * POOL_ALIGN;
    const start = da === FW_RSC_ADDR_ANY ? this.firstFit(size) : this.fixed(da, size);
    if (start === undefined) return undefined;
    this.live.set(start, size);
    const off = start - this.base;
    // Fresh memory is filled so that tests notice code that relies on zeroed allocations.
    this.memory.fill(0xa5, off, off + size);
    return { da: start, pa: start, va: this.memory.subarray(off, off + len) };
  }

  free(buffer: DmaBuffer): void {
    if (!this.live.delete(buffer.da)) {
      throw new RprocError('EINVAL', 'fake-dma', `free of ${hex(buffer.da)}, which is not allocated`);
    }
  }

  private overlaps(start: number, size: number): boolean {
    for (const [s, n] of this.live) if (start < s + n && s < start + size) return true;
    return false;
  }

  private fixed(da: number, size: number): number | undefined {
    if (da < this.base || da + size > this.base + this.memory.length || this.overlaps(da, size))
      return undefined;
    return da;
  }

  private firstFit(size: number): number | undefined {
    for (let start = this.base; start + size <= this.base + this.memory.length; start += POOL_ALIGN) {
      if (!this.overlaps(start, size)) return start;
    }
    return undefined;
  }
}

export class FakePlatform {
  readonly map: FakeMemoryMap;
  readonly ram: Uint8Array;
  readonly pool: FakeDmaPool;
  /** Every op and subdev call, in order: 'prepare', 'start', 'kick:1', 'sd:a:stop(crashed)'. */
  readonly calls: string[] = [];
  readonly kicks: number[] = [];
  private readonly failures: FailMatcher[] = [];
  private readonly perOp = new Map<string, number>();
  /** What getLoadedRscTable returns (attach tests put a table into RAM and point here). */
  loadedTable: { da: number; size: number } | undefined;
  /** Whether the core is executing, as far as the fake hardware knows. */
  running = false;

  constructor(map: FakeMemoryMap = DEFAULT_FAKE_MAP) {
    this.map = map;
    this.ram = new Uint8Array(map.ramSize);
    this.pool = new FakeDmaPool(map.poolDa, map.poolSize);
  }

  /** Fail the Nth recorded call overall (1-based), or the nth call of one op (default: every). */
  failOn(matcher: FailMatcher): void {
    this.failures.push(matcher);
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Record a call and throw if a failure matches it. */
  record(name: string): void {
    this.calls.push(name);
    const op = name.split('(')[0] ?? name;
    const nth = (this.perOp.get(op) ?? 0) + 1;
    this.perOp.set(op, nth);
    for (const f of this.failures) {
      const hit =
        'call' in f ? f.call === this.calls.length : f.op === op && (f.nth === undefined || f.nth === nth);
      if (hit)
        throw new RprocError(
          'EIO',
          'fake-platform',
          `injected failure at ${name} (call ${this.calls.length})`,
        );
    }
  }

  /** The core-local RAM window; anything else goes to the carveouts. */
  ramView(da: bigint, len: number): Uint8Array | undefined {
    const start = BigInt(this.map.ramDa);
    if (da < start || da + BigInt(len) > start + BigInt(this.map.ramSize)) return undefined;
    const off = Number(da - start);
    return this.ram.subarray(off, off + len);
  }

  /**
   * The remote core's view of memory, as an in-thread loopback's firmware translates addresses: the
   * RAM window, then the DMA pool (PA = DA there); undefined unless [addr, addr + len) lies in one.
   */
  remoteView(addr: bigint | number, len: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(len) || len < 0) return undefined;
    const da = BigInt(addr);
    const ram = this.ramView(da, len);
    if (ram !== undefined) return ram;
    const off = da - BigInt(this.pool.base);
    if (off < 0n || off + BigInt(len) > BigInt(this.pool.memory.length)) return undefined;
    return this.pool.memory.subarray(Number(off), Number(off) + len);
  }

  ops(extra: Partial<RprocOps> = {}): RprocOps {
    return {
      prepare: () => this.record('prepare'),
      unprepare: () => this.record('unprepare'),
      start: () => {
        this.record('start');
        this.running = true;
      },
      stop: () => {
        this.record('stop');
        this.running = false;
      },
      attach: () => this.record('attach'),
      detach: () => this.record('detach'),
      kick: (_rproc, notifyId) => {
        this.kicks.push(notifyId);
        this.record(`kick:${notifyId}`);
      },
      daToVa: (_rproc, da, len) => this.ramView(da, len),
      getLoadedRscTable: () => {
        this.record('getLoadedRscTable');
        const t = this.loadedTable;
        if (t === undefined) return undefined;
        const bytes = this.ramView(BigInt(t.da), t.size);
        return bytes === undefined ? undefined : { bytes };
      },
      ...extra,
    };
  }

  /** A subdevice that records its calls as `sd:<name>:<step>`. */
  subdev(name: string): RprocSubdev {
    return {
      name,
      prepare: () => this.record(`sd:${name}:prepare`),
      start: () => this.record(`sd:${name}:start`),
      stop: (crashed) => this.record(`sd:${name}:stop${crashed ? '(crashed)' : ''}`),
      unprepare: () => this.record(`sd:${name}:unprepare`),
    };
  }
}
