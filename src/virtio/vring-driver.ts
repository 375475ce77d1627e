// The driver side of a legacy split virtqueue: the side that owns the descriptors and posts buffers
// (the host in remoteproc). Mirrors the split-ring half of drivers/virtio/virtio_ring.c
// (virtqueue_add, kick_prepare, get_buf, enable/disable_cb, detach_unused_buf), with the used ring
// treated as hostile input: every id and length the device writes is checked against a private
// shadow of what was posted, and a violation marks the queue broken instead of throwing.

import { ERRNO, RprocError, hex } from '../util/errors.ts';
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_USED_F_NO_NOTIFY,
  vringNeedEvent,
} from './vring-constants.ts';
import type { VringLayout } from './vring-layout.ts';
import { load16, mapVring, store16, type VringMemoryOptions } from './vring-memory.ts';

/** A buffer token: anything but undefined/null (Linux refuses a NULL data pointer likewise). */
export type VqToken = object | string | number | bigint | boolean | symbol;

/** One element of a posted chain: a buffer the device reads (write false) or writes (write true). */
export interface VqBuf {
  /** Bus address the device will translate (a host physical / DMA address). */
  readonly addr: bigint;
  /** Length in bytes, 1..0xffffffff. */
  readonly len: number;
  readonly write: boolean;
}

/** A completed buffer: the token it was posted with and the bytes the device says it wrote. */
export interface UsedBuf<T> {
  readonly token: T;
  readonly len: number;
}

export interface VirtqueueDriverOptions extends VringMemoryOptions {
  /** Zero vring_size(num, align) bytes first, as rp_find_vq does before creating the queue. */
  readonly zero?: boolean;
  /** Called by kick() when the device must be notified (remoteproc: ops.kick(notifyid)). */
  readonly notify?: () => void;
  /**
   * Test hook for index wrap-around: start avail.idx and used.idx at this u16 value (written into
   * the ring, so use it on a ring this side initialises; the device must be given the same value).
   * Linux always starts at 0.
   */
  readonly startIdx?: number;
}

export interface VirtqueueDriverStats {
  /** Chains posted. */
  added: number;
  /** Used entries accepted. */
  completed: number;
  /** kickPrepare() decisions that asked for a notification, and those the device suppressed. */
  kicks: number;
  kicksSuppressed: number;
  /** Used entries whose len exceeded the chain's device-writable length (clamped). */
  lenClamped: number;
  /** Violations that broke the queue (at most 1: the queue stops at the first). */
  violations: number;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const EINVAL = -ERRNO.EINVAL;
const ENOSPC = -ERRNO.ENOSPC;
const EIO = -ERRNO.EIO;

/**
 * Driver side of one split virtqueue over `memory`.
 *
 * Posting: addBuf/addInbuf/addOutbuf write descriptors and the avail ring slot but do not publish;
 * flush() publishes avail.idx once for everything added since, and kickPrepare() (or kick())
 * flushes and then decides whether the device needs a notification. A batch of adds therefore
 * costs one publication and at most one kick.
 *
 * Completion: getBuf() returns the next used entry after validating it; the first violation sets
 * `broken` (a reason naming the bad value in hex) and from then on getBuf() returns undefined and
 * addBuf() -EIO, as Linux's BAD_RING does. detachUnusedBufs() hands back what is still posted.
 *
 * Hot paths neither allocate (except getBuf's result object; use takeUsed() + usedLen to avoid
 * it) nor throw; only the constructor throws (RprocError, for bad geometry or memory).
 */
export class VirtqueueDriver<T extends VqToken> {
  readonly name: string;
  readonly num: number;
  readonly layout: VringLayout;
  /** VIRTIO_RING_F_EVENT_IDX negotiated: event indices replace the flag words. */
  readonly eventIdx: boolean;
  readonly stats: VirtqueueDriverStats = {
    added: 0,
    completed: 0,
    kicks: 0,
    kicksSuppressed: 0,
    lenClamped: 0,
    violations: 0,
  };
  /** The len reported with the token last returned by takeUsed()/getBuf() (clamped, see getBuf). */
  usedLen = 0;
  /** The last non-fatal problem seen (a clamped used length), for diagnostics. */
  lastWarning: string | undefined;

