// The SoC scheduler: runs the remote cores in the host thread, one after another, on a virtual
// clock, so that a whole SoC run is reproducible to the instruction — the deterministic mode
// (compare QEMU's -icount). Cores run in lockstep ticks: every core that has work runs for at most
// one quantum of virtual time from the tick's start (an rv32 core a fixed number of instructions
// per ns, a js core a fixed cost per unit of work), in board order; the clock then moves by the
// longest stretch any of them ran. When none has work, the clock jumps to the earliest deadline
// (a core's timer, a watchdog) — idle time costs nothing — and with no deadline the scheduler
// parks until a kick or a start wakes it.
//
// Between two ticks the host runs: each tick is its own macrotask, so every promise the cores'
// interrupts resolved has settled, and every kick the host made is seen by the next tick. What
// the host does in response to the cores is therefore ordered by the cores' virtual time, not by
// how fast this machine is. Host life-cycle operations (boot, shutdown, recovery, coredump) take
// no virtual time: while a hold says one is in progress (reading firmware from disk, writing a
// dump), no core runs, so the time they take cannot change what the cores do.

import { RprocError } from '../../util/errors.ts';

export interface SocSchedulerOptions {
  /** Longest stretch of virtual time one core runs before the others and the host get a turn; ns, default 100 µs. */
  readonly quantumNs?: number;
  /**
   * 'asap' (default): virtual time runs as fast as the host can go, idle time is skipped;
   * 'realtime': virtual time never runs ahead of host time (a firmware's 1 s timer takes 1 s).
   */
  readonly pace?: 'asap' | 'realtime';
  /** rv32 instructions per virtual second; default 100 MHz (10 ns an instruction). */
  readonly rv32Hz?: number;
  /** Virtual cost of one unit of a js core's work (a message served, a timer fired); ns, default 1 µs. */
  readonly jsWorkNs?: number;
}

/** Something the scheduler runs: a core in the host thread, with the host's services for it. */
export interface ScheduledClient {
  /** Position on the board: within a tick, clients run in this order. */
  readonly order: number;
  /** Whether it has work at the scheduler's now. */
  runnable(): boolean;
  /** Run from the scheduler's now for at most `budgetNs`; returns the virtual ns used (≥ 0). */
  runFor(budgetNs: number): number;
  /** Right after its run, at the virtual time it stopped at: the host serves what it rang. */
  serviceHost(): void;
  /** The earliest virtual time (absolute ns) at which it gets work by itself, if any. */
  nextDeadlineNs(): number | undefined;
  /** After every tick, at the new now: host-side checks (the watchdog). */
  tickDone(nowNs: number): void;
}

export const DEFAULT_QUANTUM_NS = 100_000;
export const DEFAULT_RV32_HZ = 100_000_000;
export const DEFAULT_JS_WORK_NS = 1_000;

/** While a hold is on, how often (host ms) the scheduler looks again. */
const HOLD_POLL_MS = 1;
/**
 * Ticks in a row in which clients ran but used no time before the clock is moved 1 ns anyway: a
 * client that keeps saying it has work and does none cannot stall virtual time. A single such
 * tick is normal (a js core finding its queues empty) and must not move the clock, or the time at
 * which the host's next input lands would depend on whether the host was quick enough to beat it.
 */
const ZERO_TICKS_BEFORE_NUDGE = 64;
/** In 'realtime', how far virtual time may run ahead of host time before the scheduler waits, ms. */
const REALTIME_SLACK_MS = 1;

export interface SchedulerStats {
  /** Ticks in which at least one client ran. */
  readonly ticks: number;
  /** Quanta run (one per client per tick). */
  readonly quanta: number;
  /** Idle jumps to a deadline. */
  readonly skips: number;
}

export class SocScheduler {
  readonly quantumNs: number;
  readonly pace: 'asap' | 'realtime';
  readonly rv32Hz: number;
  readonly jsWorkNs: number;
  private nowNs = 0;
  private clients: ScheduledClient[] = [];
  private readonly holds: (() => boolean)[] = [];
  private pendingImmediate: NodeJS.Immediate | undefined;
  private pendingTimeout: NodeJS.Timeout | undefined;
  private settledWaiters: (() => void)[] = [];
  /** The host's virtual timers (delay()), by due time then creation. */
  private timers: { readonly at: number; readonly seq: number; readonly fire: () => void }[] = [];
  private timerSeq = 0;
  private closed = false;
  /** Inside a tick: wake() has nothing to do, the tick schedules the next one itself. */
  private ticking = false;
  private zeroTicks = 0;
  /** 'realtime' anchor: virtual ns and host ms at the last resume. */
  private anchorNs = 0;
  private anchorMs = 0;
  private counts = { ticks: 0, quanta: 0, skips: 0 };

  constructor(options: SocSchedulerOptions = {}) {
    this.quantumNs = positive(options.quantumNs ?? DEFAULT_QUANTUM_NS, 'quantumNs');
    this.rv32Hz = positive(options.rv32Hz ?? DEFAULT_RV32_HZ, 'rv32Hz');
    this.jsWorkNs = positive(options.jsWorkNs ?? DEFAULT_JS_WORK_NS, 'jsWorkNs');
    this.pace = options.pace ?? 'asap';
  }

  /** Virtual time, ns since the scheduler was made. */
  get now(): number {
    return this.nowNs;
  }

  get stats(): SchedulerStats {
    return { ...this.counts };
  }

  /** Whether nothing is due: no client has work or a deadline (a tick would park). */
  get parked(): boolean {
    return this.pendingImmediate === undefined && this.pendingTimeout === undefined;
  }

