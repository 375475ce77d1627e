// The virtual AMP SoC: physical memory sized from the board, one SocCore per remote core with its
// rproc (allocated with the SoC's platform ops, the remoteproc virtio transport, the rpmsg host and
// the virtio console host), a firmware store, and typed events for console output. `start()` adds
// every processor (auto-booting those the board marks), `close()` deletes them and leaves no worker
// or timer behind.

import { availableParallelism } from 'node:os';
import type { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { rprocAlloc, type Rproc } from '../remoteproc/rproc.ts';
import { RprocRegistry } from '../remoteproc/rproc-registry.ts';
import { RprocVirtio } from '../remoteproc/virtio/rproc-virtio.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { RpmsgHost, type RpmsgHostOptions } from '../rpmsg/host/rpmsg-host.ts';
import { RpmsgTtyDriver } from '../rpmsg/host/rpmsg-tty.ts';
import { VirtioConsoleHost, type VirtioConsoleHostOptions } from '../console/virtio-console.ts';
import { VirtioDriverRegistry } from '../virtio/virtio-device.ts';
import { RprocError } from '../util/errors.ts';
import type { Fdt } from './fdt/fdt-tree.ts';
import { defaultBoard } from './fdt/boards/default-board.ts';
import { boardFromFdt, type BoardSpec } from './board.ts';
import { CORE_BLOCK_WORDS } from './core-block.ts';
import { PhysMemory } from './phys-memory.ts';
import { SocCore } from './soc-core.ts';
import { bootLoaderStart } from './boot-loader.ts';
import { SocScheduler, type SocSchedulerOptions } from './scheduler/soc-scheduler.ts';
import { CoreGroup } from './group/core-group.ts';
import type { CoreExitCause } from './core-messages.ts';
import {
  describeFirmwareExit,
  isFirmwareExit,
  shutDownAfterExit,
  type FirmwareExitCause,
} from './firmware-exit.ts';

/**
 * The groups the worker cores of a board with `cores` cores run in: none when every core can have a
 * thread of its own (cores ≤ coreThreads), else coreThreads groups, led by cores 0..coreThreads-1.
 * By default a core has a thread of its own while the cores and the host thread together have no
 * more threads than there are CPUs; beyond that the cores share CPUs - 1 threads, one CPU being
 * the host's, so that every thread keeps a CPU and may poll instead of paying a futex wake-up per
 * message (bench/README.md soc-scale has the figures per board size and thread count).
 */
function coreGroups(memory: PhysMemory, cores: number, coreThreads?: number): CoreGroup[] {
  if (coreThreads !== undefined && !Number.isFinite(coreThreads))
    throw new RprocError('EINVAL', 'soc', `coreThreads must be a number of threads, not ${coreThreads}`);
  const cpus = availableParallelism();
  const threads =
    coreThreads !== undefined
      ? Math.max(1, Math.floor(coreThreads))
      : cores + 1 <= cpus
        ? cores
        : Math.max(1, cpus - 1);
  if (cores <= threads) return [];
  return Array.from({ length: threads }, (_, leader) => new CoreGroup(memory, leader));
}

export interface VirtualSocOptions {
  /** The board; the embedded default board when absent. */
  readonly board?: Fdt;
  /**
   * Where firmware names are looked up; when absent, a store over `firmwareDirs` followed by the
   * firmware that ships with the package (default-firmware.ts), so that the default board boots.
   */
  readonly firmwareStore?: FirmwareStore;
  readonly firmwareDirs?: readonly string[];
  readonly rpmsg?: RpmsgHostOptions;
  /** Buffer sizes of the virtio console ports (rproc-serial / console vdevs). */
  readonly console?: VirtioConsoleHostOptions;
  /** Override the board's firmware-name per core name. */
  readonly firmware?: Readonly<Record<string, string>>;
  /** Override auto-boot for every core (the board's auto-boot otherwise). */
  readonly autoBoot?: boolean;
  /** Extra settings handed to every core runtime (e.g. `engine: 'interpreter'` for rv32 cores). */
  readonly coreOptions?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Run the cores in the host thread under a deterministic scheduler on virtual time (true: the
   * defaults) instead of each in a worker thread on host time. See soc-scheduler.ts.
   */
  readonly scheduler?: SocSchedulerOptions | true;
  /**
   * Most worker threads the cores run in (default: one per core while cores + 1 ≤
   * os.availableParallelism(), else that minus one, one CPU being the host thread's). A board with more
   * cores than this puts them in that many groups, core i in group i % coreThreads, each group
   * sharing one thread (group/core-group.ts); with no more cores than this each core has its own.
   */
  readonly coreThreads?: number;
}

export interface SocEvents extends Record<string, unknown> {
  /** A line (or chunk) the core printed on its UART. */
  uart: { readonly core: string; readonly text: string };
  /**
   * The firmware ended through the test finisher (firmware-exit.ts); the processor is then shut
   * down (its state becomes offline). `code`: 0 for pass, the failure code, 0x7777 for reset.
   */
  exit: {
    readonly core: string;
    readonly code: number;
    readonly cause: FirmwareExitCause;
    /** How it ended, in words ("test finisher FAIL, code 3"). */
    readonly reason: string;
  };
}

export class VirtualSoc extends TypedEmitter<SocEvents> {
  readonly board: BoardSpec;
  readonly memory: PhysMemory;
  readonly cores: readonly SocCore[];
  readonly registry = new RprocRegistry();
  readonly virtio: RprocVirtio;
  readonly rpmsg: RpmsgHost;
  /** ttyRPMSGn ports of firmware that announces "rpmsg-tty" channels; 'port' events. */
  readonly tty = new RpmsgTtyDriver();
  /** Console ports of firmware that declares an rproc-serial (11) or console (3) vdev; 'port' events. */
  readonly console: VirtioConsoleHost;
  readonly firmwareStore: FirmwareStore;
  /** The scheduler the cores run under in deterministic mode; undefined when each has a worker. */
  readonly scheduler: SocScheduler | undefined;
  private closed = false;

  constructor(options: VirtualSocOptions = {}) {
    super();
    this.board = boardFromFdt(options.board ?? defaultBoard());
    this.memory = PhysMemory.create(this.board.ram, this.board.cores.length * CORE_BLOCK_WORDS);
    this.firmwareStore = options.firmwareStore ?? defaultFirmwareStore(options.firmwareDirs);
    // Under the deterministic scheduler the cores run on this thread: a send polling for a TX
    // buffer would wait for a remote that cannot run meanwhile.
    this.rpmsg = new RpmsgHost(
      options.scheduler === undefined ? options.rpmsg : { txPollMaxUs: 0, ...options.rpmsg },
    );
    this.rpmsg.registerDriver(this.tty);
    const drivers = new VirtioDriverRegistry();
    drivers.register(this.rpmsg.virtioDriver);
    this.console = new VirtioConsoleHost(options.console);
    this.console.register(drivers);
    this.virtio = new RprocVirtio(drivers);
    this.scheduler =
      options.scheduler === undefined
        ? undefined
        : new SocScheduler(options.scheduler === true ? {} : options.scheduler);
    const groups =
      this.scheduler === undefined
        ? coreGroups(this.memory, this.board.cores.length, options.coreThreads)
        : [];
    this.cores = this.board.cores.map((spec, index) => {
      const group = groups[index % Math.max(1, groups.length)];
      const core = new SocCore(
        spec,
        index,
        this.memory,
        {
          uart: (c, text) => this.emit('uart', { core: c.name, text }),
          exit: (c, code, cause) => this.onExit(c, code, cause),
        },
        {
          ...(options.coreOptions === undefined ? {} : { coreOptions: options.coreOptions }),
          ...(this.scheduler === undefined ? {} : { scheduler: this.scheduler }),
          ...(group === undefined ? {} : { group }),
        },
      );
      const rproc = rprocAlloc({
        name: spec.name,
        ops: core.ops(),
        firmware: options.firmware?.[spec.name] ?? spec.firmwareName ?? `rproc-${spec.name}-fw`,
        firmwareStore: this.firmwareStore,
        ...(core.pool === undefined ? {} : { dma: core.pool }),
        vdevHooks: this.virtio,
        autoBoot: options.autoBoot ?? spec.autoBoot,
        ...(spec.phandle === undefined ? {} : { phandle: spec.phandle }),
        registry: this.registry,
        detached: spec.earlyBoot,
      });
      core.bind(rproc);
      return core;
    });
    // Life-cycle operations take no virtual time (soc-scheduler.ts): no core runs meanwhile.
    this.scheduler?.addHold(() => this.cores.some((c) => c.rproc.lifecycleBusy));
  }

  /** A core's firmware ended: say so, then shut its processor down (offline). */
  private onExit(core: SocCore, code: number, cause: CoreExitCause): void {
    if (!isFirmwareExit(cause)) return;
    const reason = describeFirmwareExit(code, cause);
    this.emit('exit', { core: core.name, code, cause, reason });
    void shutDownAfterExit(core.rproc, reason);
  }

  core(name: string): SocCore {
    const core = this.cores.find((c) => c.name === name);
    if (core === undefined) {
      throw new RprocError(
        'ENODEV',
        'soc',
        `no core "${name}" on this board (cores: ${this.cores.map((c) => c.name).join(', ')})`,
      );
    }
    return core;
  }

  rproc(name: string): Rproc {
    return this.core(name).rproc;
  }

  /**
   * Power on: the boot loader starts the cores the board marks early-boot (they run before the host
   * looks), then rproc_add for every core: those marked auto-boot start booting, or attach to the
   * early-booted ones, now.
   */
  async start(): Promise<void> {
    for (const core of this.cores) {
      if (core.spec.earlyBoot) await bootLoaderStart(core, this.firmwareStore, core.rproc.firmware);
    }
    for (const core of this.cores) await core.rproc.add();
  }

  /** Delete every processor (stopping what runs) and release everything; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const core of this.cores) core.closeInput();
    for (const core of this.cores) {
      await core.rproc.autoBootDone;
      await core.rproc.del();
      await core.stopCore();
      core.rproc.free();
    }
    this.scheduler?.close();
  }
}
