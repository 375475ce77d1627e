// A remote processor: allocation, registration, the power-refcounted boot/shutdown life cycle,
// attach/detach, crash reporting with recovery. Its other parts are objects of their own:
// rproc.resources (rproc-resource-view.ts), rproc.crash (rproc-crash.ts), rproc.coredump
// (rproc-coredump.ts); the sysfs/debugfs/cdev control surface is control/. Every multi-step
// operation unwinds in reverse when a step fails. Mirrors drivers/remoteproc/remoteproc_core.c
// (rproc_alloc/add/del/boot/shutdown/detach/report_crash/trigger_recovery); deviations from Linux
// are marked "Deviation" and listed in docs/decisions.md.

import { RprocError, hex, isRprocError } from '../util/errors.ts';
import { RSC_IGNORED } from '../rsc/rsc-constants.ts';
import { FirmwareStore, type Firmware } from './firmware-store.ts';
import type { DmaAllocator } from './carveouts.ts';
import { AsyncLock } from '../util/async-lock.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { RprocResources, type RprocIommu } from './resources.ts';
import { RprocResourceView } from './rproc-resource-view.ts';
import { RprocCrashControl } from './rproc-crash.ts';
import { RprocCoredumpControl } from './rproc-coredump.ts';
import { prepareSubdevs, startSubdevs, stopSubdevs, unprepareSubdevs, type RprocSubdev } from './subdev.ts';
import type { VdevHooks } from './vdev.ts';
import type { RprocOps } from './rproc-ops.ts';
import { ELF_DEFAULT_OPS } from './elf-defaults.ts';
import { defaultRegistry, type RprocRegistry } from './rproc-registry.ts';
import type { RprocCoredump } from './coredump.ts';
import {
  RPROC_FEAT_ATTACH_ON_RECOVERY,
  RPROC_STATE,
  crashTypeName,
  type RprocCrashType,
  type RprocFeature,
  type RprocState,
} from './rproc-state.ts';

export interface RprocAllocOptions {
  readonly name: string;
  readonly ops: RprocOps;
  /** Firmware name; default `rproc-<name>-fw`, as in Linux. */
  readonly firmware?: string;
  readonly firmwareStore?: FirmwareStore;
  /** Memory pool for carveouts the firmware asks for. */
  readonly dma?: DmaAllocator;
  /** Present when the processor sits behind an IOMMU-like mapping (needed by devmem entries). */
  readonly iommu?: RprocIommu;
  /** The virtio transport; without it vdevs are set up but no virtio device appears. */
  readonly vdevHooks?: VdevHooks;
  /** Boot (or attach) on add; default true, as rproc_alloc sets it. */
  readonly autoBoot?: boolean;
  /** The processor's device-tree phandle, for getByPhandle. */
  readonly phandle?: number;
  readonly registry?: RprocRegistry;
  /** The platform found the core already running: start in 'detached' (requires ops.attach). */
  readonly detached?: boolean;
  readonly features?: readonly RprocFeature[];
  /** How long recovery waits for an inline coredump to be released; Linux's devcoredump: 5 min. */
  readonly coredumpInlineTimeoutMs?: number;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** What a platform can tell about a crash beyond its type: the crash report's body. */
export interface CrashDetail {
  readonly message: string;
  /** Program counter at the fault. */
  readonly pc?: number;
  /** Architecture cause code (mcause on RISC-V). */
  readonly cause?: number;
  /** Faulting address or instruction bits (mtval). */
  readonly tval?: number;
  /** The function containing pc, from the firmware's symbols ("main+0x1a"). */
  readonly symbol?: string;
  /**
   * Which layer found the crash when it was not the core itself: 'virtio' when the remote broke a
   * virtqueue's protocol (a used ring naming a buffer it was not given, used.idx running past what
   * it holds), which no driver can recover from without a reset.
   */
  readonly source?: 'virtio';
}

export interface RprocEvents extends Record<string, unknown> {
  state: { readonly from: RprocState; readonly to: RprocState };
  crash: {
    readonly type: RprocCrashType;
    readonly typeName: string;
    readonly count: number;
    /** What the platform knew about the crash (faulting pc, cause, function), if anything. */
    readonly detail: CrashDetail | undefined;
  };
  recovery: { readonly phase: 'start' | 'done' | 'failed'; readonly error?: RprocError };
  coredump: RprocCoredump;
  log: { readonly level: LogLevel; readonly message: string };
}

const DEFAULT_INLINE_TIMEOUT_MS = 5 * 60 * 1000;

/** rproc_alloc: a processor in 'offline' (or 'detached') with its ops completed by the defaults. */
export function rprocAlloc(options: RprocAllocOptions): Rproc {
  return new Rproc(options);
}

export class Rproc extends TypedEmitter<RprocEvents> {
  readonly name: string;
  readonly index: number;
  readonly phandle: number | undefined;
  readonly ops: RprocOps;
  readonly firmwareStore: FirmwareStore;
  readonly registry: RprocRegistry;
  readonly features: ReadonlySet<RprocFeature>;

