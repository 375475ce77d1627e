// The per-core block of device-state words shared by the host and a core's worker: mailbox
// doorbells in both directions, the run-control word, the watchdog and the exit code. Waking a
// sleeping core is Atomics.notify on its WAKE word; the host hears the core with Atomics.waitAsync
// on C2H_SEQ, so neither side ever blocks the host's event loop.
//
// A notify that finds a sleeper (a futex wake, or a task posted to the host's event loop) costs
// orders of magnitude more than the word update itself, so each side says when it sleeps
// (CORE_SLEEPING, HOST_WAITING) and the other side notifies only then — the doorbell form of
// virtio's EVENT_IDX. The sleeper sets its flag before it checks the word one last time (Atomics.wait
// and waitAsync compare and sleep atomically), the ringer bumps the word before it reads the flag:
// with sequentially consistent atomics one of the two always sees the other, so no wake-up is lost.
//
// The notify that wakes a sleeper costs the *caller* too (the futex wake sends an inter-processor
// interrupt). The host is one thread serving every core, so when one turn of its
// work rings several sleeping cores it notifies only one and marks the others WAKE_REQUESTED; a
// core that wakes passes the wake-up on to up to two of them (a tree: 16 cores in 4 steps), on
// the cores' time instead of the host's.

import { RprocError } from '../util/errors.ts';
import { SpinBudget } from '../util/spin-budget.ts';

/** Word offsets inside a core's block. */
export const CORE_WORD = {
  /** Bumped by every event that should wake the core from WFI (doorbell, timer, halt request). */
  WAKE: 0,
  /** Host → core doorbell: bit n = notify id n pending; bit 31 = "an id ≥ 31 is pending, scan all". */
  H2C_PENDING: 1,
  /** Core → host doorbell sequence: the host waits on it. */
  C2H_SEQ: 2,
  /** Core → host pending notify ids, same encoding as H2C_PENDING. */
  C2H_PENDING: 3,
  /** RUN_STATE value, written by the host to request, by the core to acknowledge. */
  RUN: 4,
  /** Incremented by the firmware on every watchdog kick. */
  WDT_KICKS: 5,
  /** Watchdog period in ms; 0 = disabled (the firmware enables it). */
  WDT_PERIOD_MS: 6,
  /** Exit/test-finisher code written by the firmware. */
  EXIT_CODE: 7,
  /** Where a boot loader left the running firmware's resource table (attach: get_loaded_rsc_table). */
  RSC_DA: 8,
  RSC_SIZE: 9,
  /** Set by the core before it sleeps in waitForEvent, cleared by whoever wakes it: the host notifies WAKE only then. */
  CORE_SLEEPING: 10,
  /** Set by the host before it waits (Atomics.waitAsync) on C2H_SEQ, cleared by whoever wakes it: the core notifies only then. */
  HOST_WAITING: 11,
  /** Set by the host: "the next core of this SoC that wakes up, notify this one" (delegated wake). */
  WAKE_REQUESTED: 12,
  /** Guest instructions the core has retired (rv32), low and high 32 bits, updated per slice. */
  INSTRET_LO: 13,
  INSTRET_HI: 14,
  /** Host → core events other than notify ids (HOST_EVENT bits), taken by the core with an exchange. */
  HOST_EVENTS: 15,
  /**
   * Longest WFI poll the host allows the core, µs (0: sleep at once), written by the host whenever
   * the number of running core threads changes: polling pays only while every polling thread has a
   * CPU of its own; with more threads than CPUs a poller keeps the thread that would answer it off
   * the CPU (bench/README.md soc-scale).
   */
  SPIN_LIMIT_US: 16,
  /**
   * Core groups (group/core-group.ts), in the group leader's block only: bumped by the host after it
   * posts a control message to the group's thread, so that the thread, woken through WAKE, knows a
   * message is on its way and takes event-loop turns until it has handled it.
   */
  GROUP_CONTROL: 17,
  /**
   * The UART receive ring (uart-rx-ring.ts): bytes the host wrote (HEAD, host-owned) and the core's
   * UART took (TAIL, core-owned), both counting from 0 and wrapping at 2^32.
   */
  UART_RX_HEAD: 18,
  UART_RX_TAIL: 19,
  /**
   * UART characters the core has posted to the host and the host has not handled yet: the core
   * posts only while this stays under UART_PENDING_LIMIT (its UART reads "busy" at the limit, and a
   * line written anyway is dropped and counted in UART_DROPPED), so a core printing in a loop cannot
   * fill the host's message queue.
   */
  UART_PENDING: 20,
  UART_DROPPED: 21,
  /**
   * Bumped by the host after it posts a debug request to a lone core's worker (which looks at it
   * between slices and then takes the request with receiveMessageOnPort: its loop never yields to
   * the event loop). Cores in a group get theirs as group control messages.
   */
  DEBUG_SEQ: 22,
  /**
   * Non-zero while the host holds the core's doorbell in a storm (doorbell-moderation.ts): a hold
   * generation. A core that rings while it is set stalls until the word changes: its own thread
   * sleeps, a group serves its other cores — a storm costs the storming core's time, not the host's
   * nor its group mates'. The host clears it when a ring has work; when a backoff ends with no new
   * ring (the core stalled at the one the host already judged) it moves to a new generation, which
   * lets the core run to its next ring and stalls it there again, before the host has even seen it.
   */
  C2H_HOLD: 23,
  /** First word of the ring's bytes (UART_RX_RING_BYTES of them), to the end of the block. */
  UART_RX_RING: 32,
} as const;

