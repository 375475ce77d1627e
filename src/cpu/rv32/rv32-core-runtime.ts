// The rv32 core as the SoC runs it: one RV32IMAC hart over the core's own address map (RAM
// windows into the SoC's shared memory) and its devices (test finisher, CLINT, PLIC, UART, mailbox,
// watchdog), executed in slices so that halt requests and doorbells are seen promptly. In a worker,
// run() loops over slices and WFI sleeps on the core's WAKE word; in the host thread, the SoC
// scheduler calls slice() itself (src/soc/scheduler). A trap the firmware cannot handle becomes a
// fault report with pc, mcause and mtval. The debug port (rv32-debug-agent.ts) is served between
// slices; while a debugger holds the core, slice() runs nothing.

import { RprocError, hex } from '../../util/errors.ts';
import type { AddressMap } from '../../soc/address-map.ts';
import { CORE_WORD, RUN_STATE, type CoreBlock } from '../../soc/core-block.ts';
import { isCoreDebugMessage, type CoreFault, type CoreMessage } from '../../soc/core-messages.ts';
import type { DebugReply, DebugRequest, DebugSetup, DebugTarget } from '../../soc/debug/debug-protocol.ts';
import type { PhysMemory } from '../../soc/phys-memory.ts';
import { Bus, type RamRegion } from './bus.ts';
import { Hart, type EngineKind, type FatalTrap } from './hart.ts';
import type { JitProbation } from './jit.ts';
import { Rv32DebugAgent } from './rv32-debug-agent.ts';
import { CAUSE, IRQ, causeName } from './trap.ts';
import { UartRxRing } from '../../soc/uart-rx-ring.ts';
import { Clint, hostClockNs } from './devices/clint.ts';
import { MailboxDevice } from './devices/mailbox.ts';
import { Plic } from './devices/plic.ts';
import { PLIC_IRQ } from './devices/rv32-memory-map.ts';
import { testFinisher, type FinisherOutcome } from './devices/test-finisher.ts';
import { Uart16550 } from './devices/uart16550.ts';
import { rv32CoreNotes } from './rv32-core-notes.ts';

export interface Rv32CoreHost {
  readonly coreName: string;
  readonly memory: PhysMemory;
  readonly map: AddressMap;
  readonly block: CoreBlock;
  readonly bootAddr: number;
  readonly engine?: EngineKind;
  /** The core's time in ns since it started (CLINT mtime); host time by default. */
  readonly clockNs?: () => number;
  /** The translator's probation (jit.ts); null turns it off, which a deterministic run needs. */
  readonly jitProbation?: JitProbation | null;
  /** A debugger's state to start with (breakpoints, held at the entry point). */
  readonly debug?: DebugSetup;
  /**
   * A lone worker's debug inbox: the next message the host posted, or undefined (the worker's
   * receiveMessageOnPort; run() takes them when CORE_WORD.DEBUG_SEQ moves).
   */
  readonly debugInbox?: () => unknown;
  post(msg: CoreMessage): void;
}

/**
 * What a slice ended in: 'busy' (budget used up or a stop request: run again), 'idle' (WFI with
 * nothing pending: run again once an interrupt line may have changed), 'stopped' (finished or
 * faulted, already reported: the core sits still until the host stops it), 'halted' (held by a
 * debugger: nothing runs until a debug request resumes it).
 */
export type SliceState = 'busy' | 'idle' | 'stopped' | 'halted';

/** Instructions per slice: ~1 ms at 100 MIPS, so RUN and doorbells are polled about every ms. */
const SLICE = 100_000;
/** Longest WFI sleep without a timer deadline: RUN is still looked at this often. */
const IDLE_WAIT_MS = 50;

const ACCESS_FAULTS: ReadonlySet<number> = new Set([
  CAUSE.INSTRUCTION_ACCESS_FAULT,
  CAUSE.LOAD_ACCESS_FAULT,
  CAUSE.STORE_ACCESS_FAULT,
]);

export class Rv32CoreRuntime implements DebugTarget {
  readonly hart: Hart;
  private readonly debug: Rv32DebugAgent;
  private readonly host: Rv32CoreHost;
  private readonly clint: Clint;
  private readonly mailbox: MailboxDevice;
  private readonly plic: Plic;
  private readonly uart: Uart16550;
  private readonly clockNs: () => number;
  private finished: FinisherOutcome | undefined;
  /** The hold generation the core stalled at when it rang into a held doorbell; 0: not stalled. */
  private stalledAt = 0;

