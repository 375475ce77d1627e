// A remote core executing in the host thread under the SoC scheduler, on virtual time: the same
// core runtimes a worker runs (an rv32 hart, or a js firmware program), driven a quantum at a
// time by the scheduler instead of by a loop of their own, with the CLINT, the js core's timers
// and the watchdog all on the scheduler's clock. The host's side of the mailbox is served between
// quanta: the ids the core rang go to the sink right after it ran, at the virtual time it stopped
// at (or, for a js program that rang from a promise continuation, at the next tick), and a kick
// marks the core runnable for the next tick. Debug requests are answered at once (between quanta
// the core is at an instruction boundary); while a debugger holds the core, the scheduler holds
// too: virtual time stands still, so no host timer on the SoC's clock (a run's --timeout) fires.

import { RprocError } from '../../util/errors.ts';
import type { AddressMap } from '../address-map.ts';
import type { CoreSpec } from '../board.ts';
import { CORE_WORD, RUN_STATE, type CoreBlock } from '../core-block.ts';
import type { CoreExecution, CoreSink } from '../core-execution.ts';
import type { CoreKindDefinition, ScheduledCore } from '../core-kind.ts';
import type { CoreMessage } from '../core-messages.ts';
import { DebugLink } from '../debug/debug-link.ts';
import { debugError, type DebugReply, type DebugRequest, type DebugSetup } from '../debug/debug-protocol.ts';
import type { PhysMemory } from '../phys-memory.ts';
import { Watchdog } from '../watchdog.ts';
import type { ScheduledClient, SocScheduler } from './soc-scheduler.ts';

export interface ScheduledExecutionOptions {
  readonly spec: CoreSpec;
  /** What runs the core (core-kind.ts). */
  readonly kind: CoreKindDefinition;
  readonly index: number;
  readonly memory: PhysMemory;
  readonly map: AddressMap;
  readonly block: CoreBlock;
  readonly sink: CoreSink;
  readonly scheduler: SocScheduler;
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

export class ScheduledExecution implements CoreExecution, ScheduledClient {
  readonly order: number;
  private readonly o: ScheduledExecutionOptions;
  private readonly watchdog: Watchdog;
  private core: ScheduledCore | undefined;
  private servicesOn = false;
  private readonly debugLink: DebugLink;
  /** Host work waiting for the core to run (UART input with no room yet), done after each tick. */
  private retries: (() => void)[] = [];

  constructor(o: ScheduledExecutionOptions) {
    this.o = o;
    this.order = o.index;
    this.watchdog = new Watchdog(o.block, (period) => o.sink.watchdogBite(period));
    this.debugLink = new DebugLink(
      (id, req) => {
        const debug = this.core?.debug;
        if (debug === undefined) throw new Error(`${o.spec.name} is not running or has no debug port`);
        this.debugLink.reply(id, debug(req));
      },
      {
        stop: (stop) => o.sink.debugStop(stop),
        held: (on) => {
          if (on) this.watchdog.pause();
          else {
            this.watchdog.resume(o.scheduler.now / 1e6);
            o.scheduler.wake();
          }
        },
      },
    );
    o.scheduler.addHold(() => this.debugLink.held);
  }

  get running(): boolean {
    return this.core !== undefined;
  }

  get debugHeld(): boolean {
    return this.debugLink.held;
  }

  debug(req: DebugRequest): Promise<DebugReply> {
    if (this.core?.debug === undefined)
      return Promise.resolve(debugError('ENODEV', `${this.o.spec.name} is not running or has no debug port`));
    return this.debugLink.request(req);
  }

  async start(bootAddr: number, debug?: DebugSetup): Promise<void> {
    const { o } = this;
    if (this.core !== undefined)
      throw new RprocError('EBUSY', 'core-start', `${o.spec.name} is already running`);
    o.block.store(CORE_WORD.RUN, RUN_STATE.RUNNING);
    o.block.store(CORE_WORD.EXIT_CODE, 0);
    this.startServices();
    if (debug?.hold === true) this.debugLink.startsHeld();
    try {
      const core = o.kind.engine.scheduled(
        {
          coreName: o.spec.name,
          coreIndex: o.index,
          memory: o.memory,
          map: o.map,
          block: o.block,
          bootAddr,
          options: o.options,
          post: (msg) => this.post(msg),
          ...(debug === undefined ? {} : { debug }),
        },
        o.scheduler,
      );
      this.core = core instanceof Promise ? await core : core;
    } catch (e) {
      // A core that cannot even be built (its windows are not RAM) never ran: nothing to report.
      this.stopServices();
      this.debugLink.closed(`${o.spec.name} did not start`);
      o.block.store(CORE_WORD.RUN, RUN_STATE.HALTED);
      throw e;
    }
    o.scheduler.add(this);
  }