/** Bytes of a core's UART receive ring: a few lines of typing; the host queues the rest. */
export const UART_RX_RING_BYTES = 256;

/** UART characters one core may have on their way to the host (see CORE_WORD.UART_PENDING). */
export const UART_PENDING_LIMIT = 64 * 1024;

/**
 * Bits of HOST_EVENTS. DETACHED: the host let go of the core's virtio devices (rproc_detach) and
 * restored their table; the firmware starts its devices over and waits for DRIVER_OK again — as
 * STM32's "detach" mailbox channel tells the M4's OpenAMP. An event, not a state: a host that
 * detaches and attaches again before the core looks leaves the status at DRIVER_OK, which the core
 * could not tell from nothing having happened.
 */
export const HOST_EVENT = { DETACHED: 1 } as const;

/** Sleeping cores a waking core notifies on the host's behalf, at most. */
const WAKE_FANOUT = 2;

/** A core's WFI polling budget, µs: up to one host reply's worth of time. */
const CORE_SPIN_MIN_US = 4;
export const CORE_SPIN_MAX_US = 50;

export const CORE_BLOCK_WORDS = CORE_WORD.UART_RX_RING + UART_RX_RING_BYTES / 4;

export const RUN_STATE = {
  HALTED: 0,
  RUNNING: 1,
  /** The host asks the core to stop at the next instruction boundary / await. */
  HALT_REQUESTED: 2,
} as const;

const OVERFLOW_BIT = 31;

export function notifyBit(notifyId: number): number {
  return notifyId >= 0 && notifyId < OVERFLOW_BIT ? 1 << notifyId : 1 << OVERFLOW_BIT;
}

export class CoreBlock {
  readonly words: Int32Array;
  readonly base: number;
  /** How long waitForEvent polls (core side; each thread has its own CoreBlock object). */
  readonly spin = new SpinBudget(CORE_SPIN_MIN_US, CORE_SPIN_MAX_US);
  /** The last C2H_HOLD generation this (host side) object set. */
  private holdGen = 0;

  constructor(words: Int32Array, coreIndex: number) {
    this.words = words;
    this.base = coreIndex * CORE_BLOCK_WORDS;
    if (this.base + CORE_BLOCK_WORDS > words.length)
      throw new RprocError('EINVAL', 'core-block', `no device words for core ${coreIndex}`);
  }

  load(word: number): number {
    return Atomics.load(this.words, this.base + word);
  }

  store(word: number, value: number): void {
    Atomics.store(this.words, this.base + word, value);
  }

  /**
   * Wake the core if it sleeps in WFI (or in its firmware's idle wait). Only the first ring after
   * the core went to sleep notifies: it also clears CORE_SLEEPING, so rings that follow while the
   * core is still waking up cost no second futex wake.
   */
  wake(): void {
    if (this.ring()) this.notifyWake();
  }