  constructor(host: Rv32CoreHost) {
    this.host = host;
    this.clockNs = host.clockNs ?? hostClockNs();
    const update = (): void => this.updateIrqs();
    this.uart = new Uart16550(
      (text) => host.block.postUart(text, (t) => host.post({ type: 'uart', text: t })),
      {
        rx: new UartRxRing(host.block),
        clockNs: this.clockNs,
        onChange: update,
        txReady: () => host.block.uartRoom(),
      },
    );
    this.clint = new Clint(update, this.clockNs);
    this.plic = new Plic(update);
    // A ring while the host holds the doorbell (a storm) ends the slice and stalls the core until
    // the hold ends or moves to a new generation (CORE_WORD.C2H_HOLD).
    // The mailbox can only move the external interrupt line: no need to poll the UART and the
    // clock at each of its register reads (an echo reads it several times per message).
    this.mailbox = new MailboxDevice(
      host.block,
      () => this.updateMei(),
      (hold) => {
        this.stalledAt = hold;
        this.hart.requestStop();
      },
    );
    const ram: RamRegion[] = host.map.windows.map((w, i) => {
      const bytes = host.memory.view(w.pa, w.size);
      if (bytes === undefined || bytes.byteOffset % 4 !== 0) {
        throw new RprocError(
          'EINVAL',
          'rv32-core',
          `${host.coreName}: window ${i} (da ${hex(w.da)} → pa ${hex(w.pa)}) is not word-aligned RAM`,
        );
      }
      return { base: w.da, size: w.size, bytes, name: `window${i}` };
    });
    const bus = new Bus({
      ram,
      mmio: [
        testFinisher((outcome) => {
          this.finished = outcome;
          this.hart.halt();
        }),
        this.clint.region(),
        this.mailbox.region(),
        this.mailbox.watchdogRegion(),
        this.plic.region(),
        this.uart.region(),
      ],
    });
    this.hart = new Hart({
      bus,
      resetPc: host.bootAddr,
      time: () => Number(this.clint.mtime() & 0xffff_ffff_ffffn),
      engine: host.engine ?? 'jit',
      // Its slices end early after long translations (jit.ts, "Pacing"): run() looks at the
      // interrupt lines between slices.
      jitProbation: host.jitProbation === undefined ? { pace: true } : host.jitProbation,
      // Cores of one firmware that share a thread (a core group) share its compiled regions.
      jitSharedCode: true,
    });
    this.debug = new Rv32DebugAgent(this.hart, (stop) => host.post({ type: 'debug-stop', stop }));
    if (host.debug !== undefined) this.debug.setup(host.debug);
  }

  get debugHalted(): boolean {
    return this.debug.debugHalted;
  }

  /** A debug request, answered at this instruction boundary. */
  debugRequest(req: DebugRequest): DebugReply {
    return this.debug.debugRequest(req);
  }

  /** A lone worker: answer every debug request the host has posted. */
  private serveInbox(): void {
    const inbox = this.host.debugInbox;
    if (inbox === undefined) return;
    for (let m = inbox(); m !== undefined; m = inbox()) {
      if (!isCoreDebugMessage(m)) continue;
      this.host.post({ type: 'debug-reply', id: m.id, reply: this.debugRequest(m.req) });
    }
  }

  /**
   * Sample every interrupt line into mip. MEIP is the mailbox's line (our own, wired straight to
   * the hart, as before the PLIC existed) OR the PLIC's context-0 output (QEMU virt's routing).
   */
  private updateIrqs(): void {
    this.uart.poll();
    this.plic.setLevel(PLIC_IRQ.UART0, this.uart.irq);
    this.updateMei();
    this.hart.setIrq(IRQ.MTI, this.clint.timerPending);
    this.hart.setIrq(IRQ.MSI, this.clint.msip !== 0);
  }

  /** The machine external interrupt: the mailbox's line, or the PLIC's (as the UART last set it). */
  private updateMei(): void {
    this.hart.setIrq(IRQ.MEI, this.mailbox.irqPending || this.plic.meip);
  }

  private running(): boolean {
    return this.host.block.load(CORE_WORD.RUN) === RUN_STATE.RUNNING;
  }

