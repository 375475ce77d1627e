// Test rig for the console: an Rproc on the FakePlatform whose firmware declares an rpmsg vdev
// (id 7) and a console vdev (id 11 or 3), the remoteproc virtio transport with the rpmsg host and
// the console host registered, and a remote core running both device-side libraries (or a scripted
// one) over the same memory. Host kicks become queued doorbells for the core, the core's
// notifications queued rproc.vqInterrupt calls; the queue runs on setImmediate. Test-only.

import { RprocVirtio } from '../../src/remoteproc/virtio/rproc-virtio.ts';
import { RPROC_FATAL_ERROR } from '../../src/remoteproc/rproc-state.ts';
import type { Rproc } from '../../src/remoteproc/rproc.ts';
import { rig, firmwareWithTable, TABLE_DA, type Rig } from './rproc-fixtures.ts';
import type { FakePlatform } from '../../src/testing/fake-platform.ts';
import { DoorbellQueue } from '../../src/testing/doorbell-queue.ts';
import { buildRscTable } from '../../src/rsc/rsc-build.ts';
import type { RscEntrySpec } from '../../src/rsc/rsc-types.ts';
import { VIRTIO_ID_RPMSG, VIRTIO_RPMSG_F_NS } from '../../src/rsc/rsc-constants.ts';
import { RpmsgHost } from '../../src/rpmsg/host/rpmsg-host.ts';
import { RpmsgVirtioDevice } from '../../src/rpmsg/remote/rpmsg-virtio-device.ts';
import { VirtioDriverRegistry } from '../../src/virtio/virtio-device.ts';
import { VIRTIO_ID_RPROC_SERIAL } from '../../src/console/console-constants.ts';
import {
  VirtioConsoleDevice,
  type ConsoleDeviceOptions,
  type ConsoleTranslate,
} from '../../src/console/console-device.ts';
import { VirtioConsoleHost, type VirtioConsoleHostOptions } from '../../src/console/virtio-console.ts';

export interface ConsoleFirmwareOptions {
  /** Console device id: 11 (rproc-serial, default) or 3 (console). */
  readonly consoleId?: number;
  /** Entries per console vring; default 16. */
  readonly consoleNum?: number;
  /** Vrings the console vdev declares; default 2. */
  readonly consoleVrings?: 1 | 2;
  readonly consoleFeatures?: number;
  readonly consoleConfig?: Uint8Array;
  /** Put the rpmsg vdev first (default) or leave it out. */
  readonly rpmsg?: boolean;
}

/** The table: vdev0 = rpmsg (16-entry vrings, NS), vdev1 = the console. */
export function consoleTable(options: ConsoleFirmwareOptions = {}): Uint8Array {
  const entries: RscEntrySpec[] = [];
  if (options.rpmsg ?? true) {
    entries.push({
      kind: 'vdev',
      id: VIRTIO_ID_RPMSG,
      notifyId: 30,
      dfeatures: 1 << VIRTIO_RPMSG_F_NS,
      vrings: [
        { align: 0x1000, num: 16 },
        { align: 0x1000, num: 16 },
      ],
    });
  }
  const num = options.consoleNum ?? 16;
  const vring = { align: 0x1000, num };
  entries.push({
    kind: 'vdev',
    id: options.consoleId ?? VIRTIO_ID_RPROC_SERIAL,
    notifyId: 31,
    dfeatures: options.consoleFeatures ?? 0,
    vrings: (options.consoleVrings ?? 2) === 2 ? [vring, vring] : [vring],
    ...(options.consoleConfig === undefined ? {} : { config: options.consoleConfig }),
  });
  return buildRscTable(entries);
}

/** What a remote core gets when it starts. */
export interface CoreContext {
  readonly table: Uint8Array;
  readonly translate: ConsoleTranslate;
  notify(notifyId: number): void;
  /** 0 for the first boot, then 1, 2, ... */
  readonly generation: number;
}

export interface RemoteCore {
  /** Service everything; called at start and on every doorbell. */
  service(): void;
  stop(): void;
}

/** The well-behaved remote: rpmsg and console device sides, serviced until idle. */
export class DualCore implements RemoteCore {
  readonly rpmsg: RpmsgVirtioDevice | undefined;
  readonly console: VirtioConsoleDevice;
  readonly errors: string[] = [];

  constructor(ctx: CoreContext, withRpmsg: boolean, consoleOptions: Partial<ConsoleDeviceOptions> = {}) {
    this.rpmsg = withRpmsg
      ? new RpmsgVirtioDevice({
          table: ctx.table,
          translate: ctx.translate,
          notify: (id) => ctx.notify(id),
          onError: (e) => this.errors.push(e),
        })
      : undefined;
    this.console = new VirtioConsoleDevice({
      table: ctx.table,
      translate: ctx.translate,
      notify: (id) => ctx.notify(id),
      onError: (e) => this.errors.push(e),
      ...consoleOptions,
    });
  }

  service(): void {
    for (let i = 0; i < 10_000; i++) {
      const work = (this.rpmsg?.service() ?? 0) + this.console.service();
      if (work === 0) return;
    }
  }

  stop(): void {
    this.rpmsg?.close();
    this.console.close();
  }
}

type Task =
  | { readonly kind: 'service'; readonly core: RemoteCore }
  | { readonly kind: 'irq'; readonly notifyId: number };