  /**
   * Bump WAKE; true when the core sleeps and still needs the notify (which the caller then owes:
   * notifyWake() now, or requestWake() for another core to do it).
   */
  ring(): boolean {
    const { words, base } = this;
    Atomics.add(words, base + CORE_WORD.WAKE, 1);
    // Read before the read-modify-write: the line is shared with a core that polls WAKE, and a
    // core that is awake (the usual case under load) leaves the flag at 0.
    return (
      Atomics.load(words, base + CORE_WORD.CORE_SLEEPING) !== 0 &&
      Atomics.exchange(words, base + CORE_WORD.CORE_SLEEPING, 0) !== 0
    );
  }

  notifyWake(): void {
    Atomics.notify(this.words, this.base + CORE_WORD.WAKE);
  }

  /** Leave the notify that ring() asked for to the next core of this SoC that wakes up. */
  requestWake(): void {
    Atomics.store(this.words, this.base + CORE_WORD.WAKE_REQUESTED, 1);
  }

  /** After waking up: notify up to WAKE_FANOUT cores the host left to us, looking from our index on. */
  private passWakes(): void {
    const { words } = this;
    const cores = Math.floor(words.length / CORE_BLOCK_WORDS);
    const self = this.base / CORE_BLOCK_WORDS;
    // A request for us (we woke by ourselves meanwhile) is void.
    if (Atomics.load(words, this.base + CORE_WORD.WAKE_REQUESTED) !== 0) {
      Atomics.store(words, this.base + CORE_WORD.WAKE_REQUESTED, 0);
    }
    let passed = 0;
    for (let k = 1; k < cores && passed < WAKE_FANOUT; k++) {
      const base = ((self + k) % cores) * CORE_BLOCK_WORDS;
      if (Atomics.load(words, base + CORE_WORD.WAKE_REQUESTED) === 0) continue;
      if (Atomics.exchange(words, base + CORE_WORD.WAKE_REQUESTED, 0) === 0) continue;
      Atomics.notify(words, base + CORE_WORD.WAKE);
      passed++;
    }
  }

  // ---- host side ------------------------------------------------------------------------

  /** Host → core doorbell for `notifyId` (the platform driver's kick). */
  ringH2C(notifyId: number): void {
    this.postH2C(notifyId);
    this.wake();
  }

  /**
   * Mark `notifyId` pending without waking the core (ring() does). A bit already set is left alone:
   * a firmware acknowledges (takeH2C) before it looks at its queues, so it sees what was queued
   * before this call either way, and the read spares a read-modify-write per message.
   */
  postH2C(notifyId: number): void {
    const bit = notifyBit(notifyId);
    const index = this.base + CORE_WORD.H2C_PENDING;
    if ((Atomics.load(this.words, index) & bit) !== bit) Atomics.or(this.words, index, bit);
  }

  /** Post host → core event bits (HOST_EVENT) without waking the core (ring() does). */
  postHostEvent(bits: number): void {
    Atomics.or(this.words, this.base + CORE_WORD.HOST_EVENTS, bits);
  }

  /** Take (and clear) the pending core → host ids. */
  takeC2H(): number {
    return Atomics.exchange(this.words, this.base + CORE_WORD.C2H_PENDING, 0);
  }

  /** Whether core → host ids are pending (a read only: no read-modify-write on the core's line). */
  c2hPending(): boolean {
    return Atomics.load(this.words, this.base + CORE_WORD.C2H_PENDING) !== 0;
  }

  /** The core → host doorbell sequence now. */
  c2hSeq(): number {
    return Atomics.load(this.words, this.base + CORE_WORD.C2H_SEQ);
  }

  /** The Atomics.waitAsync still pending from an earlier waitC2H that `interrupt` ended. */
  private c2hSleeper: Promise<unknown> | undefined;