  private readonly mask: number;
  private readonly shared: boolean;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly dv: DataView;
  private readonly usedAligned: boolean;
  private readonly availIdxW: number;
  private readonly availFlagsW: number;
  private readonly availRingW: number;
  private readonly usedEventW: number;
  private readonly usedFlagsW: number;
  private readonly usedIdxW: number;
  private readonly usedRingW: number;
  private readonly availEventW: number;
  private readonly notifyFn: (() => void) | undefined;

  // Private shadow of every posted chain, indexed by descriptor id. Descriptor memory is written
  // here but never read back: the device can rewrite it at any time.
  private readonly tokens: (T | undefined)[];
  /** Free-list link of a free descriptor; chain link of a posted one. */
  private readonly next: Uint16Array;
  private readonly chainTail: Uint16Array;
  private readonly chainCount: Uint16Array;
  private readonly chainWritable: Float64Array;
  private freeHead = 0;
  private free: number;
  private inFlight = 0;

  private availShadow: number;
  private published: number;
  private kickedIdx: number;
  private addedSinceKick = 0;
  private lastUsed: number;
  /** The last used.idx value loaded and accepted; entries up to it are validated one by one. */
  private usedIdxSeen: number;
  private availFlagsShadow = 0;
  private cbEnabled = true;
  private brokenError: RprocError | undefined;

  constructor(options: VirtqueueDriverOptions) {
    const m = mapVring(options, 'vring-driver');
    this.name = m.name;
    this.num = m.num;
    this.layout = m.layout;
    this.eventIdx = m.eventIdx;
    this.mask = m.mask;
    this.shared = m.shared;
    this.u16 = m.u16;
    this.u32 = m.u32;
    this.dv = m.dv;
    this.usedAligned = m.usedAligned;
    this.availIdxW = m.availIdx;
    this.availFlagsW = m.availFlags;
    this.availRingW = m.availRing;
    this.usedEventW = m.usedEvent;
    this.usedFlagsW = m.usedFlags;
    this.usedIdxW = m.usedIdx;
    this.usedRingW = m.usedRing;
    this.availEventW = m.availEvent;
    this.notifyFn = options.notify;

    const num = m.num;
    this.tokens = new Array<T | undefined>(num).fill(undefined);
    this.next = new Uint16Array(num);
    for (let i = 0; i < num; i++) this.next[i] = (i + 1) & m.mask;
    this.chainTail = new Uint16Array(num);
    this.chainCount = new Uint16Array(num);
    this.chainWritable = new Float64Array(num);
    this.free = num;

    const start = (options.startIdx ?? 0) & 0xffff;
    this.availShadow = start;
    this.published = start;
    this.kickedIdx = start;
    this.lastUsed = start;
    this.usedIdxSeen = start;
    if (options.zero === true) options.memory.fill(0, 0, m.layout.size);
    if (start !== 0) {
      // Initialisation, before the device may look at the ring: this side owns both words now.
      this.u16[m.availIdx] = start;
      this.u16[m.usedIdx] = start;
    }
  }

  /** Why the queue stopped (names the bad value in hex), or undefined while it works. */
  get broken(): RprocError | undefined {
    return this.brokenError;
  }

  /** Free descriptors (vq->num_free). */
  get numFree(): number {
    return this.free;
  }

  /** Chains posted and not yet returned by getBuf (nor detached). */
  get numInFlight(): number {
    return this.inFlight;
  }