  /** A client joins (a core starts); it runs from the next tick. */
  add(client: ScheduledClient): void {
    if (this.closed) throw new RprocError('ESHUTDOWN', 'scheduler', 'the SoC scheduler is closed');
    if (this.clients.includes(client)) return;
    this.clients = [...this.clients, client].sort((a, b) => a.order - b.order);
    this.wake();
  }

  /** A client leaves (its core stopped); safe from inside a tick. */
  remove(client: ScheduledClient): void {
    this.clients = this.clients.filter((c) => c !== client);
  }

  /** While `hold()` is true no client runs (a host life-cycle operation is in progress). */
  addHold(hold: () => boolean): void {
    this.holds.push(hold);
  }

  /** Something may have work now (a kick, a start): tick soon if parked. */
  wake(): void {
    if (this.closed || this.ticking || !this.parked) return;
    this.anchor();
    this.schedule(0);
  }

  /**
   * Resolves when virtual time has moved `ms` on from now (at the end of the tick that gets there;
   * idle time is skipped to it): the host's timer on the SoC's clock, for scripts that must be as
   * reproducible as the cores they drive. Aborting `signal` removes the timer and resolves at once.
   */
  delay(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed)
      return Promise.reject(new RprocError('ESHUTDOWN', 'scheduler', 'the SoC scheduler is closed'));
    const at = this.nowNs + Math.max(0, Math.ceil(ms * 1e6));
    return new Promise((resolve) => {
      if (signal?.aborted === true) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      const timer = {
        at,
        seq: this.timerSeq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      // An abandoned wait (a timeout that did not happen) leaves neither its timer nor what the
      // timer's promise holds: a long run with many such waits would keep them all otherwise.
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake();
    });
  }

  /** Resolves once the scheduler parks: every core idle with no deadline (or none running). */
  settled(): Promise<void> {
    if (this.parked || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Stop ticking for good; cores still added simply stop running. */
  close(): void {
    this.closed = true;
    this.cancel();
    this.clients = [];
    // A script still waiting on the SoC's clock would wait for ever: it never comes.
    this.timers = [];
    this.park();
  }

  private readonly tick = (): void => {
    this.pendingImmediate = undefined;
    this.pendingTimeout = undefined;
    if (this.closed) return;
    if (this.holds.some((h) => h())) {
      this.pendingTimeout = setTimeout(this.tick, HOLD_POLL_MS);
      this.anchor();
      return;
    }
    this.ticking = true;
    try {
      if (!this.runTick()) {
        this.park();
        return;
      }
    } finally {
      this.ticking = false;
    }
    this.schedule(this.aheadMs());
  };

  /**
   * One tick: run every client that had work when it began, or skip to the next deadline; false:
   * park. A client the host kicks during the tick (in answer to another's interrupt) waits for the
   * next one, so nothing reaches a core before the virtual time it was sent at.
   */
  private runTick(): boolean {
    const start = this.nowNs;
    const due = this.clients.filter((c) => c.runnable());
    if (due.length > 0) {
      let used = 0;
      for (const client of due) {
        // A client stopped by the host's reaction to an earlier one's interrupts sits out.
        if (!this.clients.includes(client)) continue;
        this.counts.quanta++;
        this.nowNs = start;
        const ran = Math.max(0, client.runFor(this.quantumNs));
        used = Math.max(used, ran);
        // The host hears the client at the virtual time it stopped at.
        this.nowNs = start + ran;
        client.serviceHost();
      }
      this.counts.ticks++;
      this.zeroTicks = used > 0 ? 0 : this.zeroTicks + 1;
      let advance = used;
      if (this.zeroTicks >= ZERO_TICKS_BEFORE_NUDGE) {
        this.zeroTicks = 0;
        advance = 1;
      }
      this.nowNs = start + advance;
    } else {
      const next = this.nextDeadline();
      if (next === undefined) return false;
      this.counts.skips++;
      this.nowNs = next;
    }
    for (const client of [...this.clients]) client.tickDone(this.nowNs);
    while (this.timers.length > 0 && (this.timers[0]?.at ?? Infinity) <= this.nowNs)
      this.timers.shift()?.fire();
    return true;
  }

  /** The earliest deadline still in the future: one at or before now made nothing runnable, so it is no reason to tick. */
  private nextDeadline(): number | undefined {
    let next = this.timers[0]?.at;
    if (next !== undefined && next <= this.nowNs) return this.nowNs;
    for (const client of this.clients) {
      const d = client.nextDeadlineNs();
      if (d !== undefined && d > this.nowNs && (next === undefined || d < next)) next = d;
    }
    return next;
  }

  /** In 'realtime', how many host ms virtual time is ahead (0 when it may go on at once). */
  private aheadMs(): number {
    if (this.pace !== 'realtime') return 0;
    const ahead = (this.nowNs - this.anchorNs) / 1e6 - (performance.now() - this.anchorMs);
    return ahead > REALTIME_SLACK_MS ? ahead : 0;
  }

  /** Virtual time resumes here: 'realtime' pacing does not make up for time spent parked or held. */
  private anchor(): void {
    this.anchorNs = this.nowNs;
    this.anchorMs = performance.now();
  }

  private schedule(delayMs: number): void {
    if (delayMs > 0) this.pendingTimeout = setTimeout(this.tick, delayMs);
    else this.pendingImmediate = setImmediate(this.tick);
  }

  private cancel(): void {
    if (this.pendingImmediate !== undefined) clearImmediate(this.pendingImmediate);
    if (this.pendingTimeout !== undefined) clearTimeout(this.pendingTimeout);
    this.pendingImmediate = undefined;
    this.pendingTimeout = undefined;
  }

  private park(): void {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of waiters) w();
  }
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RprocError('EINVAL', 'scheduler', `${what} must be a positive number, got ${value}`);
  }
  return value;
}
