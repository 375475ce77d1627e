// The stage of the hostile-firmware suite: the default board with the hostile firmware
// (firmware/hostile) on the rv32 core rproc0 and the js rpmsg-echo on rproc1 — the healthy core,
// kept echoing all along — one SoC for a whole test file. An attack patches the scenario (and a run
// id) into the image, boots rproc0 with it, and measures the healthy core's echoes and the host's
// heap (after a full collection) while it lasts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import '../../src/cpu/core-kinds.ts';
import { defaultFirmwareStore } from '../../src/soc/default-firmware.ts';
import { patchElfU32 } from '../../src/elf/elf-patch.ts';
import type { RpmsgChannel } from '../../src/rpmsg/host/rpmsg-channel.ts';
import type { VirtioRpmsgBus } from '../../src/rpmsg/host/virtio-rpmsg-bus.ts';
import type { Rproc } from '../../src/remoteproc/rproc.ts';
import { VirtualSoc } from '../../src/soc/virtual-soc.ts';

/** The attacks of firmware/hostile/main.c (enum scenario). */
export const SC = {
  TTY_FLOOD: 1,
  CHAR_FLOOD: 2,
  CONSOLE_FLOOD: 3,
  NS_FLOOD: 4,
  NS_CHURN: 5,
  SQUAT: 6,
  USED_IDX_JUMP: 7,
  USED_ID_RANGE: 8,
  DESC_LOOP: 9,
  DESC_ADDR: 10,
  LEN_ZERO: 11,
  LEN_MAX: 12,
  DOORBELL_STORM: 13,
  TRACE_NO_NUL: 14,
  RSC_GARBAGE: 15,
  NEVER_SERVICE: 16,
  UART_FLOOD: 17,
} as const;

/**
 * How long a timed attack lasts: 500 ms in `npm test`; HOSTILE_SOAK_MS=60000 (for instance) makes
 * every timed attack a soak of that length.
 */
export const ATTACK_MS = Number(process.env['HOSTILE_SOAK_MS'] ?? 500);

/** How much the host's heap may grow while an attack runs (after a full collection): 32 MiB. */
const HEAP_BOUND = 32 * 1024 * 1024;

const HOSTILE = readFileSync(new URL('../../firmware/prebuilt/hostile.elf', import.meta.url));

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed after a full collection: what the host really keeps. */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `cond` every 20 ms until it holds (or fail after `ms`, naming `what`). */
export async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** `p`, or a failure naming `what` after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Echoes on the healthy core, 8 in flight, until stopped; counts replies. */
export class EchoLoad {
  replies = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(ch: RpmsgChannel) {
    const ept = ch.open();
    let inFlight = 0;
    let wake: (() => void) | undefined;
    ept.setCallback(() => {
      this.replies++;
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    });
    const payload = new Uint8Array(64).fill(0x42);
    this.stopWaiting = () => wake?.();
    this.done = (async () => {
      while (this.live()) {
        while (inFlight >= 8 && this.live()) await new Promise<void>((r) => (wake = r));
        if (!this.live()) break;
        inFlight++;
        await ept.send(payload, { timeoutMs: 10_000 });
      }
    })();
  }

  private readonly stopWaiting: () => void;

  /** Read through a call: the pump's loop must see stop() change it. */
  private live(): boolean {
    return this.running;
  }

  async stop(): Promise<number> {
    this.running = false;
    this.stopWaiting();
    await this.done;
    return this.replies;
  }
}

/** What one attack left to look at. */
export interface Attack {
  readonly rproc: Rproc;
  /** The hostile core's rpmsg device (the current one: recovery makes a new one). */
  device(): VirtioRpmsgBus | undefined;
  readonly heapBefore: number;
}

export class HostileRig {
  readonly soc: VirtualSoc;
  /** The healthy core's echo channel (a new one after bootHealthy). */
  healthy: RpmsgChannel;
  private runs = 0;

  private constructor(soc: VirtualSoc, healthy: RpmsgChannel) {
    this.soc = soc;
    this.healthy = healthy;
  }

  /** `coreThreads`: as VirtualSoc's (default: the board's, on 2 CPUs both cores in one group thread). */
  static async start(options: { readonly coreThreads?: number } = {}): Promise<HostileRig> {
    const soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      firmware: { rproc0: 'hostile.elf', rproc1: 'rpmsg-echo' },
      ...(options.coreThreads === undefined ? {} : { coreThreads: options.coreThreads }),
    });
    await soc.start();
    await soc.rproc('rproc1').boot();
    const healthy = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1', timeoutMs: 20_000 });
    return new HostileRig(soc, healthy);
  }

  /** Boot the healthy core again (after a test shut it down) and take its new channel. */
  async bootHealthy(): Promise<RpmsgChannel> {
    await this.soc.rproc('rproc1').boot();
    this.healthy = await this.soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1', timeoutMs: 20_000 });
    return this.healthy;
  }

  get hostile(): Rproc {
    return this.soc.rproc('rproc0');
  }

  /** Boot rproc0 with `scenario` patched in (a fresh run id: attacks that crash it run once). */
  async attack(scenario: number): Promise<Attack> {
    const rproc = this.hostile;
    // A test that failed half-way left it up: start from offline whatever happened.
    await this.settle();
    const run = ++this.runs + (process.pid << 8);
    const name = `hostile-${scenario}-${run}.elf`;
    const image = patchElfU32(patchElfU32(HOSTILE, 'hostile_scenario', scenario), 'hostile_run', run >>> 0);
    this.soc.firmwareStore.add(name, image);
    await rproc.setFirmware(name);
    const heapBefore = heapUsed();
    await rproc.boot();
    return {
      rproc,
      heapBefore,
      device: () => this.soc.rpmsg.devicesOf(rproc)[0],
    };
  }

  /**
   * Run `during` while the healthy core echoes; returns its replies meanwhile. It must keep
   * answering: `min` replies, or one per 25 ms when the attack is over sooner (a short attack on a
   * loaded machine leaves time for fewer), and never fewer than 3.
   */
  async echoing(during: () => Promise<void>, min = 20): Promise<number> {
    const load = new EchoLoad(this.healthy);
    const started = performance.now();
    try {
      await during();
    } finally {
      const replies = await load.stop();
      const ms = performance.now() - started;
      const need = Math.max(3, Math.min(min, Math.floor(ms / 25)));
      assert.ok(
        replies >= need,
        `the healthy core echoed ${replies} times during the ${ms.toFixed(0)} ms attack (at least ${need})`,
      );
    }
    return load.replies;
  }

  /** The host kept no more than HEAP_BOUND of what the attack sent it. */
  assertHeapBounded(a: Attack): void {
    const growth = heapUsed() - a.heapBefore;
    assert.ok(growth < HEAP_BOUND, `the host's heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
  }

  /** Stop the hostile core (after any recovery in flight), and check the healthy one still answers. */
  async end(): Promise<void> {
    await this.settle();
    assert.equal(this.hostile.state, 'offline');
    assert.equal(this.soc.rproc('rproc1').state, 'running');
    const load = new EchoLoad(this.healthy);
    await until('an echo after the attack', () => load.replies > 0);
    await load.stop();
  }

  /** The hostile core offline, after whatever recovery was under way. */
  private async settle(): Promise<void> {
    const rproc = this.hostile;
    await until('the hostile core to settle', () => !rproc.lifecycleBusy, 20_000);
    if (rproc.state !== 'offline') await rproc.shutdown();
  }

  async close(): Promise<void> {
    await this.soc.close();
  }
}