  /**
   * Post a chain of buffers, device-readable ones first (virtqueue_add_sgs). Returns 0; -EINVAL
   * for an empty chain, a readable buffer after a writable one, a length outside 1..0xffffffff or
   * an address outside u64 (checked first); -ENOSPC when fewer than chain.length descriptors are
   * free; -EIO once the queue is broken. Nothing is written for a refused chain. Visible to the
   * device after the next flush()/kickPrepare(). Descriptors are always direct (no indirect
   * tables: the driver owns no buffer memory to put one in).
   */
  addBuf(chain: readonly VqBuf[], token: T): number {
    if (this.brokenError !== undefined) return EIO;
    const n = chain.length;
    if (n === 0) return EINVAL;
    let sawWrite = false;
    let writable = 0;
    for (const b of chain) {
      if (!validLen(b.len) || b.addr < 0n || b.addr > U64_MAX) return EINVAL;
      if (b.write) {
        sawWrite = true;
        writable += b.len;
      } else if (sawWrite) {
        return EINVAL;
      }
    }
    if (n > this.free) return ENOSPC;
    const head = this.freeHead;
    let d = head;
    let last = head;
    for (let i = 0; i < n; i++) {
      const b = chain[i];
      if (b === undefined) break; // cannot happen: i < chain.length
      const nextFree = this.next[d] ?? 0;
      const more = i + 1 < n;
      this.writeDesc(
        d,
        b.addr,
        b.len,
        (b.write ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0),
        more ? nextFree : 0,
      );
      last = d;
      d = nextFree;
    }
    this.freeHead = d;
    this.posted(head, last, n, writable, token);
    return 0;
  }

  /** Post one device-writable buffer (virtqueue_add_inbuf with a single entry); see addBuf. */
  addInbuf(addr: bigint, len: number, token: T): number {
    return this.addOne(addr, len, true, token);
  }

  /** Post one device-readable buffer (virtqueue_add_outbuf with a single entry); see addBuf. */
  addOutbuf(addr: bigint, len: number, token: T): number {
    return this.addOne(addr, len, false, token);
  }

  private addOne(addr: bigint, len: number, write: boolean, token: T): number {
    if (this.brokenError !== undefined) return EIO;
    if (!validLen(len) || addr < 0n || addr > U64_MAX) return EINVAL;
    if (this.free === 0) return ENOSPC;
    const head = this.freeHead;
    this.freeHead = this.next[head] ?? 0;
    this.writeDesc(head, addr, len, write ? VRING_DESC_F_WRITE : 0, 0);
    this.posted(head, head, 1, write ? len : 0, token);
    return 0;
  }

  private writeDesc(d: number, addr: bigint, len: number, flags: number, next: number): void {
    const w = d << 2;
    this.dv.setBigUint64(d << 4, addr, true);
    this.u32[w + 2] = len;
    // flags (u16 @12) and next (u16 @14) as one little-endian u32 @12.
    this.u32[w + 3] = flags | (next << 16);
  }

  private posted(head: number, tail: number, count: number, writable: number, token: T): void {
    this.tokens[head] = token;
    this.chainTail[head] = tail;
    this.chainCount[head] = count;
    this.chainWritable[head] = writable;
    this.free -= count;
    this.inFlight++;
    // The slot is covered by avail.idx, which flush() publishes after this plain store.
    this.u16[this.availRingW + (this.availShadow & this.mask)] = head;
    this.availShadow = (this.availShadow + 1) & 0xffff;
    this.addedSinceKick++;
    this.stats.added++;
  }

  /** Publish avail.idx for every chain added since the last flush (one ordered store). */
  flush(): void {
    if (this.published !== this.availShadow) {
      store16(this.u16, this.availIdxW, this.availShadow, this.shared);
      this.published = this.availShadow;
    }
  }

  /**
   * Flush, then decide whether the device must be notified of what was added since the last
   * decision (virtqueue_kick_prepare): with EVENT_IDX whether avail.idx crossed the device's
   * avail_event, otherwise unless the device set VRING_USED_F_NO_NOTIFY. False once broken.
   * As in Linux, the flag test does not ask whether anything was added: call it after adding.
   */
  kickPrepare(): boolean {
    this.flush();
    const newIdx = this.availShadow;
    const oldIdx = this.kickedIdx;
    const added = this.addedSinceKick;
    this.kickedIdx = newIdx;
    this.addedSinceKick = 0;
    if (this.brokenError !== undefined) return false;
    let need: boolean;
    if (added >= 0x10000) {
      // More adds than a u16 difference can express: the event test would be wrong, so kick.
      need = true;
    } else if (this.eventIdx) {
      // avail_event is device-written: any value only changes whether we notify, and a device
      // that suppresses its own notifications only slows itself down.
      need = vringNeedEvent(load16(this.u16, this.availEventW, this.shared), newIdx, oldIdx);
    } else {
      // used.flags is device-written: same reasoning, only bit 0 is looked at.
      need = (load16(this.u16, this.usedFlagsW, this.shared) & VRING_USED_F_NO_NOTIFY) === 0;
    }
    if (need) this.stats.kicks++;
    else this.stats.kicksSuppressed++;
    return need;
  }

