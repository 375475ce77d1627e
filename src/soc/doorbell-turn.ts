// The host's side of ringing worker cores' doorbells, batched per turn of the host's code: WAKE
// moves at once, but the futex wake a sleeping core needs is settled so that one turn that rings
// many sleeping cores of a SoC costs the host two notifies, not one per core (the others are
// passed on by the cores themselves: CoreBlock.requestWake). Used by worker-execution.ts.

import type { CoreBlock } from './core-block.ts';

/** What the batching needs of a worker core. */
export interface DoorbellCore {
  /** The words that wake the core's thread: its own, or its group leader's. */
  readonly wakeBlock: CoreBlock;
  /**
   * Whether the host's thread and every core thread of the SoC can each have a CPU
   * (worker-execution.ts updatePolling): only then may a wake-up go out in the middle of a turn.
   */
  readonly pollAllowed: boolean;
  /** Called at the end of the turn in which the core's doorbell rang (its listener polls then). */
  rung(): void;
  /** @internal set while the core is in this turn's list (ringDoorbell), cleared at its end. */
  turnQueued: boolean;
}

/**
 * Cores kicked in this turn of the host's code (until the microtask that ends it), and the list
 * the turn before used, swapped at each turn's end. Arrays reused rather than a Set cleared: a
 * Set's or Map's clear() allocates a new table, in old space once the collection is old, and a
 * turn per message then grows old space by a table a message — a page fault every ~15 round trips
 * of an echo and the major collections that follow (perf -e page-faults on the host thread).
 */
let doorbells: DoorbellCore[] = [];
let ended: DoorbellCore[] = [];
/** Sleeping cores rung in this turn whose notify is still owed, per SoC (device words). */
const owed = new Map<Int32Array, CoreBlock[]>();
/** Whether this turn has already spent its immediate notify. */
let notifiedThisTurn = false;

/**
 * Ring a core's doorbell. WAKE moves at once, so a core that polls sees it at its next poll. A
 * sleeping core needs a notify, which costs the host time of its own (a futex wake): the first
 * one of a turn of the host's code is sent at once (a lone message keeps its latency), later ones
 * are owed and settled by endTurn() (a burst over many cores costs the host two notifies).
 *
 * Not at once when the threads cannot each have a CPU (pollAllowed false): the woken core could
 * then run only by preempting this thread, the one producing its work. V8 signals a sleeper in
 * Atomics.wait while holding the lock of its futex emulation, so a core that preempts the host at
 * once blocks on that lock and hands the CPU back: on one vCPU, four switches for one wake-up, and
 * a core woken by the first message of a burst takes it alone and sleeps again while the host
 * fills its ring. Owed like the others, the notify goes out at the microtask checkpoint right
 * after the host's synchronous code, and the core wakes once to the whole turn's work.
 */
export function ringDoorbell(core: DoorbellCore): void {
  if (doorbells.length === 0) queueMicrotask(endTurn);
  if (!core.turnQueued) {
    core.turnQueued = true;
    doorbells.push(core);
  }
  // A core in a group is woken through its group's word (it is the one the group's thread sleeps on).
  const block = core.wakeBlock;
  if (!block.ring()) return;
  if (!notifiedThisTurn && core.pollAllowed) {
    notifiedThisTurn = true;
    block.notifyWake();
    return;
  }
  const list = owed.get(block.words);
  if (list === undefined) owed.set(block.words, [block]);
  else list.push(block);
}

/**
 * The end of a turn: of the owed sleepers of one SoC the host notifies one and leaves the others to
 * the cores themselves (CoreBlock.requestWake: a woken core passes the wake-up on); then every
 * core rung in the turn gets its listener polling for the answer.
 */
function endTurn(): void {
  if (owed.size > 0) {
    for (const list of owed.values()) {
      // Requests first, then the notify: the woken core must find them when it looks.
      for (let i = 1; i < list.length; i++) list[i]?.requestWake();
      list[0]?.notifyWake();
    }
    owed.clear();
  }
  notifiedThisTurn = false;
  // Swap before calling out: a ring from inside rung() starts the next turn's list.
  const cores = doorbells;
  doorbells = ended;
  ended = cores;
  for (const core of cores) core.turnQueued = false;
  for (const core of cores) core.rung();
  cores.length = 0;
}
