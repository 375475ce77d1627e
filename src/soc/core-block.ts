// The per-core block of device-state words shared by the host and a core's worker: mailbox
// doorbells in both directions, the run-control word, the watchdog and the exit code. Waking a
// sleeping core is Atomics.notify on its WAKE word; the host hears the core with Atomics.waitAsync
// on C2H_SEQ, so neither side ever blocks the host's event loop.

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
} as const;

export const CORE_BLOCK_WORDS = 16;

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

/** Expand a pending mask into notify ids; the overflow bit means "every id up to maxId". */
export function pendingIds(mask: number, maxId: number): number[] {
  const ids: number[] = [];
  if ((mask & (1 << OVERFLOW_BIT)) !== 0) {
    for (let id = 0; id <= maxId; id++) ids.push(id);
    return ids;
  }
  for (let id = 0; id < OVERFLOW_BIT; id++) if ((mask & (1 << id)) !== 0) ids.push(id);
  return ids;
}

export class CoreBlock {
  readonly words: Int32Array;
  readonly base: number;

  constructor(words: Int32Array, coreIndex: number) {
    this.words = words;
    this.base = coreIndex * CORE_BLOCK_WORDS;
    if (this.base + CORE_BLOCK_WORDS > words.length)
      throw new RangeError(`no device words for core ${coreIndex}`);
  }

  load(word: number): number {
    return Atomics.load(this.words, this.base + word);
  }

  store(word: number, value: number): void {
    Atomics.store(this.words, this.base + word, value);
  }

  /** Wake the core if it sleeps in WFI (or in its firmware's idle wait). */
  wake(): void {
    Atomics.add(this.words, this.base + CORE_WORD.WAKE, 1);
    Atomics.notify(this.words, this.base + CORE_WORD.WAKE);
  }

  // ---- host side ------------------------------------------------------------------------

  /** Host → core doorbell for `notifyId` (the platform driver's kick). */
  ringH2C(notifyId: number): void {
    Atomics.or(this.words, this.base + CORE_WORD.H2C_PENDING, notifyBit(notifyId));
    this.wake();
  }

  /** Take (and clear) the pending core → host ids. */
  takeC2H(): number {
    return Atomics.exchange(this.words, this.base + CORE_WORD.C2H_PENDING, 0);
  }

  /**
   * Resolve when the core rings (C2H_SEQ moves past `seen`) or after `timeoutMs`; never blocks the
   * event loop. Returns the new sequence number.
   */
  async waitC2H(seen: number, timeoutMs: number): Promise<number> {
    const index = this.base + CORE_WORD.C2H_SEQ;
    const now = Atomics.load(this.words, index);
    if (now !== seen) return now;
    const r = Atomics.waitAsync(this.words, index, seen, timeoutMs);
    if (r.async) await r.value;
    return Atomics.load(this.words, index);
  }

  // ---- core side ------------------------------------------------------------------------

  /** Core → host doorbell for `notifyId`. */
  ringC2H(notifyId: number): void {
    Atomics.or(this.words, this.base + CORE_WORD.C2H_PENDING, notifyBit(notifyId));
    Atomics.add(this.words, this.base + CORE_WORD.C2H_SEQ, 1);
    Atomics.notify(this.words, this.base + CORE_WORD.C2H_SEQ);
  }

  /** Take (and clear) the pending host → core ids. */
  takeH2C(): number {
    return Atomics.exchange(this.words, this.base + CORE_WORD.H2C_PENDING, 0);
  }

  /**
   * WFI for a worker thread: spin briefly (a reply often arrives within microseconds, and a
   * sleep/wake costs ~30 µs round trip on this VM), then sleep until WAKE moves or `timeoutMs`.
   */
  waitForEvent(seen: number, timeoutMs: number, spins = 2000): number {
    const index = this.base + CORE_WORD.WAKE;
    for (let i = 0; i < spins; i++) {
      const now = Atomics.load(this.words, index);
      if (now !== seen) return now;
    }
    Atomics.wait(this.words, index, seen, timeoutMs);
    return Atomics.load(this.words, index);
  }
}