  /** Run until the host halts the core. Blocking: meant for the core's own thread. */
  run(): void {
    const block = this.host.block;
    let seen = block.load(CORE_WORD.WAKE);
    // Requests posted before this thread looked at the word are taken now. The host posts a
    // request before it moves the word, so a moved word always finds its message here.
    let debugSeen = block.load(CORE_WORD.DEBUG_SEQ);
    this.serveInbox();
    let stopped = false;
    while (this.running()) {
      // One load a slice: the debug port costs nothing more while no debugger talks to the core.
      const debugSeq = block.load(CORE_WORD.DEBUG_SEQ);
      if (debugSeq !== debugSeen) {
        debugSeen = debugSeq;
        this.serveInbox();
      }
      if (stopped || this.debug.debugHalted) {
        // Finished, faulted or held by a debugger: the core sits still until the host stops it
        // (or the debugger resumes it); a debug request wakes it through WAKE.
        seen = block.waitForEvent(seen, IDLE_WAIT_MS, 0);
        continue;
      }
      const state = this.slice(SLICE);
      // A doorbell storm the host backs off from: this thread sleeps while the hold that stalled
      // the core lasts.
      while (state === 'busy' && this.doorbellHeld() && this.running())
        block.waitC2HRelease(this.stalledAt, IDLE_WAIT_MS);
      if (state === 'stopped') stopped = true;
      else if (state === 'idle') {
        const deadline = this.msUntilTimer();
        const wait = deadline === undefined ? IDLE_WAIT_MS : Math.min(IDLE_WAIT_MS, deadline);
        if (wait > 0 && !this.interruptPending()) seen = block.waitForEvent(seen, wait);
      }
    }
    this.uart.flush();
  }

  /** Execute up to `budget` instructions; a finish or a fatal trap is reported here. */
  slice(budget: number): SliceState {
    if (this.debug.debugHalted) return 'halted';
    this.updateIrqs();
    const r = this.hart.run(budget);
    // Published for the host's benchmarks (guest instructions per message).
    const instret = this.hart.instret;
    const block = this.host.block;
    block.store(CORE_WORD.INSTRET_LO, instret | 0);
    block.store(CORE_WORD.INSTRET_HI, Math.floor(instret / 0x1_0000_0000));
    switch (r.reason) {
      case 'budget':
      case 'stop':
        return 'busy';
      case 'wfi':
        // Waiting for input: what it printed so far (a prompt) must show without its newline.
        this.uart.flush();
        return 'idle';
      case 'halt':
        this.uart.flush();
        this.reportFinish();
        return 'stopped';
      case 'debug':
        if (r.stop !== undefined) this.debug.hartStopped(r.stop);
        return 'halted';
      case 'fatal':
        this.uart.flush();
        if (r.fatal !== undefined) {
          // With a debugger attached the core first stops where it faulted; resumed, it reports.
          if (this.debug.fatal(r.fatal)) return 'halted';
          this.host.post({ type: 'fault', fault: this.faultOf(r.fatal) });
        }
        return 'stopped';
    }
  }

  /**
   * Whether the core rang into a hold of the host's (a storm backoff) that still lasts: it stalls
   * (a group leaves it alone) until the hold ends or moves to a new generation.
   */
  doorbellHeld(): boolean {
    if (this.stalledAt === 0) return false;
    if (this.host.block.c2hHold() === this.stalledAt) return true;
    this.stalledAt = 0;
    return false;
  }

  /** Whether an interrupt the hart waits for is pending (a WFI would end at once). */
  interruptPending(): boolean {
    this.updateIrqs();
    const csr = this.hart.csr;
    return (csr.mieBits & csr.mipBits) !== 0;
  }

  /**
   * The core's time (ns since it started) of its next timed interrupt — the CLINT timer or the
   * UART's character timeout; undefined: none set.
   */
  timerDeadlineNs(): number | undefined {
    const clint = this.clint.deadlineNs();
    const uart = this.uart.deadlineNs();
    if (uart === undefined) return clint;
    return clint === undefined ? uart : Math.min(clint, uart);
  }

  /** Milliseconds of the core's clock until its next timed interrupt; undefined: none set. */
  msUntilTimer(): number | undefined {
    const at = this.timerDeadlineNs();
    return at === undefined ? undefined : Math.max(0, (at - this.clockNs()) / 1e6);
  }

  /** Whatever the UART still buffers goes out (a halt from the host). */
  flush(): void {
    this.uart.flush();
  }

  private reportFinish(): void {
    const f = this.finished;
    const code = f === undefined || f.kind === 'pass' ? 0 : f.kind === 'fail' ? f.code : 0x7777;
    this.host.block.store(CORE_WORD.EXIT_CODE, code);
    this.host.post({ type: 'exit', code, cause: f === undefined ? 'halt' : f.kind });
  }

  private faultOf(fatal: FatalTrap): CoreFault {
    const trap = fatal.first ?? fatal;
    const why =
      fatal.kind === 'no-handler' ? 'unhandled (no trap handler)' : 'the trap handler keeps trapping';
    return {
      kind: ACCESS_FAULTS.has(trap.cause) ? 'mmufault' : 'fatal',
      message: `${causeName(trap.cause)} at pc ${hex(trap.pc)}, mtval ${hex(trap.tval)}: ${why}`,
      pc: trap.pc,
      cause: trap.cause,
      tval: trap.tval,
      // The registers are those at `fatal` (the instruction the hart stopped at), which for a trap
      // loop is inside the handler; the report names the trap that started it.
      notes: rv32CoreNotes(this.hart, fatal),
    };
  }
}
