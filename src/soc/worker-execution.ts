// A remote core executing in a worker thread, on host time: in a thread of its own (worker-core.ts)
// or sharing its group's (group/core-group.ts), the doorbell listener that hears the core's mailbox
// writes with Atomics.waitAsync and polls for a while after activity, the watchdog on a host timer;
// its kicks ring the doorbell through doorbell-turn.ts, which batches the wake-ups of one turn of
// the host's work. Debug requests go to the core's thread as messages (debug/debug-link.ts); while
// a debugger holds the core its watchdog is paused.

import { RprocError } from '../util/errors.ts';
import { availableParallelism } from 'node:os';
import { CORE_SPIN_MAX_US, CORE_WORD, CoreBlock } from './core-block.ts';
import { SpinBudget } from '../util/spin-budget.ts';
import type { CoreExecution, CoreSink } from './core-execution.ts';
import type { CoreSpec } from './board.ts';
import type { CoreKindDefinition } from './core-kind.ts';
import { DebugLink } from './debug/debug-link.ts';
import type { DebugReply, DebugRequest, DebugSetup } from './debug/debug-protocol.ts';
import type { CoreGroup } from './group/core-group.ts';
import type { PhysMemory } from './phys-memory.ts';
import { Watchdog } from './watchdog.ts';
import { DoorbellModeration } from './doorbell-moderation.ts';
import { ringDoorbell, type DoorbellCore } from './doorbell-turn.ts';
import { WorkerCore, type CoreRunner, type WorkerCoreEvents } from './worker-core.ts';
import { coreWorkerScript } from './worker-script.ts';

/** How often the host offers UART input that did not fit again while the core's ring is full, ms. */
const UART_RETRY_MS = 2;

/**
 * How long the listener keeps polling the doorbell after the last sign of life (an interrupt, or
 * a kick that asks for an answer) before it sleeps in Atomics.waitAsync, in µs, adapted like a
 * core's WFI polling (SpinBudget). Polling goes through setImmediate, so the event loop keeps
 * running; an answer that comes meanwhile is picked up within a loop turn instead of a wake-up
 * through the loop (many times dearer), and costs the core no notify.
 */
const LISTEN_POLL_MIN_US = 10;
const LISTEN_POLL_MAX_US = 50;

/** Worker cores running, per SoC (device words): the polling policy depends on how many. */
const running = new Map<Int32Array, Set<WorkerExecution>>();

/**
 * Whether threads of this SoC may poll (cores in WFI, the host's listener): only while the host
 * thread and every running core thread can each have a CPU. Threads, not cores: the cores of a
 * group share one (and one wake word, which is where a group's thread reads its limit). Published
 * to every running core.
 */
function updatePolling(words: Int32Array): void {
  const cores = running.get(words);
  if (cores === undefined) return;
  const threads = new Set<number>();
  for (const core of cores) threads.add(core.wakeBlock.base);
  const allowed = threads.size + 1 <= availableParallelism();
  const limit = allowed ? CORE_SPIN_MAX_US : 0;
  for (const core of cores) {
    core.pollAllowed = allowed;
    core.block.store(CORE_WORD.SPIN_LIMIT_US, limit);
    core.wakeBlock.store(CORE_WORD.SPIN_LIMIT_US, limit);
  }
}

function setRunning(core: WorkerExecution, on: boolean): void {
  const { words } = core.block;
  let cores = running.get(words);
  if (cores === undefined) running.set(words, (cores = new Set()));
  if (on) cores.add(core);
  else cores.delete(core);
  if (!on) core.block.store(CORE_WORD.SPIN_LIMIT_US, 0);
  updatePolling(words);
  if (cores.size === 0) running.delete(words);
}

/** Cores whose doorbell listener runs, for sweeps. */
const listening = new Set<WorkerExecution>();

/**
 * A listener that took an interrupt also takes those every other core has pending, in the same
 * turn: their answers then go out in one turn too, so ringDoorbell() can batch the wake-ups of the
 * cores that sleep (16 cores on one host cost it two notifies a round, not sixteen).
 */
function sweep(from: WorkerExecution): void {
  if (listening.size < 2) return;
  for (const core of [...listening]) if (core !== from) core.takeInterrupts();
}

let turn: Promise<void> | undefined;