  /** kickPrepare(), then the notify callback if needed (virtqueue_kick). Returns whether it notified. */
  kick(): boolean {
    const need = this.kickPrepare();
    if (need) this.notifyFn?.();
    return need;
  }

  /**
   * The next used buffer, validated, or undefined when there is none or the queue is broken.
   * Validation: used.idx may run ahead of the last consumed entry by at most the number of chains
   * in flight (never more than num); the entry's id must be < num and the head of a chain in
   * flight. Its len is clamped to the chain's device-writable length: a device cannot have written
   * more, and a chain with nothing writable reports 0 (OpenAMP returns desc.len for read-only
   * buffers, which Linux ignores). Only the clamp of a writable chain counts as a violation
   * (stats.lenClamped, lastWarning); it does not break the queue, as Linux dropped that check.
   */
  getBuf(): UsedBuf<T> | undefined {
    const token = this.takeUsed();
    return token === undefined ? undefined : { token, len: this.usedLen };
  }

  /** getBuf without the result object: the token, with its length in `usedLen`. */
  takeUsed(): T | undefined {
    if (this.brokenError !== undefined) return undefined;
    if (this.lastUsed === this.usedIdxSeen && !this.refreshUsedIdx()) return undefined;
    const pos = this.lastUsed;
    const slot = pos & this.mask;
    // id and len are device-written and may change under us: each is read once into a local,
    // id is range-checked and matched against the shadow before it indexes anything, len is
    // clamped to the shadow's writable length before it is reported.
    let id: number;
    let len: number;
    if (this.usedAligned) {
      const w = this.usedRingW + (slot << 1);
      id = this.u32[w] ?? 0;
      len = this.u32[w + 1] ?? 0;
    } else {
      const b = this.usedRingW + (slot << 3);
      id = this.dv.getUint32(b, true);
      len = this.dv.getUint32(b + 4, true);
    }
    if (id >= this.num) {
      this.markBroken(`used ring entry ${pos} names descriptor ${hex(id)}, but the ring has ${this.num}`);
      return undefined;
    }
    const token = this.tokens[id];
    if (token === undefined) {
      this.markBroken(
        `used ring entry ${pos} names descriptor ${hex(id)}, which is not the head of a buffer in flight`,
      );
      return undefined;
    }
    const writable = this.chainWritable[id] ?? 0;
    if (len > writable) {
      if (writable > 0) {
        this.stats.lenClamped++;
        this.lastWarning = `${this.name}: used ring entry ${pos} reports ${hex(len)} bytes written into chain ${hex(id)}, whose device-writable length is ${hex(writable)}; clamped`;
      }
      len = writable;
    }
    this.release(id);
    this.lastUsed = (pos + 1) & 0xffff;
    this.usedLen = len;
    this.stats.completed++;
    if (this.eventIdx && this.cbEnabled) {
      // Ask to be interrupted for the next entry (Linux's get_buf does the same store-with-mb).
      store16(this.u16, this.usedEventW, this.lastUsed, this.shared);
    }
    return token;
  }

  /** Return a chain's descriptors to the free list, from the shadow (never from memory). */
  private release(head: number): void {
    const tail = this.chainTail[head] ?? 0;
    this.next[tail] = this.freeHead;
    this.freeHead = head;
    this.free += this.chainCount[head] ?? 0;
    this.tokens[head] = undefined;
    this.inFlight--;
  }

