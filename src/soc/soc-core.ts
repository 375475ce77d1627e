// One remote core of the virtual SoC and the platform driver that runs it: the RprocOps a
// remoteproc platform driver provides (prepare registers the board's reserved-memory carveouts,
// parse_fw takes a missing resource table as none (stm32-style), start releases the core at the
// boot address, stop halts it, kick rings the mailbox, daToVa uses the core's own address map,
// attach/detach for a core a boot loader started), and what it does with what the core reports:
// mailbox interrupts become rproc_vq_interrupt calls, faults and watchdog bites become crash
// reports. The core itself executes on host time in a worker thread of its own or shared with its
// core group (worker-execution.ts, group/), or on virtual time in the host thread under the SoC
// scheduler (scheduler/). Mirrors a platform driver such as stm32_rproc.c.

import { RprocError, hex } from '../util/errors.ts';
import { parseElf } from '../elf/elf-reader.ts';
import { formatSymbolized, symbolize } from '../elf/elf-symbols.ts';
import { MemEntry } from '../remoteproc/carveouts.ts';
import { RPROC_FATAL_ERROR, RPROC_MMUFAULT, RPROC_WATCHDOG } from '../remoteproc/rproc-state.ts';
import type { RprocOps, LoadedRscTable } from '../remoteproc/rproc-ops.ts';
import type { CrashDetail, Rproc } from '../remoteproc/rproc.ts';
import { AddressMap } from './address-map.ts';
import { CORE_WORD, CoreBlock, HOST_EVENT, UART_PENDING_LIMIT, notifyBit } from './core-block.ts';
import { RateLimiter, withSuppressed } from '../util/rate-limit.ts';
import type { CoreExecution, CoreSink } from './core-execution.ts';
import { coreKind } from './core-kind.ts';
import type { CoreExitCause, CoreFault } from './core-messages.ts';
import { CoreDebugPort } from './debug/core-debug-port.ts';
import type { ElfNote } from '../elf/elf-core-notes.ts';
import { DmaPool } from './dma-pool.ts';
import type { DoorbellTap } from './doorbell-tap.ts';
import { parseFwOptionalTable } from './optional-rsc-table.ts';
import type { CoreSpec } from './board.ts';
import type { CoreGroup } from './group/core-group.ts';
import type { PhysMemory } from './phys-memory.ts';
import { ScheduledExecution } from './scheduler/scheduled-execution.ts';
import type { SocScheduler } from './scheduler/soc-scheduler.ts';
import { WorkerExecution } from './worker-execution.ts';
import { UartInput } from './uart-input.ts';
import { UartRxRing } from './uart-rx-ring.ts';

const OVERFLOW = notifyBit(31);
/** How long an attach waits for the core to see the previous detach (HOST_EVENT.DETACHED). */
const DETACH_SEEN_MS = 250;

export interface SocCoreEvents {
  uart(core: SocCore, text: string): void;
  exit(core: SocCore, code: number, cause: CoreExitCause): void;
}

export interface SocCoreOptions {
  /** Settings for the core runtime (e.g. the rv32 engine). */
  readonly coreOptions?: Readonly<Record<string, string | number | boolean>>;
  /** Run the core in the host thread under this scheduler instead of in a worker. */
  readonly scheduler?: SocScheduler;
  /** Run the core in this group's worker thread (shared with other cores) instead of one of its own. */
  readonly group?: CoreGroup;
}

export class SocCore {
  readonly spec: CoreSpec;
  readonly index: number;
  readonly block: CoreBlock;
  readonly map: AddressMap;
  readonly pool: DmaPool | undefined;
  /** Kicks both ways go through this when set (doorbell-tap.ts): tracing, fault injection. */
  doorbellTap: DoorbellTap | undefined;
  /** The core's debug port: rv32 cores have one (halt, step, registers, breakpoints); js cores none. */
  readonly debugPort: CoreDebugPort | undefined;
  private readonly memory: PhysMemory;
  private readonly execution: CoreExecution;
  private readonly uartInput: UartInput;
  private readonly hasUartInput: boolean;
  private readonly events: SocCoreEvents;
  private rprocRef: Rproc | undefined;
  private uartDroppedSeen = 0;
  private readonly uartLimiter = new RateLimiter();
  /** The notes of this run's last fault (its registers), for the coredump; cleared at start. */
  private faultNotes: readonly ElfNote[] | undefined;