  private stateValue: RprocState;
  private powerCount = 0;
  private firmwareName: string;
  private bootAddrValue = 0n;
  private firmwareLoaded: Firmware | undefined;
  private readonly lock = new AsyncLock();
  private refs = 1;
  private addedFlag = false;
  private crashPending = false;
  private autoBootPending = false;

  autoBoot: boolean;
  /** The resources held for the current boot or attach: table, carveouts, traces, vdevs. */
  readonly resources: RprocResourceView;
  /** Crash count, recovery switch and trigger (crashes are reported with reportCrash). */
  readonly crash: RprocCrashControl;
  /** Coredump mode, segments, ELF info, and the dump itself. */
  readonly coredump: RprocCoredumpControl;

  /** rproc->cached_table: the host's copy (firmware boot), undefined for attached processors. */
  private cachedTable: Uint8Array | undefined;
  /** rproc->table_ptr: where table edits go (cached copy, or device memory once loaded). */
  private tablePtr: Uint8Array | undefined;
  /** The pristine live table captured at attach, restored on detach. */
  private cleanTable: Uint8Array | undefined;

  private readonly platformSubdevs: RprocSubdev[] = [];
  private readonly rsc: RprocResources;
  private readonly dma: DmaAllocator | undefined;
  private readonly vdevHooks: VdevHooks | undefined;
  /** The boot started by add() when auto-boot is on (never rejects; failures are logged). */
  autoBootDone: Promise<void> | undefined;

  constructor(options: RprocAllocOptions) {
    super();
    if (options.name === '') throw new RprocError('EINVAL', 'rproc-alloc', 'a remote processor needs a name');
    this.name = options.name;
    this.registry = options.registry ?? defaultRegistry;
    this.index = this.registry.allocIndex();
    this.phandle = options.phandle;
    // rproc_alloc_ops: without a load op every ELF helper is defaulted; with one, none is.
    this.ops = options.ops.load === undefined ? { ...ELF_DEFAULT_OPS, ...options.ops } : { ...options.ops };
    this.firmwareStore = options.firmwareStore ?? new FirmwareStore();
    this.firmwareName = options.firmware ?? `rproc-${options.name}-fw`;
    this.autoBoot = options.autoBoot ?? true;
    this.features = new Set(options.features ?? []);
    this.dma = options.dma;
    this.stateValue = options.detached === true ? RPROC_STATE.DETACHED : RPROC_STATE.OFFLINE;
    this.vdevHooks = options.vdevHooks;
    this.crash = new RprocCrashControl(() => this.recover());
    this.coredump = new RprocCoredumpControl(
      this,
      (dump) => this.emit('coredump', dump),
      options.coredumpInlineTimeoutMs ?? DEFAULT_INLINE_TIMEOUT_MS,
    );
    this.rsc = new RprocResources({
      owner: this,
      dma: this.dma,
      iommu: options.iommu,
      vdevHooks: options.vdevHooks,
      handleVendor: (type, body, offset, avail) =>
        this.ops.handleRsc?.(this, type, body, offset, avail) ?? RSC_IGNORED,
      warn: (message) => this.log('warn', message),
    });
    this.resources = new RprocResourceView(this.rsc, {
      table: () => this.tablePtr,
      holdsTables: () =>
        this.tablePtr !== undefined || this.cachedTable !== undefined || this.cleanTable !== undefined,
      daToVa: (da, len) => this.daToVa(da, len),
    });
  }

  // ---- read-only views ---------------------------------------------------------------------

  get state(): RprocState {
    return this.stateValue;
  }