  /**
   * Resolve when the core rings (C2H_SEQ moves past `seen`) or when `interrupt` resolves; never
   * blocks the event loop. Returns the sequence number then. HOST_WAITING is set meanwhile, so that
   * the core notifies; one listener per core.
   *
   * Without a timeout: a timed Atomics.waitAsync posts a delayed task to the host's platform for
   * every wait, and Node keeps it (a libuv timer, then a linear search of its scheduled tasks:
   * PerIsolatePlatformData::DeleteFromScheduledTasks in src/node_platform.cc) until the timeout
   * passes even when the wait ended long before — thousands a second for a core that streams
   * messages. Nothing needs one: the core notifies whenever HOST_WAITING is set (ringC2H), and
   * whoever ends the listener notifies C2H_SEQ (interruptC2H) or resolves `interrupt`.
   */
  async waitC2H(seen: number, interrupt?: Promise<void>): Promise<number> {
    const index = this.base + CORE_WORD.C2H_SEQ;
    Atomics.store(this.words, this.base + CORE_WORD.HOST_WAITING, 1);
    try {
      const now = Atomics.load(this.words, index);
      if (now !== seen) return now;
      // A waiter left pending by an interrupt is still registered: any notify wakes it, whatever
      // value it was registered with, so it serves again instead of piling up a second one.
      if (this.c2hSleeper === undefined) {
        const r = Atomics.waitAsync(this.words, index, seen);
        if (!r.async) return Atomics.load(this.words, index);
        const sleeper = r.value.then(() => {
          if (this.c2hSleeper === sleeper) this.c2hSleeper = undefined;
        });
        this.c2hSleeper = sleeper;
      }
      await (interrupt === undefined ? this.c2hSleeper : Promise.race([this.c2hSleeper, interrupt]));
      return Atomics.load(this.words, index);
    } finally {
      Atomics.store(this.words, this.base + CORE_WORD.HOST_WAITING, 0);
    }
  }

  /**
   * Hold the core's doorbell (a storm backoff: its next ring stalls it); a hold already on stays as
   * it is. Host side.
   */
  holdC2H(): void {
    Atomics.compareExchange(this.words, this.base + CORE_WORD.C2H_HOLD, 0, this.nextHold());
  }

  /**
   * Keep holding the doorbell, but let a core stalled by the current hold go on to its next ring
   * (a new hold generation, notified). False when no hold was on. Host side.
   */
  rearmC2H(): boolean {
    const index = this.base + CORE_WORD.C2H_HOLD;
    if (Atomics.load(this.words, index) === 0) return false;
    Atomics.store(this.words, index, this.nextHold());
    Atomics.notify(this.words, index);
    return true;
  }

  /** A new hold generation: never the last one, never 0 ("not held"). */
  private nextHold(): number {
    this.holdGen = (this.holdGen + 1) | 0 || 1;
    return this.holdGen;
  }

  /** Release the doorbell: a stalled core goes on (notified). False when no hold was on. */
  releaseC2H(): boolean {
    const index = this.base + CORE_WORD.C2H_HOLD;
    if (Atomics.exchange(this.words, index, 0) === 0) return false;
    Atomics.notify(this.words, index);
    return true;
  }

  /** End every wait on C2H_SEQ now (the listener is stopping). */
  interruptC2H(): void {
    Atomics.notify(this.words, this.base + CORE_WORD.C2H_SEQ);
  }

  /** The host handled `chars` UART characters the core posted. */
  uartHandled(chars: number): void {
    Atomics.sub(this.words, this.base + CORE_WORD.UART_PENDING, chars);
  }

  /** UART characters the core dropped because the host was UART_PENDING_LIMIT behind. */
  uartDropped(): number {
    return Atomics.load(this.words, this.base + CORE_WORD.UART_DROPPED) >>> 0;
  }

  // ---- core side ------------------------------------------------------------------------

  /** Whether the host has room for more UART output (the UART's "transmitter empty"). */
  uartRoom(): boolean {
    return Atomics.load(this.words, this.base + CORE_WORD.UART_PENDING) < UART_PENDING_LIMIT;
  }

  /**
   * Post `text` through `post` if the host has room for it, counting it as pending; else drop it
   * and count it in UART_DROPPED. Returns whether it went.
   */
  postUart(text: string, post: (text: string) => void): boolean {
    const pending = Atomics.load(this.words, this.base + CORE_WORD.UART_PENDING);
    if (pending + text.length > UART_PENDING_LIMIT) {
      Atomics.add(this.words, this.base + CORE_WORD.UART_DROPPED, text.length);
      return false;
    }
    Atomics.add(this.words, this.base + CORE_WORD.UART_PENDING, text.length);
    post(text);
    return true;
  }