export interface ConsoleRigOptions<C extends RemoteCore> {
  readonly firmware?: ConsoleFirmwareOptions;
  readonly host?: VirtioConsoleHostOptions;
  /** The remote core, created at each start. */
  readonly core: (ctx: CoreContext) => C;
}

export class ConsoleRig<C extends RemoteCore> {
  readonly rig: Rig;
  readonly rproc: Rproc;
  readonly platform: FakePlatform;
  readonly virtio: RprocVirtio;
  readonly rpmsg = new RpmsgHost();
  readonly console: VirtioConsoleHost;
  readonly tableSize: number;
  readonly kicks: number[] = [];
  readonly irqs: number[] = [];
  private readonly factory: (ctx: CoreContext) => C;
  private coreValue: C | undefined;
  private generation = 0;
  /** The generation of the running core, -1 while stopped. */
  private runningGen = -1;
  private crashed = false;
  private paused = false;
  private readonly queue = new DoorbellQueue<Task>((task) => {
    this.run(task);
  });

  constructor(options: ConsoleRigOptions<C>) {
    this.factory = options.core;
    this.console = new VirtioConsoleHost(options.host);
    const table = consoleTable(options.firmware);
    this.tableSize = table.length;
    const drivers = new VirtioDriverRegistry();
    drivers.register(this.rpmsg.virtioDriver);
    this.console.register(drivers);
    this.virtio = new RprocVirtio(drivers);
    this.rig = rig({
      firmware: firmwareWithTable(table),
      subdevs: [],
      vdevHooks: false,
      alloc: { vdevHooks: this.virtio },
      ops: (platform) => ({
        start: () => {
          platform.record('start');
          platform.running = true;
          this.startCore();
        },
        stop: () => {
          platform.record('stop');
          platform.running = false;
          const core = this.coreValue;
          this.coreValue = undefined;
          this.runningGen = -1;
          core?.stop();
        },
        kick: (_rproc, notifyId) => {
          this.kicks.push(notifyId);
          const core = this.coreValue;
          if (core !== undefined) this.enqueue({ kind: 'service', core });
        },
      }),
    });
    this.rproc = this.rig.rproc;
    this.platform = this.rig.platform;
  }

  get core(): C {
    const c = this.coreValue;
    if (c === undefined) throw new Error('no remote core is running');
    return c;
  }

  /** The remote's view of memory: fake RAM, then the DMA pool (PA = DA there). */
  readonly translate: ConsoleTranslate = (addr, len) => this.platform.remoteView(addr, len);

  private startCore(): void {
    const table = this.translate(TABLE_DA, this.tableSize);
    if (table === undefined) throw new Error('the loaded table is not in fake RAM');
    this.crashed = false;
    const gen = this.generation++;
    this.runningGen = gen;
    const ctx: CoreContext = {
      table,
      translate: this.translate,
      generation: gen,
      notify: (notifyId) => {
        // A doorbell rung by a core that has stopped or crashed since is lost with it.
        if (this.runningGen !== gen || this.crashed) return;
        this.irqs.push(notifyId);
        this.enqueue({ kind: 'irq', notifyId });
      },
    };
    const core = this.factory(ctx);
    this.coreValue = core;
    this.enqueue({ kind: 'service', core });
  }

  enqueue(task: Task): void {
    this.queue.enqueue(task);
  }

  /** Run queued work until the queue is empty. */
  drain(): number {
    return this.queue.drain();
  }

  private run(t: Task): void {
    if (t.kind === 'irq') {
      this.rproc.vqInterrupt(t.notifyId);
    } else if (t.core === this.coreValue && !this.crashed && !this.paused) {
      t.core.service();
    }
  }

  /** Let queued doorbells, promises and stream callbacks run until nothing is left. */
  idle(maxRounds = 10_000): Promise<void> {
    return this.queue.idle(maxRounds);
  }

  /** The core stops servicing (doorbells are lost) until resume(), which services it once. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const core = this.coreValue;
    if (core !== undefined) this.enqueue({ kind: 'service', core });
  }

  /** Ring the core once (as if it woke up), e.g. after its firmware queued output. */
  poke(): void {
    const core = this.coreValue;
    if (core !== undefined) this.enqueue({ kind: 'service', core });
  }

  crash(): void {
    this.crashed = true;
    this.rproc.reportCrash(RPROC_FATAL_ERROR, { message: 'injected by the console rig' });
  }

  async boot(): Promise<void> {
    await this.rproc.boot();
    await this.idle();
  }

  async close(): Promise<void> {
    await this.idle();
    await this.rproc.del();
    this.queue.clear();
  }
}

/** A rig whose remote runs both device sides, with `setup` at each start (create endpoints there). */
export function dualRig(
  options: {
    readonly firmware?: ConsoleFirmwareOptions;
    readonly host?: VirtioConsoleHostOptions;
    readonly device?: Partial<ConsoleDeviceOptions>;
    readonly setup?: (core: DualCore, ctx: CoreContext) => void;
  } = {},
): ConsoleRig<DualCore> {
  const withRpmsg = options.firmware?.rpmsg ?? true;
  return new ConsoleRig<DualCore>({
    ...(options.firmware === undefined ? {} : { firmware: options.firmware }),
    ...(options.host === undefined ? {} : { host: options.host }),
    core: (ctx) => {
      const core = new DualCore(ctx, withRpmsg, options.device);
      options.setup?.(core, ctx);
      return core;
    },
  });
}