  /** Number of outstanding boot() calls (Linux's rproc->power). */
  get power(): number {
    return this.powerCount;
  }

  get firmware(): string {
    return this.firmwareName;
  }

  get bootAddr(): bigint {
    return this.bootAddrValue;
  }

  /** The firmware image of the current (or last) boot: crash reports symbolize pc with it. */
  get loadedFirmware(): Firmware | undefined {
    return this.firmwareLoaded;
  }

  /** remoteproc<N>, the device name Linux gives it. */
  get devName(): string {
    return `remoteproc${this.index}`;
  }

  get added(): boolean {
    return this.addedFlag;
  }

  /** Platform subdevices followed by the vdevs: the order they are prepared and started in. */
  get subdevs(): readonly RprocSubdev[] {
    return [...this.platformSubdevs, ...this.rsc.vdevs];
  }

  /**
   * Whether a life-cycle operation is under way or about to start (boot, auto-boot, shutdown,
   * detach, crash handling, recovery, coredump): a deterministic platform holds its cores meanwhile.
   */
  get lifecycleBusy(): boolean {
    return this.lock.locked || this.crashPending || this.autoBootPending;
  }

  // ---- registration and references ---------------------------------------------------------

  /** rproc_add: validate, register, and auto-boot (synchronously when detached). */
  async add(): Promise<void> {
    if (this.addedFlag) throw new RprocError('EBUSY', 'rproc-add', `${this.name} is already added`);
    const offlineOk = this.stateValue === RPROC_STATE.OFFLINE && this.ops.start !== undefined;
    const detachedOk =
      this.stateValue === RPROC_STATE.DETACHED &&
      this.ops.attach !== undefined &&
      this.cachedTable === undefined;
    if (!offlineOk && !detachedOk) {
      const need = this.stateValue === RPROC_STATE.DETACHED ? 'an attach op' : 'a start op';
      throw new RprocError(
        'EINVAL',
        'rproc-add',
        `${this.name} in state ${this.stateValue} needs ${need} to be added`,
      );
    }
    this.addedFlag = true;
    this.log('info', `${this.name} is available`);
    if (this.autoBoot) {
      if (this.stateValue === RPROC_STATE.DETACHED) {
        try {
          await this.boot();
        } catch (e) {
          this.addedFlag = false;
          throw e;
        }
      } else {
        // request_firmware_nowait: the boot runs after add returns.
        this.autoBootPending = true;
        this.autoBootDone = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          // boot() takes the lock before any macrotask can run: lifecycleBusy has no gap.
          this.autoBootPending = false;
          try {
            await this.boot();
          } catch (e) {
            this.log('error', `Boot failed: ${errorMessage(e)}`);
          }
        });
      }
    }
    this.registry.link(this);
  }

  /**
   * rproc_del. Deviation: Linux calls shutdown once and ignores the result, so with power > 1 or
   * a crashed processor the core keeps running after del. We stop it whatever the power count.
   */
  async del(): Promise<void> {
    await this.lock.run(async () => {
      if (this.stateValue === RPROC_STATE.DELETED) return;
      if (this.isUp() || this.stateValue === RPROC_STATE.CRASHED) {
        this.powerCount = 1;
        try {
          await this.shutdownLocked();
        } catch (e) {
          this.log('error', `shutdown at delete failed: ${errorMessage(e)}`);
          this.releaseEverything();
          await this.unprepareQuietly();
        }
      }
      this.powerCount = 0;
      this.setState(RPROC_STATE.DELETED);
      this.registry.unlink(this);
      this.addedFlag = false;
    });
  }

  /** Take a reference (rproc_get_by_phandle does this for you). */
  get(): this {
    this.refs++;
    return this;
  }

  /** rproc_put: drop a reference taken by getByPhandle or get(). */
  put(): void {
    // One put too many would free the index a second time, after another rproc may have taken it.
    if (this.refs <= 0)
      throw new RprocError('EINVAL', 'rproc-put', `${this.name} has no reference left to drop`);
    this.refs--;
    if (this.refs === 0) this.registry.releaseIndex(this.index);
  }

  /** rproc_free: drop the reference rproc_alloc gave. */
  free(): void {
    this.put();
  }

  // ---- life cycle --------------------------------------------------------------------------

  /** rproc_boot: power up (only on the first call), from firmware or by attaching. */
  async boot(): Promise<void> {
    await this.lock.run(async () => {
      if (this.stateValue === RPROC_STATE.DELETED) {
        throw new RprocError('ENODEV', 'boot', `${this.name} has been deleted`);
      }
      this.powerCount++;
      if (this.powerCount > 1) return;
      try {
        if (this.stateValue === RPROC_STATE.DETACHED) {
          await this.attachLocked();
        } else {
          const fw = await this.firmwareStore.request(this.firmwareName);
          this.log('info', `Booting fw image ${this.firmwareName}, size ${fw.bytes.length}`);
          await this.fwBoot(fw);
        }
      } catch (e) {
        this.powerCount--;
        throw e;
      }
    });
  }

  /**
   * rproc_shutdown: drop one power reference; stop on the last. Deviation: Linux refuses a crashed
   * processor (EINVAL), leaving one whose recovery is disabled impossible to stop; we stop it.
   */
  async shutdown(): Promise<void> {
    await this.lock.run(() => this.shutdownLocked());
  }

  /** rproc_detach: let go of an attached processor, leaving it running. */
  async detach(): Promise<void> {
    await this.lock.run(async () => {
      if (this.stateValue !== RPROC_STATE.ATTACHED) {
        throw new RprocError(
          'EINVAL',
          'detach',
          `${this.name} is ${this.stateValue}, only an attached processor can be detached`,
        );
      }
      this.powerCount--;
      if (this.powerCount > 0) return;
      try {
        await this.detachCore();
      } catch (e) {
        this.powerCount++;
        throw e;
      }
      this.releaseResources();
      await this.unprepareQuietly();
    });
  }

  /** rproc_set_firmware: only while offline; the name is cut at the first newline. */
  async setFirmware(name: string): Promise<void> {
    await this.lock.run(() => {
      if (this.stateValue !== RPROC_STATE.OFFLINE) {
        throw new RprocError(
          'EBUSY',
          'set-firmware',
          `${this.name} is ${this.stateValue}; firmware can only change while offline`,
        );
      }
      const cut = name.split('\n', 1)[0] ?? '';
      if (cut === '') throw new RprocError('EINVAL', 'set-firmware', 'empty firmware name');
      this.firmwareName = cut;
      return Promise.resolve();
    });
  }

  // ---- crashes and recovery ----------------------------------------------------------------

  /**
   * rproc_report_crash: callable at any time, from any callback. Handled asynchronously; reports
   * that arrive while one is pending collapse into it, and only the first crash of a run counts.
   */
  reportCrash(type: RprocCrashType, detail?: CrashDetail): void {
    const more = detail === undefined ? '' : `: ${detail.message}`;
    this.log('error', `crash detected in ${this.name}: type ${crashTypeName(type)}${more}`);
    if (this.crashPending) return;
    this.crashPending = true;
    setImmediate(() => {
      void this.handleCrash(type, detail);
    });
  }

  private async handleCrash(type: RprocCrashType, detail: CrashDetail | undefined): Promise<void> {
    const handled = await this.lock.run(() => {
      this.crashPending = false;
      // Deviation: Linux filters only crashed and offline; a crash after del would resurrect the
      // deleted processor's state, so deleted is filtered too. So is detached: the host holds no
      // power reference on a detached core, and Linux's recovery of it would boot or attach it with
      // power 0 (a later shutdown() then drove the count negative).
      const s = this.stateValue;
      if (
        s === RPROC_STATE.CRASHED ||
        s === RPROC_STATE.OFFLINE ||
        s === RPROC_STATE.DELETED ||
        s === RPROC_STATE.DETACHED
      )
        return Promise.resolve(false);
      this.setState(RPROC_STATE.CRASHED);
      const count = this.crash.counted();
      this.log('error', `handling crash #${count} in ${this.name}`);
      this.emit('crash', { type, typeName: crashTypeName(type), count, detail });
      return Promise.resolve(true);
    });
    if (handled && !this.crash.recoveryDisabled) {
      try {
        await this.recover();
      } catch {
        // Reported through the 'recovery' event and the log.
      }
    }
  }

  /** rproc_trigger_recovery: a no-op unless crashed (rproc.crash.recover). */
  private async recover(): Promise<void> {
    await this.lock.run(async () => {
      if (this.stateValue !== RPROC_STATE.CRASHED) return;
      this.log('info', `recovering ${this.name}`);
      this.emit('recovery', { phase: 'start' });
      try {
        if (this.features.has(RPROC_FEAT_ATTACH_ON_RECOVERY)) await this.attachRecovery();
        else await this.bootRecovery();
      } catch (e) {
        const error = asRprocError(e, 'recovery');
        this.log('error', `recovery of ${this.name} failed: ${error.message}`);
        this.emit('recovery', { phase: 'failed', error });
        throw error;
      }
      this.emit('recovery', { phase: 'done' });
    });
  }

  private async bootRecovery(): Promise<void> {
    await this.stop(true);
    await this.coredump.run();
    let fw: Firmware;
    try {
      fw = await this.firmwareStore.request(this.firmwareName);
    } catch (e) {
      // Deviation: Linux stays offline with power ≥ 1 and everything still allocated; we release
      // it all so that a later boot() starts clean.
      await this.abandonAfterFailedRecovery();
      throw e;
    }
    try {
      // The cached table and the carveouts are reused: resources are not parsed again.
      await this.start(fw);
    } catch (e) {
      await this.abandonAfterFailedRecovery();
      throw e;
    }
  }

  private async attachRecovery(): Promise<void> {
    // A failing detach leaves the processor crashed and held, as a failing stop does in boot
    // recovery: recover() or shutdown() can be tried again.
    await this.detachCore();
    try {
      await this.attachCore();
    } catch (e) {
      // Deviation (as for boot recovery): Linux stays detached with power ≥ 1 and everything still
      // allocated, where boot() is a no-op and shutdown()/detach() refuse; we release it all.
      await this.abandonAfterFailedRecovery();
      throw e;
    }
  }

  private async abandonAfterFailedRecovery(): Promise<void> {
    this.releaseResources();
    this.powerCount = 0;
    await this.unprepareQuietly();
  }

  // ---- memory ------------------------------------------------------------------------------

  /** rproc_da_to_va: the platform's translation first, then the carveouts; a view, never a copy. */
  daToVa(da: bigint, len: number): Uint8Array | undefined {
    const va = this.ops.daToVa?.(this, da, len);
    if (va !== undefined) return va.length >= len ? va.subarray(0, len) : undefined;
    return this.rsc.carveouts.daToVa(da, len);
  }

  /** The memory pool carveouts come from (virtio drivers allocate their buffers here too). */
  get dmaAllocator(): DmaAllocator | undefined {
    return this.dma;
  }

  /**
   * rproc_vq_interrupt: the platform's mailbox handler calls this with the notify id the remote
   * rang. Unknown ids and queues without news are ignored (false), as Linux returns IRQ_NONE.
   */
  vqInterrupt(notifyId: number): boolean {
    return this.vdevHooks?.vqInterrupt?.(this, notifyId) ?? false;
  }

  /** Call the platform's kick op (virtqueue notify); EINVAL when the platform has none. */
  kick(notifyId: number): void {
    if (this.ops.kick === undefined) throw new RprocError('EINVAL', 'kick', `${this.name} has no kick op`);
    this.ops.kick(this, notifyId);
  }

  // ---- subdevices --------------------------------------------------------------------------

  /** rproc_add_subdev: platform subdevices come before the vdevs in start order. */
  addSubdev(subdev: RprocSubdev): void {
    this.platformSubdevs.push(subdev);
  }

  removeSubdev(subdev: RprocSubdev): void {
    const i = this.platformSubdevs.indexOf(subdev);
    if (i >= 0) this.platformSubdevs.splice(i, 1);
  }

  // ---- the steps ---------------------------------------------------------------------------

  private isUp(): boolean {
    return this.stateValue === RPROC_STATE.RUNNING || this.stateValue === RPROC_STATE.ATTACHED;
  }

  private async shutdownLocked(): Promise<void> {
    if (!this.isUp() && this.stateValue !== RPROC_STATE.CRASHED) {
      throw new RprocError('EINVAL', 'shutdown', `${this.name} is ${this.stateValue}, not running`);
    }
    this.powerCount--;
    if (this.powerCount > 0) return;
    try {
      await this.stop(this.stateValue === RPROC_STATE.CRASHED);
    } catch (e) {
      this.powerCount++;
      throw e;
    }
    this.releaseResources();
    await this.unprepareQuietly();
  }

  /** rproc_fw_boot. */
  private async fwBoot(fw: Firmware): Promise<void> {
    await this.ops.sanityCheck?.(this, fw);
    this.firmwareLoaded = fw;
    await this.ops.prepare?.(this);
    try {
      this.bootAddrValue = this.ops.getBootAddr?.(this, fw) ?? 0n;
      const table = await this.ops.parseFw?.(this, fw);
      this.cachedTable = table;
      this.tablePtr = table;
      try {
        if (table !== undefined) this.rsc.handle(table);
        await this.start(fw);
      } catch (e) {
        this.releaseResources();
        throw e;
      }
    } catch (e) {
      await this.unprepareQuietly();
      throw e;
    }
  }

  /** rproc_start: load, publish the table, prepare subdevs, start, start subdevs. */
  private async start(fw: Firmware): Promise<void> {
    if (this.ops.load === undefined) throw new RprocError('EINVAL', 'start', `${this.name} has no load op`);
    await this.ops.load(this, fw);
    const cached = this.cachedTable;
    const loaded = this.ops.findLoadedRscTable?.(this, fw);
    if (loaded !== undefined && cached !== undefined) {
      if (loaded.length < cached.length) {
        throw new RprocError(
          'EINVAL',
          'start',
          `loaded resource table is ${hex(loaded.length)} bytes, the cached one ${hex(cached.length)}`,
        );
      }
      loaded.set(cached);
      this.tablePtr = loaded;
    } else if (cached !== undefined) {
      // TC-R09: Linux boots on silently; the firmware will never see carveout addresses, notify ids
      // or the virtio status, which is worth a line in the log.
      this.log(
        'warn',
        'the loaded firmware has no resource table in device memory: the remote will not see host updates',
      );
    }
    try {
      await this.runWithSubdevs(async () => {
        if (this.ops.start === undefined)
          throw new RprocError('EINVAL', 'start', `${this.name} has no start op`);
        await this.ops.start(this);
      });
    } catch (e) {
      this.tablePtr = this.cachedTable;
      throw e;
    }
    this.setState(RPROC_STATE.RUNNING);
    this.log('info', `remote processor ${this.name} is now up`);
  }

  /** rproc_stop: subdevs down (reverse), the table back to a host copy, stop, unprepare subdevs. */
  private async stop(crashed: boolean): Promise<void> {
    if (this.ops.stop === undefined) throw new RprocError('EINVAL', 'stop', `${this.name} has no stop op`);
    const subdevs = this.subdevs;
    await stopSubdevs(subdevs, crashed, this.unwindLogger);
    if (this.cachedTable !== undefined) {
      this.tablePtr = this.cachedTable;
    } else if (this.tablePtr !== undefined) {
      // Attached processor: keep a host copy for the bookkeeping that follows the stop.
      this.cachedTable = this.tablePtr.slice();
      this.tablePtr = this.cachedTable;
      this.cleanTable = undefined;
    }
    await this.ops.stop(this);
    await unprepareSubdevs(subdevs, this.unwindLogger);
    this.setState(RPROC_STATE.OFFLINE);
    this.log('info', `stopped remote processor ${this.name}`);
  }

  /** rproc_attach: prepare, adopt the live table, resources, then attach. */
  private async attachLocked(): Promise<void> {
    await this.ops.prepare?.(this);
    try {
      const loaded = await this.ops.getLoadedRscTable?.(this);
      // The table as the remote left it, put back if the attach fails.
      const found = loaded?.bytes.slice();
      if (loaded !== undefined) {
        if (this.ops.detach !== undefined) this.cleanTable = loaded.bytes.slice();
        this.cachedTable = undefined;
        this.tablePtr = loaded.bytes;
      }
      try {
        // The live table is remote-owned: handle() validates it as strictly as a file (TC-L03).
        if (this.tablePtr !== undefined) this.rsc.handle(this.tablePtr);
        await this.attachCore();
      } catch (e) {
        // Linux before v6.16 leaked the resources and the clean table here. Deviation: Linux's
        // cleanup then writes vring da 0 / notifyid -1 into the live table and leaves the addresses
        // of the carveouts it just freed there; a retry would ask for vring memory at da 0. We
        // restore the table as found and let the cleanup write into a host copy.
        if (loaded !== undefined && found !== undefined && this.tablePtr === loaded.bytes) {
          this.tablePtr = loaded.bytes.slice();
          loaded.bytes.set(found);
        }
        this.releaseResources();
        throw e;
      }
    } catch (e) {
      await this.unprepareQuietly();
      throw e;
    }
  }

  /**
   * The common middle of rproc_start and __rproc_attach: prepare subdevices, run the processor op
   * (start or attach), start subdevices; unwinding in reverse when a step fails (a failed subdev
   * start stops the processor again, ignoring that stop's own failure as Linux does).
   */
  private async runWithSubdevs(processorOp: () => Promise<void>): Promise<void> {
    const subdevs = this.subdevs;
    await prepareSubdevs(subdevs, this.unwindLogger);
    try {
      await processorOp();
    } catch (e) {
      await unprepareSubdevs(subdevs, this.unwindLogger);
      throw e;
    }
    try {
      await startSubdevs(subdevs, this.unwindLogger);
    } catch (e) {
      await this.stopForUnwind();
      await unprepareSubdevs(subdevs, this.unwindLogger);
      throw e;
    }
  }

  /** __rproc_attach. */
  private async attachCore(): Promise<void> {
    await this.runWithSubdevs(async () => {
      await this.ops.attach?.(this);
    });
    this.setState(RPROC_STATE.ATTACHED);
    this.log('info', `remote processor ${this.name} is now attached`);
  }

  /** __rproc_detach: subdevs down, pristine table back into device memory, detach. */
  private async detachCore(): Promise<void> {
    if (this.ops.detach === undefined)
      throw new RprocError('EINVAL', 'detach', `${this.name} has no detach op`);
    const subdevs = this.subdevs;
    await stopSubdevs(subdevs, false, this.unwindLogger);
    const live = this.tablePtr;
    if (live !== undefined) {
      this.cachedTable = live.slice();
      if (this.cleanTable !== undefined && this.cleanTable.length <= live.length) live.set(this.cleanTable);
      this.tablePtr = this.cachedTable;
    }
    this.cleanTable = undefined;
    await this.ops.detach(this);
    await unprepareSubdevs(subdevs, this.unwindLogger);
    this.setState(RPROC_STATE.DETACHED);
    this.log('info', `detached remote processor ${this.name}`);
  }

  /** rproc_resource_cleanup plus dropping every table (Linux v6.15: table_sz cleared too). */
  private releaseResources(): void {
    try {
      this.rsc.cleanup(this.tablePtr);
    } catch (e) {
      this.log('error', `resource cleanup: ${errorMessage(e)}`);
    }
    this.cachedTable = undefined;
    this.tablePtr = undefined;
    this.cleanTable = undefined;
    this.coredump.clearSegments();
  }

  private releaseEverything(): void {
    this.releaseResources();
    this.setState(RPROC_STATE.OFFLINE);
  }

  /**
   * ops.stop while unwinding a failed start or attach: Linux ignores its result there, so a failure
   * is logged and the unwind goes on (the subdevices must still be unprepared, and the caller must
   * see the error that started the unwind).
   */
  private async stopForUnwind(): Promise<void> {
    try {
      await this.ops.stop?.(this);
    } catch (e) {
      this.log('error', `stop while unwinding failed: ${errorMessage(e)}`);
    }
  }

  private async unprepareQuietly(): Promise<void> {
    try {
      await this.ops.unprepare?.(this);
    } catch (e) {
      this.log('error', `unprepare failed: ${errorMessage(e)}`);
    }
  }

  private readonly unwindLogger = (subdev: RprocSubdev, step: string, error: unknown): void => {
    this.log('error', `subdevice ${subdev.name} ${step} failed: ${errorMessage(error)}`);
  };

  private setState(to: RprocState): void {
    const from = this.stateValue;
    if (from === to) return;
    this.stateValue = to;
    this.emit('state', { from, to });
  }

  /** Add a line to this processor's log (the 'log' event), as dev_info/dev_err would. */
  log(level: LogLevel, message: string): void {
    this.emit('log', { level, message });
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function asRprocError(e: unknown, op: string): RprocError {
  return isRprocError(e) ? e : new RprocError('EIO', op, errorMessage(e), { cause: e });
}
