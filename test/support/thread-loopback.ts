// The rpmsg stack across a real thread boundary for tests: an Rproc whose platform keeps RAM and
// the DMA pool in SharedArrayBuffers, starts the remote core as a worker thread running the
// device-role library over that memory (rpmsg-thread-remote.ts), and rings doorbells as words in a
// shared Int32Array: the host kicks with Atomics.notify, and listens to the core with
// Atomics.waitAsync so that its event loop never blocks. Test-only.

import { Worker } from 'node:worker_threads';
import { FirmwareStore } from '../../src/remoteproc/firmware-store.ts';
import { RprocRegistry } from '../../src/remoteproc/rproc-registry.ts';
import { rprocAlloc, type Rproc } from '../../src/remoteproc/rproc.ts';
import { RprocVirtio } from '../../src/remoteproc/virtio/rproc-virtio.ts';
import type { DmaAllocator, DmaBuffer } from '../../src/remoteproc/carveouts.ts';
import { FW_RSC_ADDR_ANY } from '../../src/rsc/rsc-constants.ts';
import { VirtioDriverRegistry } from '../../src/virtio/virtio-device.ts';
import { RpmsgHost, type RpmsgHostOptions } from '../../src/rpmsg/host/rpmsg-host.ts';
import { rpmsgFirmware, type RpmsgFirmwareOptions } from '../../src/testing/rpmsg-firmware.ts';
import { BELL, type ThreadRemoteData, type ThreadRemoteResult } from './thread-protocol.ts';

const SHARED_RAM_BASE = 0x8000_0000;
const SHARED_RAM_SIZE = 0x4_0000;
const SHARED_POOL_BASE = 0x9000_0000;
const SHARED_POOL_SIZE = 0x10_0000;
const PAGE = 0x1000;

/** First-fit, page-aligned allocator over a shared pool (device address = physical address). */
class SharedPool implements DmaAllocator {
  readonly memory: Uint8Array<SharedArrayBuffer>;
  private readonly live = new Map<number, number>();

  constructor(size: number) {
    this.memory = new Uint8Array(new SharedArrayBuffer(size));
  }

  get outstanding(): number {
    return this.live.size;
  }

  alloc(len: number, da: number): DmaBuffer | undefined {
    const size = Math.ceil(len / PAGE) * PAGE;
    const fits = (start: number): boolean =>
      start >= SHARED_POOL_BASE &&
      start + size <= SHARED_POOL_BASE + this.memory.length &&
      ![...this.live].some(([s, n]) => start < s + n && s < start + size);
    let start: number | undefined;
    if (da !== FW_RSC_ADDR_ANY) start = fits(da) ? da : undefined;
    else
      for (let s = SHARED_POOL_BASE; s + size <= SHARED_POOL_BASE + this.memory.length; s += PAGE)
        if (fits(s)) {
          start = s;
          break;
        }
    if (start === undefined || len <= 0) return undefined;
    this.live.set(start, size);
    const off = start - SHARED_POOL_BASE;
    return { da: start, pa: start, va: this.memory.subarray(off, off + len) };
  }

  free(buffer: DmaBuffer): void {
    this.live.delete(buffer.da);
  }
}

export interface ThreadLoopbackOptions {
  readonly firmware?: RpmsgFirmwareOptions;
  readonly host?: RpmsgHostOptions;
  readonly services?: readonly string[];
}

export class ThreadLoopback {
  readonly rproc: Rproc;
  readonly host: RpmsgHost;
  readonly ram = new Uint8Array(new SharedArrayBuffer(SHARED_RAM_SIZE));
  readonly pool = new SharedPool(SHARED_POOL_SIZE);
  readonly bells = new Int32Array(new SharedArrayBuffer(4 * 4));
  readonly logs: string[] = [];
  /** What the worker said when it stopped (per boot). */
  readonly results: ThreadRemoteResult[] = [];
  private worker: Worker | undefined;
  private workerDone: Promise<void> | undefined;
  private listening: Promise<void> | undefined;
  private stopListening = false;