  /**
   * Core → host doorbell for `notifyId`; notifies only a waiting host, once per wait. A ring of an
   * id still pending (the host has not taken it) is coalesced into it: the host handles both when
   * it takes the ids, and a core ringing in a loop costs the host one wake-up per take, not one per
   * ring. (The read-modify-write orders the core's earlier stores before the host's take.)
   */
  ringC2H(notifyId: number): void {
    const bit = notifyBit(notifyId);
    const old = Atomics.or(this.words, this.base + CORE_WORD.C2H_PENDING, bit);
    if ((old & bit) !== 0) return;
    Atomics.add(this.words, this.base + CORE_WORD.C2H_SEQ, 1);
    const waiting = this.base + CORE_WORD.HOST_WAITING;
    if (Atomics.load(this.words, waiting) !== 0 && Atomics.exchange(this.words, waiting, 0) !== 0) {
      Atomics.notify(this.words, this.base + CORE_WORD.C2H_SEQ);
    }
  }

  /** The host's hold on this core's doorbell (C2H_HOLD): 0 for none, else its generation. */
  c2hHold(): number {
    return Atomics.load(this.words, this.base + CORE_WORD.C2H_HOLD);
  }

  /**
   * Core side: sleep while the hold that stalled the core (generation `stalledAt`) lasts, at most
   * `timeoutMs` (a lone core's thread only).
   */
  waitC2HRelease(stalledAt: number, timeoutMs: number): void {
    Atomics.wait(this.words, this.base + CORE_WORD.C2H_HOLD, stalledAt, timeoutMs);
  }

  /** The host events posted and not yet taken by the core (HOST_EVENT bits). */
  hostEventsPending(): number {
    return Atomics.load(this.words, this.base + CORE_WORD.HOST_EVENTS);
  }

  /** Take (and clear) the pending host events (HOST_EVENT bits). */
  takeHostEvents(): number {
    if (Atomics.load(this.words, this.base + CORE_WORD.HOST_EVENTS) === 0) return 0;
    return Atomics.exchange(this.words, this.base + CORE_WORD.HOST_EVENTS, 0);
  }

  /** Take (and clear) the pending host → core ids. */
  takeH2C(): number {
    return Atomics.exchange(this.words, this.base + CORE_WORD.H2C_PENDING, 0);
  }

  /**
   * WFI for a worker thread: poll WAKE for a while (a reply often comes within microseconds, and a
   * sleep/wake round trip costs far more) — `spinUs` µs, or by default as long as the
   * adaptive budget `spin` says — then sleep until WAKE moves or `timeoutMs` passes, with
   * CORE_SLEEPING set so that the host notifies. Returns WAKE.
   */
  waitForEvent(seen: number, timeoutMs: number, spinUs?: number): number {
    const { words } = this;
    const index = this.base + CORE_WORD.WAKE;
    let now = Atomics.load(words, index);
    if (now !== seen) return now;
    const limit = Atomics.load(words, this.base + CORE_WORD.SPIN_LIMIT_US);
    const budget = Math.min(spinUs ?? this.spin.current, limit);
    if (budget > 0) {
      const until = performance.now() + budget / 1000;
      // performance.now() costs several Atomics.loads: look at the clock every 64 polls.
      do {
        for (let i = 0; i < 64; i++) {
          now = Atomics.load(words, index);
          if (now !== seen) {
            if (spinUs === undefined) this.spin.hit();
            return now;
          }
        }
      } while (performance.now() < until);
      if (spinUs === undefined) this.spin.miss();
    } else if (spinUs === undefined) {
      this.spin.slept();
    }
    const sleeping = this.base + CORE_WORD.CORE_SLEEPING;
    Atomics.store(words, sleeping, 1);
    Atomics.wait(words, index, seen, timeoutMs);
    Atomics.store(words, sleeping, 0);
    this.passWakes();
    return Atomics.load(words, index);
  }
}
