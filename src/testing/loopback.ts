// A whole rpmsg stack in one thread for tests (a loopback rpmsg pair): an Rproc on the FakePlatform with the remoteproc
// virtio transport and an RpmsgHost, wired to a remote core (an RpmsgVirtioDevice, or a scripted
// misbehaving remote) through the same memory, under a deterministic scheduler. Host kicks become
// queued doorbells for the remote core; the remote's notifications become queued
// rproc.vqInterrupt calls; the queue runs on setImmediate (or on demand) until quiescent. The core
// is created when the platform's start op runs (the table is loaded by then) and stopped by its
// stop op, so crashes, recovery and shutdown behave as with real firmware.

import { RprocVirtio } from '../remoteproc/virtio/rproc-virtio.ts';
import { RPROC_FATAL_ERROR, type RprocCrashType } from '../remoteproc/rproc-state.ts';
import type { Rproc } from '../remoteproc/rproc.ts';
import { rprocRig, type Rig } from './rproc-rig.ts';
import type { FakePlatform } from './fake-platform.ts';
import type { RprocOps } from '../remoteproc/rproc-ops.ts';
import { DoorbellQueue } from './doorbell-queue.ts';
import { VirtioDriverRegistry, type VirtioDevice, type VirtioDriver } from '../virtio/virtio-device.ts';
import { RpmsgHost, type RpmsgHostOptions } from '../rpmsg/host/rpmsg-host.ts';
import type { VirtioRpmsgBus } from '../rpmsg/host/virtio-rpmsg-bus.ts';
import { RpmsgVirtioDevice } from '../rpmsg/remote/rpmsg-virtio-device.ts';
import type { RemoteTranslate, RpmsgRemoteOptions } from '../rpmsg/remote/remote-types.ts';
import type { RemoteEndpoint } from '../rpmsg/remote/remote-endpoint.ts';
import { rpmsgFirmware, type RpmsgFirmwareOptions } from './rpmsg-firmware.ts';
import { RprocError } from '../util/errors.ts';

/** What a remote core gets from the board when it starts. */
export interface RemoteContext {
  /** The live resource table (a view of device memory, found by its linked address). */
  readonly table: Uint8Array;
  readonly tableDa: number;
  /** The core's address map (device address or bus address → view): RAM and the DMA pool. */
  readonly translate: RemoteTranslate;
  /** Ring the host's doorbell for `notifyId` (queued; runs rproc.vqInterrupt). */
  notify(notifyId: number): void;
  /** How many times this core has been started on this board (0 for the first boot). */
  readonly generation: number;
}

/** A remote core's firmware, as the scheduler drives it. */
export interface RemoteCore {
  /** Runs once, from the queue, after the core started. */
  onStart(): void;
  /** The host rang doorbell `notifyId`. */
  onKick(notifyId: number): void;
  /** The core is stopped (platform stop op) or crashed; it must not touch memory afterwards. */
  stop(): void;
}

export type CoreFactory<C extends RemoteCore> = (ctx: RemoteContext) => C;

type Task =
  | { readonly kind: 'start'; readonly core: RemoteCore }
  | { readonly kind: 'kick'; readonly notifyId: number }
  | { readonly kind: 'irq'; readonly notifyId: number };

export interface LoopbackOptions<C extends RemoteCore> {
  /** The remote core's firmware, created at each start. */
  readonly core: CoreFactory<C>;
  readonly firmware?: RpmsgFirmwareOptions;
  readonly host?: RpmsgHostOptions;
  /** A platform without a kick op (the vdev must be refused). */
  readonly withoutKick?: boolean;
  /** Run the queue from setImmediate whenever something is queued; default true. */
  readonly auto?: boolean;
  /** Wrap the rpmsg virtio driver (tests observe probe); default the host's own. */
  readonly wrapDriver?: (driver: VirtioDriver) => VirtioDriver;
  /** Extra ops over the FakePlatform's (after the loopback's own). */
  readonly ops?: (platform: FakePlatform) => Partial<RprocOps>;
  /** Record every task run in `trace` ('start', 'kick 1', 'irq 0'). */
  readonly trace?: boolean;
}

/** The board: processor, transport, host, the current remote core and the doorbell queue. */
export class Loopback<C extends RemoteCore> {
  readonly rig: Rig;
  readonly rproc: Rproc;
  readonly platform: FakePlatform;
  readonly virtio: RprocVirtio;
  readonly host: RpmsgHost;
  readonly tableDa: number;
  readonly tableSize: number;
  /** Host → remote doorbells rung, and remote → host notifications, by notify id. */
  readonly kicks = new Map<number, number>();
  readonly irqs = new Map<number, number>();
  /** 'error' events of the host. */
  readonly hostErrors: string[] = [];
  /** The tasks run, in order, when the trace option is on. */
  readonly trace: string[] = [];
  private readonly tracing: boolean;
  private readonly factory: CoreFactory<C>;
  private coreValue: C | undefined;
  private generation = 0;
  private crashed = false;
  private paused = false;
  private readonly queue: DoorbellQueue<Task>;
  /** Doorbells for the core that came while it was paused. */
  private readonly held: Task[] = [];