  /** Load used.idx; accept it if it moved by at most the chains in flight. False if nothing new. */
  private refreshUsedIdx(): boolean {
    // used.idx is device-written: any u16. It is only accepted if it runs ahead of what we have
    // consumed by at most the number of chains in flight, so the entries it covers are bounded.
    const idx = load16(this.u16, this.usedIdxW, this.shared);
    if (idx === this.lastUsed) return false;
    const ahead = (idx - this.lastUsed) & 0xffff;
    if (ahead > this.inFlight) {
      this.markBroken(
        ahead > this.num
          ? `used.idx ${hex(idx)} runs ${ahead} entries ahead of the last consumed ${hex(this.lastUsed)}, more than the ring's ${this.num}`
          : `used.idx ${hex(idx)} runs ${ahead} entries ahead of the last consumed ${hex(this.lastUsed)}, but only ${this.inFlight} buffers are in flight`,
      );
      return false;
    }
    this.usedIdxSeen = idx;
    return true;
  }

  private markBroken(reason: string): void {
    if (this.brokenError !== undefined) return;
    this.brokenError = new RprocError('EIO', 'vring', `${this.name}: ${reason}`);
    this.stats.violations++;
  }

  /** Whether getBuf() would return something (virtqueue_poll / more_used). */
  moreUsed(): boolean {
    if (this.brokenError !== undefined) return false;
    return this.lastUsed !== this.usedIdxSeen || this.refreshUsedIdx();
  }

  /**
   * Ask the device not to interrupt (virtqueue_disable_cb): VRING_AVAIL_F_NO_INTERRUPT, or with
   * EVENT_IDX a used_event the device has already passed. Best effort: an interrupt may still come.
   */
  disableCb(): void {
    if (!this.cbEnabled) return;
    this.cbEnabled = false;
    if (this.eventIdx) {
      store16(this.u16, this.usedEventW, (this.lastUsed - 1) & 0xffff, this.shared);
    } else {
      this.availFlagsShadow |= VRING_AVAIL_F_NO_INTERRUPT;
      store16(this.u16, this.availFlagsW, this.availFlagsShadow, this.shared);
    }
  }

  /**
   * Re-enable interrupts (virtqueue_enable_cb). Returns false if used entries arrived meanwhile:
   * the caller must process them (and may disable again), since no interrupt will announce them.
   */
  enableCb(): boolean {
    this.cbEnabled = true;
    if (this.eventIdx) {
      store16(this.u16, this.usedEventW, this.lastUsed, this.shared);
    } else if ((this.availFlagsShadow & VRING_AVAIL_F_NO_INTERRUPT) !== 0) {
      this.availFlagsShadow &= ~VRING_AVAIL_F_NO_INTERRUPT;
      store16(this.u16, this.availFlagsW, this.availFlagsShadow, this.shared);
    }
    return !this.moreUsed();
  }

  /**
   * Like enableCb, but with EVENT_IDX ask for the interrupt only after about 3/4 of the buffers in
   * flight are used (virtqueue_enable_cb_delayed: fewer interrupts for a TX queue).
   */
  enableCbDelayed(): boolean {
    if (!this.eventIdx) return this.enableCb();
    this.cbEnabled = true;
    const bufs = Math.floor((((this.availShadow - this.lastUsed) & 0xffff) * 3) / 4);
    store16(this.u16, this.usedEventW, (this.lastUsed + bufs) & 0xffff, this.shared);
    if (this.brokenError !== undefined) return true;
    // used.idx is device-written; only compared here, and refreshUsedIdx validates it on use.
    const ahead = (load16(this.u16, this.usedIdxW, this.shared) - this.lastUsed) & 0xffff;
    return ahead <= bufs;
  }

  /**
   * On teardown, after the device stopped (vdev reset, remote stopped): give back the tokens of
   * every chain still posted and free their descriptors (virtqueue_detach_unused_buf, all at
   * once). Works on a broken queue too, so every token comes back exactly once: through getBuf
   * before, through here after. Ring indices are left as they are; discard the queue afterwards.
   */
  detachUnusedBufs(): T[] {
    const out: T[] = [];
    for (let head = 0; head < this.num; head++) {
      const token = this.tokens[head];
      if (token === undefined) continue;
      out.push(token);
      this.release(head);
    }
    return out;
  }
}

function validLen(len: number): boolean {
  return len >>> 0 === len && len !== 0;
}