  constructor(
    spec: CoreSpec,
    index: number,
    memory: PhysMemory,
    events: SocCoreEvents,
    options: SocCoreOptions = {},
  ) {
    this.spec = spec;
    this.index = index;
    this.memory = memory;
    this.events = events;
    this.block = new CoreBlock(memory.device, index);
    this.map = new AddressMap(spec.addressMap);
    this.pool =
      spec.dmaPool === undefined
        ? undefined
        : new DmaPool(memory, this.map, spec.dmaPool.pa, spec.dmaPool.size);
    const sink: CoreSink = {
      uart: (text) => this.onUart(text),
      fault: (fault) => this.onFault(fault),
      exit: (code, cause) => this.events.exit(this, code, cause),
      interrupt: (mask) => this.interrupt(mask),
      watchdogBite: (period) =>
        this.rproc.reportCrash(RPROC_WATCHDOG, { message: `watchdog bite: no kick for ${period} ms` }),
      debugStop: (stop) => this.debugPort?.stopped(stop),
    };
    const coreOptions = options.coreOptions ?? {};
    // What runs the core is the registry's to say (core-kind.ts): ENODEV here if no engine registered.
    const kind = coreKind(spec.kind, spec.name);
    this.hasUartInput = kind.uartInput === true;
    this.execution =
      options.scheduler === undefined
        ? new WorkerExecution(spec, kind, index, memory, this.block, sink, coreOptions, options.group)
        : new ScheduledExecution({
            spec,
            kind,
            index,
            memory,
            map: this.map,
            block: this.block,
            sink,
            scheduler: options.scheduler,
            options: coreOptions,
          });
    this.debugPort = spec.kind === 'rv32' ? new CoreDebugPort(spec.name, index, this.execution) : undefined;
    this.uartInput = new UartInput(new UartRxRing(this.block), this.execution);
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * The host's end of the core's UART0 (an rv32 core's ns16550a receiver): `core.uart.send('help\r')`
   * types into the firmware; what it prints comes back as the SoC's 'uart' events. js cores have
   * no UART: EOPNOTSUPP.
   */
  get uart(): UartInput {
    if (!this.hasUartInput)
      throw new RprocError(
        'EOPNOTSUPP',
        'uart-input',
        `${this.name} is a ${this.spec.kind} core: it has no UART to type into`,
      );
    return this.uartInput;
  }

  /** @internal the SoC is closing: input that still waits is dropped. */
  closeInput(): void {
    this.uartInput.close();
  }

  get rproc(): Rproc {
    if (this.rprocRef === undefined) throw new RprocError('ENODEV', 'soc', `${this.name} has no rproc yet`);
    return this.rprocRef;
  }

  /** @internal the SoC binds the rproc it allocated with ops() */
  bind(rproc: Rproc): void {
    this.rprocRef = rproc;
  }

  get running(): boolean {
    return this.execution.running;
  }

  /** The platform driver's ops for this core. */
  ops(): RprocOps {
    return {
      prepare: (rproc) => this.registerCarveouts(rproc),
      parseFw: parseFwOptionalTable,
      start: async (rproc) => {
        await this.startCore(rproc.bootAddr);
      },
      stop: async () => {
        await this.stopCore();
      },
      kick: (_rproc, notifyId) => {
        const tap = this.doorbellTap;
        if (tap === undefined) this.execution.kick(notifyId);
        else tap.hostKick(this, notifyId, () => this.execution.kick(notifyId));
      },
      daToVa: (_rproc, da, len) => this.daToVa(da, len),
      attach: async () => {
        // After a detach, the core may still be finishing a round of its old session (a reply
        // published, the buffer it came in not yet returned) when the host attaches again and
        // zeroes the rings it reuses: a late store of the old used.idx into the fresh ring breaks
        // it. The core takes DETACHED before it touches its rings again, so wait for that
        // (bounded: firmware that never reads its events gets the attach anyway).
        await this.execution.hostEventsTaken(HOST_EVENT.DETACHED, DETACH_SEEN_MS);
        this.execution.startServices();
      },
      detach: () => {
        this.execution.stopServices();
        // The table is clean again (rproc_detach restored it): tell the firmware to start over.
        this.execution.raise(HOST_EVENT.DETACHED);
      },
      getLoadedRscTable: () => this.loadedTable(),
      coredumpNotes: () => this.faultNotes,
    };
  }

  /** The core's view of its memory at device address `da` (its address map), or undefined. */
  daToVa(da: bigint | number, len: number): Uint8Array | undefined {
    return this.map.view(this.memory, da, len);
  }

  /** Start the core at `bootAddr` outside the remoteproc life cycle (a boot loader: early boot). */
  async startCore(bootAddr: bigint): Promise<void> {
    if (bootAddr < 0n || bootAddr > 0xffff_ffffn) {
      throw new RprocError(
        'EINVAL',
        'core-start',
        `${this.name}: boot address ${hex(bootAddr)} is not a 32-bit address`,
      );
    }
    // What a previous run left on its way is lost with its thread: the new one starts with room.
    this.block.store(CORE_WORD.UART_PENDING, 0);
    this.faultNotes = undefined;
    await this.execution.start(Number(bootAddr), this.debugPort?.startSetup());
    this.debugPort?.running(true);
  }

  async stopCore(): Promise<void> {
    const wasRunning = this.execution.running;
    await this.execution.stop();
    if (wasRunning) this.debugPort?.running(false);
  }

  /** @internal handle what this core has rung, if anything, now. */
  takeInterrupts(): void {
    this.execution.takeInterrupts();
  }

  /** Like a boot loader: tell whoever attaches where the running firmware's table is. */
  publishTable(da: number, size: number): void {
    this.block.store(CORE_WORD.RSC_DA, da);
    this.block.store(CORE_WORD.RSC_SIZE, size);
  }

  private loadedTable(): LoadedRscTable | undefined {
    const da = this.block.load(CORE_WORD.RSC_DA) >>> 0;
    const size = this.block.load(CORE_WORD.RSC_SIZE) >>> 0;
    if (size === 0) return undefined;
    // Published by whoever booted the core: translate through the core's own map, bounded.
    const bytes = this.map.view(this.memory, da, size);
    if (bytes === undefined) {
      throw new RprocError(
        'EINVAL',
        'attach',
        `${this.name}: the published resource table [${hex(da)}, +${hex(size)}) is not in the core's memory`,
      );
    }
    return { bytes };
  }

  /** prepare: every memory-region the board gives the core becomes a named carveout (stm32-style). */
  private registerCarveouts(rproc: Rproc): void {
    for (const c of this.spec.carveouts) {
      const da = this.map.paToDa(c.pa, c.size);
      const va = this.memory.view(c.pa, c.size);
      if (da === undefined || va === undefined) {
        rproc.log(
          'warn',
          `${this.name}: region ${c.name} at pa ${hex(c.pa)} is not visible to the core; not registered`,
        );
        continue;
      }
      rproc.resources.carveouts.add(
        new MemEntry({ name: c.name, da, len: c.size, buffer: { da, pa: c.pa, va } }),
      );
    }
  }

  /** Doorbell-storm moderation of this core (worker cores), for diagnostics and tests. */
  get moderation(): CoreExecution['moderation'] {
    return this.execution.moderation;
  }

  /** UART characters this core dropped because the host was behind (its output is bounded). */
  get uartDropped(): number {
    return this.block.uartDropped();
  }

  private onUart(text: string): void {
    // Handled: the core may post as much again (the limit bounds what is on its way, not the total).
    this.block.uartHandled(text.length);
    const dropped = this.block.uartDropped();
    if (dropped !== this.uartDroppedSeen) {
      this.uartDroppedSeen = dropped;
      const allowed = this.uartLimiter.allow('uart-dropped');
      if (allowed !== false) {
        this.rprocRef?.log(
          'warn',
          withSuppressed(
            `${this.name}: UART output dropped: the host was ${UART_PENDING_LIMIT} characters behind (${dropped} dropped so far)`,
            allowed,
          ),
        );
      }
    }
    this.events.uart(this, text);
  }

  private interrupt(mask: number): boolean {
    const rproc = this.rprocRef;
    if (rproc === undefined) return false;
    const tap = this.doorbellTap;
    let handled = false;
    if ((mask & OVERFLOW) === 0) {
      for (let m = mask, id = 0; m !== 0; m >>>= 1, id++) {
        if ((m & 1) === 0) continue;
        if (tap === undefined ? rproc.vqInterrupt(id) : this.tappedInterrupt(tap, rproc, id)) handled = true;
      }
      return handled;
    }
    // An id ≥ 31 was rung: every id of every vdev may be pending.
    let maxId = 0;
    for (const v of rproc.resources.vdevs) for (const r of v.vrings) maxId = Math.max(maxId, r.notifyId);
    for (let id = 0; id <= maxId; id++) {
      if (tap === undefined ? rproc.vqInterrupt(id) : this.tappedInterrupt(tap, rproc, id)) handled = true;
    }
    return handled;
  }

  /** The tap decides about the ring; one it loses or delays is not spurious (storm moderation must not count it). */
  private tappedInterrupt(tap: DoorbellTap, rproc: Rproc, id: number): boolean {
    let handled: boolean | undefined;
    tap.remoteKick(this, id, () => {
      handled = rproc.vqInterrupt(id);
    });
    return handled ?? true;
  }

  private onFault(fault: CoreFault): void {
    // Kept for the coredump that recovery takes after stopping the core (rproc.ts bootRecovery).
    if (fault.notes !== undefined) this.faultNotes = fault.notes;
    const detail: CrashDetail = { message: fault.message, ...this.symbolic(fault) };
    this.rproc.reportCrash(fault.kind === 'mmufault' ? RPROC_MMUFAULT : RPROC_FATAL_ERROR, detail);
  }

  private symbolic(fault: CoreFault): Omit<CrashDetail, 'message'> {
    const out: { pc?: number; cause?: number; tval?: number; symbol?: string } = {};
    if (fault.cause !== undefined) out.cause = fault.cause;
    if (fault.tval !== undefined) out.tval = fault.tval;
    if (fault.pc === undefined) return out;
    out.pc = fault.pc;
    const fw = this.rprocRef?.loadedFirmware;
    if (fw === undefined) return out;
    try {
      const s = symbolize(parseElf(fw.bytes), fault.pc);
      if (s !== undefined) out.symbol = formatSymbolized(s);
    } catch {
      // A firmware whose symbols do not parse still gets its crash report, without a name.
    }
    return out;
  }
}