  constructor(options: LoopbackOptions<C>) {
    this.factory = options.core;
    this.queue = new DoorbellQueue<Task>((task) => this.run(task), options.auto ?? true);
    this.tracing = options.trace ?? false;
    const fw = rpmsgFirmware(options.firmware);
    this.tableDa = fw.tableDa;
    this.tableSize = fw.tableSize;
    // The remote runs on this thread: a send polling for a TX buffer could only wait for nothing.
    this.host = new RpmsgHost({ txPollMaxUs: 0, ...options.host });
    this.host.on('error', (e) => this.hostErrors.push(e.reason));
    const drivers = new VirtioDriverRegistry();
    drivers.register(options.wrapDriver?.(this.host.virtioDriver) ?? this.host.virtioDriver);
    this.virtio = new RprocVirtio(drivers);
    this.rig = rprocRig({
      firmware: fw.elf,
      subdevs: [],
      vdevHooks: false,
      alloc: { vdevHooks: this.virtio },
      ...(options.withoutKick === true ? { without: ['kick'] as const } : {}),
      ops: (platform) => ({
        start: () => {
          platform.record('start');
          platform.running = true;
          this.startCore();
        },
        stop: () => {
          platform.record('stop');
          platform.running = false;
          this.stopCore();
        },
        kick: (_rproc, notifyId) => {
          this.kicks.set(notifyId, (this.kicks.get(notifyId) ?? 0) + 1);
          this.enqueue({ kind: 'kick', notifyId });
        },
        ...options.ops?.(platform),
      }),
    });
    this.rproc = this.rig.rproc;
    this.platform = this.rig.platform;
  }

  /** The running remote core (undefined while the processor is stopped). */
  get core(): C | undefined {
    return this.coreValue;
  }

  /** The running core, or a failed assertion. */
  get c(): C {
    const c = this.coreValue;
    if (c === undefined) throw new RprocError('ENODEV', 'loopback', 'no remote core is running');
    return c;
  }

  /** The rpmsg device of the (first) vdev while it is up. */
  get device(): VirtioRpmsgBus | undefined {
    return this.host.buses[0];
  }

  /** The virtio device the transport created for vdev0. */
  get vdev(): VirtioDevice | undefined {
    const v = this.rproc.resources.vdevs[0];
    return v === undefined ? undefined : this.virtio.deviceOf(v);
  }

  get logs(): string[] {
    return this.rig.logs;
  }

  /** The remote's view of memory: fake RAM, then the DMA pool (PA = DA there). */
  readonly translate: RemoteTranslate = (addr, len) => this.platform.remoteView(addr, len);

  private startCore(): void {
    const table = this.translate(this.tableDa, this.tableSize);
    if (table === undefined)
      throw new RprocError('EFAULT', 'loopback', 'the loaded table is not in fake RAM');
    this.crashed = false;
    this.paused = false; // a pause holds one run of the core, not the next boot
    const self: { core?: C } = {};
    const ctx: RemoteContext = {
      table,
      tableDa: this.tableDa,
      translate: this.translate,
      generation: this.generation++,
      notify: (notifyId) => {
        // A doorbell rung by a core that has crashed or stopped since is lost with it.
        if (this.coreValue !== self.core || this.crashed) return;
        this.irqs.set(notifyId, (this.irqs.get(notifyId) ?? 0) + 1);
        this.enqueue({ kind: 'irq', notifyId });
      },
    };
    const core = this.factory(ctx);
    self.core = core;
    this.coreValue = core;
    this.enqueue({ kind: 'start', core });
  }

  private stopCore(): void {
    const core = this.coreValue;
    this.coreValue = undefined;
    core?.stop();
    // Doorbells for the stopped core are gone with it; interrupts already raised still run.
    this.dropTasks((t) => t.kind !== 'irq');
  }

  private dropTasks(match: (t: Task) => boolean): void {
    this.queue.remove(match);
    this.held.splice(0, this.held.length, ...this.held.filter((t) => !match(t)));
  }

  enqueue(task: Task): void {
    this.queue.enqueue(task);
  }

  /** Run queued doorbells now until the queue is empty (bounded); returns how many ran. */
  drain(limit = 1_000_000): number {
    return this.queue.drain(limit);
  }