  constructor(options: ThreadLoopbackOptions = {}) {
    const fw = rpmsgFirmware(options.firmware);
    const store = new FirmwareStore();
    store.add('fw', fw.elf);
    this.host = new RpmsgHost(options.host);
    const drivers = new VirtioDriverRegistry();
    drivers.register(this.host.virtioDriver);
    const services = options.services ?? ['rpmsg-echo'];
    this.rproc = rprocAlloc({
      name: 'thread0',
      firmware: 'fw',
      firmwareStore: store,
      registry: new RprocRegistry(),
      dma: this.pool,
      vdevHooks: new RprocVirtio(drivers),
      autoBoot: false,
      ops: {
        start: () => {
          this.startWorker({
            ram: this.ram.buffer,
            ramBase: SHARED_RAM_BASE,
            pool: this.pool.memory.buffer,
            poolBase: SHARED_POOL_BASE,
            bells: this.bells.buffer,
            tableDa: fw.tableDa,
            tableSize: fw.tableSize,
            services,
          });
        },
        stop: () => this.stopWorker(),
        kick: () => {
          Atomics.add(this.bells, BELL.H2C_SEQ, 1);
          Atomics.notify(this.bells, BELL.H2C_SEQ);
        },
        daToVa: (_rproc, da, len) => {
          const off = da - BigInt(SHARED_RAM_BASE);
          if (off < 0n || off + BigInt(len) > BigInt(SHARED_RAM_SIZE)) return undefined;
          return this.ram.subarray(Number(off), Number(off) + len);
        },
      },
    });
    this.rproc.on('log', (e) => this.logs.push(`${e.level}: ${e.message}`));
  }

  get outstandingDma(): number {
    return this.pool.outstanding;
  }

  private startWorker(data: ThreadRemoteData): void {
    Atomics.store(this.bells, BELL.STOP, 0);
    Atomics.store(this.bells, BELL.C2H_PENDING, 0);
    const worker = new Worker(new URL('./rpmsg-thread-worker.mjs', import.meta.url), { workerData: data });
    this.worker = worker;
    this.workerDone = new Promise<void>((resolve, reject) => {
      worker.once('message', (m: ThreadRemoteResult) => this.results.push(m));
      worker.once('error', reject);
      worker.once('exit', () => resolve());
    });
    this.stopListening = false;
    this.listening = this.listen();
  }

  /** Core → host doorbells, without ever blocking the event loop. */
  private async listen(): Promise<void> {
    // A pending Atomics.waitAsync does not keep the event loop alive: this timer does, while we listen.
    const keepAlive = setInterval(() => undefined, 0x7fff_ffff);
    try {
      let seen = Atomics.load(this.bells, BELL.C2H_SEQ);
      while (!this.stopListening) {
        const r = Atomics.waitAsync(this.bells, BELL.C2H_SEQ, seen, 50);
        if (r.async) await r.value;
        seen = Atomics.load(this.bells, BELL.C2H_SEQ);
        const pending = Atomics.exchange(this.bells, BELL.C2H_PENDING, 0);
        for (let id = 0; id < 31; id++) if ((pending >>> id) & 1) this.rproc.vqInterrupt(id);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async stopWorker(): Promise<void> {
    Atomics.store(this.bells, BELL.STOP, 1);
    Atomics.add(this.bells, BELL.H2C_SEQ, 1);
    Atomics.notify(this.bells, BELL.H2C_SEQ);
    await this.workerDone;
    this.stopListening = true;
    Atomics.add(this.bells, BELL.C2H_SEQ, 1);
    Atomics.notify(this.bells, BELL.C2H_SEQ);
    await this.listening;
    this.worker = undefined;
  }

  /** Stop the core if it runs and drop the processor. */
  async close(): Promise<void> {
    await this.rproc.del();
    if (this.worker !== undefined) await this.worker.terminate();
  }
}