/** The next event-loop turn (setImmediate), one for every listener that polls: 16 cores, 1 timer. */
function nextTurn(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

export class WorkerExecution implements CoreExecution, DoorbellCore {
  readonly block: CoreBlock;
  /** The words that wake the core's thread: its own, or its group leader's. */
  readonly wakeBlock: CoreBlock;
  private readonly spec: CoreSpec;
  private readonly kind: CoreKindDefinition;
  private readonly index: number;
  private readonly memory: PhysMemory;
  private readonly sink: CoreSink;
  private readonly runner: CoreRunner;
  private readonly watchdog: Watchdog;
  private readonly options: Readonly<Record<string, string | number | boolean>>;
  /** Bumped to end a listener loop: each loop runs while its generation is current. */
  private listenGen = 0;
  /** When the doorbell last showed activity (performance.now()): the listener polls until +POLL. */
  private lastActivity = 0;
  /** Set while the listener sleeps: a kick calls it so that the listener polls for the answer. */
  private rouse: (() => void) | undefined;
  private readonly poll = new SpinBudget(LISTEN_POLL_MIN_US, LISTEN_POLL_MAX_US);
  /** Doorbell storms: a core ringing with nothing to do is taken at most once per backoff. */
  readonly moderation = new DoorbellModeration();
  /** @internal whether the listener may poll (updatePolling). */
  pollAllowed = true;
  /** @internal in this turn's doorbell list (doorbell-turn.ts). */
  turnQueued = false;
  private readonly debugLink: DebugLink;

  constructor(
    spec: CoreSpec,
    kind: CoreKindDefinition,
    index: number,
    memory: PhysMemory,
    block: CoreBlock,
    sink: CoreSink,
    options: Readonly<Record<string, string | number | boolean>>,
    group?: CoreGroup,
  ) {
    this.spec = spec;
    this.kind = kind;
    this.index = index;
    this.memory = memory;
    this.block = block;
    this.wakeBlock = group?.wakeBlock ?? block;
    this.sink = sink;
    this.options = options;
    this.debugLink = new DebugLink((id, req) => this.runner.debug(id, req), {
      stop: (stop) => sink.debugStop(stop),
      held: (on) => {
        if (on) this.watchdog.pause();
        else this.watchdog.resume();
      },
    });
    const events: WorkerCoreEvents = {
      uart: (text) => sink.uart(text),
      fault: (fault) => sink.fault(fault),
      exit: (code, cause) => sink.exit(code, cause),
      debugStop: (stop) => this.debugLink.stopped(stop),
      debugReply: (id, reply) => this.debugLink.reply(id, reply),
    };
    this.runner =
      group === undefined
        ? new WorkerCore(coreWorkerScript(), block, events)
        : group.runner(index, block, events);
    this.watchdog = new Watchdog(block, (period) => sink.watchdogBite(period));
  }

  get running(): boolean {
    return this.runner.running;
  }

  get debugHeld(): boolean {
    return this.debugLink.held;
  }

  debug(req: DebugRequest): Promise<DebugReply> {
    return this.debugLink.request(req);
  }

  async start(bootAddr: number, debug?: DebugSetup): Promise<void> {
    if (this.runner.running)
      throw new RprocError('EBUSY', 'core-start', `${this.spec.name} is already running`);
    this.startServices();
    if (debug?.hold === true) this.debugLink.startsHeld();
    // Before the thread starts: it reads its polling limit from the first WFI on.
    setRunning(this, true);
    try {
      await this.runner.start({
        coreName: this.spec.name,
        coreIndex: this.index,
        memory: this.memory.share(),
        addressMap: this.spec.addressMap,
        bootAddr,
        engineModule: this.kind.engineModule().href,
        options: this.options,
        ...(debug === undefined ? {} : { debug }),
      });
    } catch (e) {
      setRunning(this, false);
      this.stopServices();
      this.debugLink.closed(`${this.spec.name} did not start`);
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopServices();
    await this.runner.stop();
    setRunning(this, false);
    this.debugLink.closed(`${this.spec.name} stopped`);
  }

  /**
   * The mailbox write: post the id, ring the doorbell (ringDoorbell: the notify a sleeping core
   * needs may be settled at the end of this turn of the host's code, together with other cores').
   */
  kick(notifyId: number): void {
    this.block.postH2C(notifyId);
    ringDoorbell(this);
  }

  raise(events: number): void {
    this.block.postHostEvent(events);
    this.wakeBlock.wake();
  }

  async hostEventsTaken(bits: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    // The core thread clears the word at its next step, normally within microseconds of the wake
    // raise() gave it; polling on timers costs the host nothing meanwhile.
    while (this.running && (this.block.hostEventsPending() & bits) !== 0) {
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return true;
  }

  poke(): void {
    this.wakeBlock.wake();
  }

  retry(pump: () => void): void {
    setTimeout(pump, UART_RETRY_MS);
  }

  /** @internal the doorbell rang: an answer is likely soon, so the listener polls for it. */
  rung(): void {
    this.lastActivity = performance.now();
    const rouse = this.rouse;
    if (rouse !== undefined) {
      this.rouse = undefined;
      rouse();
    }
  }

  startServices(): void {
    this.watchdog.start();
    listening.add(this);
    void this.listen(++this.listenGen);
  }

  stopServices(): void {
    listening.delete(this);
    this.listenGen++;
    this.releaseHold();
    this.watchdog.stop();
    // Wake the listener so that it sees its generation is over.
    this.block.interruptC2H();
    const rouse = this.rouse;
    this.rouse = undefined;
    rouse?.();
  }

  /**
   * The mailbox interrupt handler: every id the core rang goes to the sink. After activity it
   * polls the doorbell (LISTEN_POLL_*_US), then sleeps in Atomics.waitAsync until the core rings
   * or a kick rouses it.
   */
  private async listen(gen: number): Promise<void> {
    const { block } = this;
    while (gen === this.listenGen) {
      // A doorbell storm: this core is left alone for a while (its rings wait in the mask).
      const hold = this.moderation.remaining(performance.now());
      if (hold > 0) {
        // The core stalls at its next ring (CORE_WORD.C2H_HOLD) while the storm lasts.
        block.holdC2H();
        await new Promise((resolve) => setTimeout(resolve, hold));
        continue;
      }
      // Read before taking the ids: a ring after this moves C2H_SEQ away from `seen`.
      const seen = block.c2hSeq();
      const mask = block.takeC2H();
      if (mask !== 0) {
        const now = performance.now();
        const handled = this.sink.interrupt(mask);
        // Spurious again: another backoff, the core still stalled at this ring.
        if (this.moderation.note(handled, now) > 0) continue;
        // Polling after a spurious ring would only feed a storm. A ring with work ends the hold.
        if (handled) {
          this.lastActivity = now;
          this.releaseHold();
        }
        sweep(this);
      } else if (block.rearmC2H()) {
        // A backoff ended with no new ring: the core is stalled at the ring already judged, or
        // rings no more. It may go on to its next ring, which stalls it again at once — released
        // instead, a storming core ran free until this listener's next turn, milliseconds on a
        // loaded machine — and a ring with work then ends the hold.
        this.wakeBlock.wake();
      }
      const budgetMs = this.pollAllowed ? this.poll.current / 1000 : 0;
      if (budgetMs === 0) {
        this.poll.slept();
      } else if (performance.now() - this.lastActivity < budgetMs) {
        while (
          gen === this.listenGen &&
          block.c2hSeq() === seen &&
          performance.now() - this.lastActivity < budgetMs
        ) {
          await nextTurn();
        }
        if (gen !== this.listenGen) break;
        if (block.c2hSeq() !== seen) {
          this.poll.hit();
          continue;
        }
        this.poll.miss();
      }
      const roused = new Promise<void>((resolve) => (this.rouse = resolve));
      await block.waitC2H(seen, roused);
      this.rouse = undefined;
    }
  }

  /** End a storm hold: a lone core's thread is notified; a group is rung to serve the core again. */
  private releaseHold(): void {
    if (this.block.releaseC2H()) this.wakeBlock.wake();
  }

  takeInterrupts(): void {
    if (!this.block.c2hPending()) return;
    const now = performance.now();
    // A core in a storm backoff waits for its own listener.
    if (!this.moderation.open(now)) return;
    const mask = this.block.takeC2H();
    if (mask === 0) return;
    const handled = this.sink.interrupt(mask);
    if (handled) {
      this.lastActivity = now;
      this.releaseHold();
    }
    this.moderation.note(handled, now);
  }
}