  /** Halt the core at once: between two quanta it is never in the middle of anything. */
  stop(): Promise<void> {
    this.stopServices();
    const core = this.core;
    if (core === undefined) return Promise.resolve();
    this.core = undefined;
    this.o.scheduler.remove(this);
    this.o.block.store(CORE_WORD.RUN, RUN_STATE.HALTED);
    core.halt();
    this.debugLink.closed(`${this.o.spec.name} stopped`);
    return Promise.resolve();
  }

  kick(notifyId: number): void {
    this.o.block.postH2C(notifyId);
    this.core?.kicked();
    this.o.scheduler.wake();
  }

  raise(events: number): void {
    this.o.block.postHostEvent(events);
    this.core?.kicked();
    this.o.scheduler.wake();
  }

  /**
   * Nothing to wait for: a core steps in the host thread, never while a life-cycle operation is
   * in progress, so it cannot be half-way through a session when the host reuses its rings.
   */
  hostEventsTaken(): Promise<boolean> {
    return Promise.resolve(true);
  }

  poke(): void {
    this.core?.kicked();
    this.o.scheduler.wake();
  }

  retry(pump: () => void): void {
    this.retries.push(pump);
  }

  startServices(): void {
    this.servicesOn = true;
    this.watchdog.start(this.o.scheduler.now / 1e6);
    // Whatever the core rang while nobody listened is served at the next tick.
    this.o.scheduler.wake();
  }

  stopServices(): void {
    this.servicesOn = false;
    this.watchdog.stop();
  }

  takeInterrupts(): void {
    if (!this.servicesOn) return;
    const { block } = this.o;
    if (!block.c2hPending()) return;
    const mask = block.takeC2H();
    if (mask !== 0) this.o.sink.interrupt(mask);
  }

  // ---- ScheduledClient ------------------------------------------------------------------

  runnable(): boolean {
    const hostWork = this.servicesOn && this.o.block.c2hPending();
    return hostWork || (this.core?.runnable() ?? false);
  }

  runFor(budgetNs: number): number {
    // Rung from a js program's promise continuation after the last tick: the host hears it now.
    this.takeInterrupts();
    const core = this.core;
    if (core === undefined || !core.runnable()) return 0;
    let used: number;
    try {
      used = core.runFor(budgetNs);
    } catch (e) {
      // What would kill a worker (an exception escaping the core's own code) must not unwind
      // through the host's event loop: the core stops where it is and the host gets a crash report.
      this.core = undefined;
      this.o.scheduler.remove(this);
      this.o.sink.fault({
        kind: 'fatal',
        message: `core died: ${e instanceof Error ? e.message : String(e)}`,
      });
      return 0;
    }
    return used;
  }

  serviceHost(): void {
    this.takeInterrupts();
  }

  nextDeadlineNs(): number | undefined {
    const timer = this.core?.deadlineNs();
    const bite = this.servicesOn ? this.watchdog.deadline() : undefined;
    // +1 ns: the bite must be due on the watchdog's clock (ms, a float) at the ns it is scheduled for.
    const biteNs = bite === undefined ? undefined : Math.ceil(bite * 1e6) + 1;
    if (timer === undefined) return biteNs;
    return biteNs === undefined ? timer : Math.min(timer, biteNs);
  }

  tickDone(nowNs: number): void {
    if (this.servicesOn) this.watchdog.check(nowNs / 1e6);
    // Between ticks, on virtual time: UART input moves in at the same instruction every run.
    for (const pump of this.retries.splice(0)) pump();
  }

  private post(msg: CoreMessage): void {
    switch (msg.type) {
      case 'uart':
        this.o.sink.uart(msg.text);
        return;
      case 'fault':
        this.o.sink.fault(msg.fault);
        return;
      case 'exit':
        this.o.sink.exit(msg.code, msg.cause);
        return;
      case 'debug-stop':
        this.debugLink.stopped(msg.stop);
        return;
      case 'debug-reply':
        // In the host thread replies come back as return values (debug()), never as messages.
        return;
    }
  }
}