  private run(task: Task): void {
    if (this.tracing) this.trace.push(task.kind === 'start' ? 'start' : `${task.kind} ${task.notifyId}`);
    switch (task.kind) {
      case 'irq':
        this.rproc.vqInterrupt(task.notifyId);
        return;
      case 'start':
      case 'kick': {
        const core = this.coreValue;
        if (core === undefined || this.crashed) return;
        if (this.paused) {
          this.held.push(task);
          return;
        }
        if (task.kind === 'start') {
          if (task.core === core) core.onStart();
        } else {
          core.onKick(task.notifyId);
        }
        return;
      }
    }
  }

  /**
   * Run the queue and let promises and immediates settle until nothing is left to do, including
   * the host's RX passes still due (a burst is taken RX_BUDGET messages per turn).
   */
  async idle(maxRounds = 10_000): Promise<void> {
    for (let round = 0; round < maxRounds; round++) {
      await this.queue.idle(maxRounds);
      if (this.host.buses.every((d) => !d.rxPassDue)) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The remote core stops running (doorbells wait) until resume(): a core stuck in a long loop. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const t of this.held.splice(0)) this.enqueue(t);
    // A sleeping core polls once when it wakes.
    const core = this.coreValue;
    if (core !== undefined) this.enqueue({ kind: 'kick', notifyId: -1 });
  }

  /** The remote core dies: it stops at once, and the platform reports the crash to the core. */
  crash(type: RprocCrashType = RPROC_FATAL_ERROR): void {
    this.crashed = true;
    this.dropTasks((t) => t.kind !== 'irq');
    this.rproc.reportCrash(type, { message: 'injected by the loopback' });
  }

  async boot(): Promise<void> {
    await this.rproc.boot();
    await this.idle();
  }

  /** Shut down if running, drop the processor, and check nothing is left behind. */
  async close(): Promise<void> {
    await this.idle();
    await this.rproc.del();
    this.queue.clear();
    this.held.length = 0;
  }
}

export async function createLoopback<C extends RemoteCore>(
  options: LoopbackOptions<C>,
  boot = true,
): Promise<Loopback<C>> {
  const lb = new Loopback(options);
  if (boot) await lb.boot();
  return lb;
}

/** Firmware that never touches the rings (it records the doorbells it gets). */
export function passiveCore(): CoreFactory<RemoteCore & { readonly kicks: number[] }> {
  return () => {
    const kicks: number[] = [];
    return { kicks, onStart: () => undefined, onKick: (id) => kicks.push(id), stop: () => undefined };
  };
}

// ---- a well-behaved remote: the device-role library -----------------------------------------------

/** A remote core running the rpmsg device-role library, serviced on every doorbell. */
export class RpmsgCore implements RemoteCore {
  readonly device: RpmsgVirtioDevice;
  readonly errors: string[] = [];

  constructor(ctx: RemoteContext, options: Partial<RpmsgRemoteOptions> = {}) {
    this.device = new RpmsgVirtioDevice({
      table: ctx.table,
      translate: ctx.translate,
      notify: (id) => ctx.notify(id),
      onError: (e) => this.errors.push(e),
      ...options,
    });
  }

  /** service() until it reports no work (a core going back to WFI). */
  service(): void {
    for (let i = 0; i < 10_000 && this.device.service() > 0; i++);
  }

  onStart(): void {
    this.service();
  }

  onKick(): void {
    this.service();
  }

  stop(): void {
    this.device.close();
  }
}

/** Firmware that runs `setup` on its device at each start (create endpoints there). */
export function rpmsgCore(
  setup: (core: RpmsgCore, ctx: RemoteContext) => void = () => undefined,
  options: Partial<RpmsgRemoteOptions> = {},
): CoreFactory<RpmsgCore> {
  return (ctx) => {
    const core = new RpmsgCore(ctx, options);
    setup(core, ctx);
    return core;
  };
}

/** An endpoint that sends every message back to its sender (errors are kept in core.errors). */
export function echoEndpoint(core: RpmsgCore, name: string, addr?: number): RemoteEndpoint {
  return core.device.createEndpoint({
    name,
    ...(addr === undefined ? {} : { addr }),
    cb: (data, src, ept) => {
      ept.sendTo(src, data).catch((e: unknown) => core.errors.push(`echo: ${String(e)}`));
    },
  });
}

/** Firmware announcing one echo service per name. */
export function echoCore(...names: string[]): CoreFactory<RpmsgCore> {
  const list = names.length === 0 ? ['rpmsg-echo'] : names;
  return rpmsgCore((core) => {
    for (const name of list) echoEndpoint(core, name);
  });
}
