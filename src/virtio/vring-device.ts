// The device side of a legacy split virtqueue: the side that consumes available buffers and returns
// them on the used ring (OpenAMP's VIRTIO_DEV_DEVICE role; the remote in remoteproc). Used by the
// remote-side rpmsg library and test remotes. The avail ring and the descriptors are driver-written
// input: every index, link, flag and address is checked, chains are walked with loop detection,
// buffers are resolved through the device's address translator, and a violation is recorded in
// `error` (naming the bad value in hex) — never thrown. Mirrors the virtio spec §2.7 device rules
// (and what vhost's get_vq_desc checks).

import { ERRNO, RprocError, hex } from '../util/errors.ts';
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_USED_F_NO_NOTIFY,
  vringNeedEvent,
} from './vring-constants.ts';
import { VRING_DESC_SIZE, type VringLayout } from './vring-layout.ts';
import { load16, mapVring, store16, type VringMemoryOptions } from './vring-memory.ts';

/**
 * Maps a descriptor's bus address range to a view of the memory the device can see (never a copy);
 * undefined when [addr, addr + len) is not entirely inside it.
 */
export type VringTranslate = (addr: bigint, len: number) => Uint8Array | undefined;

/** One buffer of an available chain, resolved. */
export interface DeviceBuffer {
  addr: bigint;
  len: number;
  /** The device may write it (VRING_DESC_F_WRITE); otherwise it only reads it. */
  write: boolean;
  /** The buffer's bytes, through the translator: exactly `len` bytes. */
  view: Uint8Array;
}

/**
 * An available chain taken by getAvail. Filled by the device queue; treat as read-only (it is
 * reused when passed back as getAvail's `out`).
 */
export interface DeviceChain {
  /** Head descriptor id: what pushUsed takes to return the chain. */
  head: number;
  /** Device-readable buffers first, then device-writable ones; indirect tables are flattened. */
  readonly buffers: DeviceBuffer[];
  /** Total bytes the device may read / write. */
  readable: number;
  writable: number;
}

export interface VirtqueueDeviceOptions extends VringMemoryOptions {
  /** What the device can see: descriptor addresses are resolved through it. */
  readonly translate: VringTranslate;
  /** Called by kick() when the driver must be notified (an interrupt / mailbox doorbell). */
  readonly notify?: () => void;
  /** The driver's startIdx (wrap-around tests); Linux always starts at 0. */
  readonly startIdx?: number;
}

export interface VirtqueueDeviceStats {
  /** Chains taken with getAvail. */
  chains: number;
  /** Chains returned with pushUsed. */
  used: number;
  kicks: number;
  kicksSuppressed: number;
  /** Violations recorded (the first one stops the queue). */
  rejected: number;
}

const EINVAL = -ERRNO.EINVAL;
const CHAIN_MAX_BYTES = 0xffff_ffff;

/** A descriptor's 64-bit address from its two little-endian words. */
function u64(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Device side of one split virtqueue over `memory`.
 *
 * Taking: getAvail() returns the next available chain, validated and resolved, or undefined (none
 * pending, or a violation — then `error` says why). A violation of the driver's side of the
 * protocol (avail.idx running ahead by more than num, a head or link ≥ num, a loop, a readable
 * buffer after a writable one, INDIRECT without the feature, a bad indirect table, a zero length,
 * an untranslatable buffer, a chain over 4 GiB) is the driver's fault: the queue records it and
 * stops taking chains (sticky, like the driver side's `broken`); the caller decides what to do
 * (report, reset the device). The offending avail entry is not consumed.
 *
 * Returning: pushUsed(head, len) writes a used element; publishUsed() publishes used.idx once for
 * all pushed since; kickPrepare()/kick() publish and decide whether the driver wants an interrupt.
 */
export class VirtqueueDevice {
  readonly name: string;
  readonly num: number;
  readonly layout: VringLayout;
  readonly eventIdx: boolean;
  /** VIRTIO_RING_F_INDIRECT_DESC negotiated: indirect tables are followed, otherwise rejected. */
  readonly indirect: boolean;
  readonly stats: VirtqueueDeviceStats = { chains: 0, used: 0, kicks: 0, kicksSuppressed: 0, rejected: 0 };

  private readonly mask: number;
  private readonly shared: boolean;
  private readonly notifyOnEmpty: boolean;
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
  private readonly translate: VringTranslate;
  private readonly notifyFn: (() => void) | undefined;

  /** 1 while a head is taken and not yet pushed back: the driver may not offer it again. */
  private readonly inFlight: Uint8Array;
  private readonly writableOf: Float64Array;
  /** Loop detection: visited[d] === epoch when descriptor d was seen in the current walk. */
  private readonly visited: Uint32Array;
  private readonly visitedIndirect: Uint32Array;
  private epoch = 0;
  private numInFlight = 0;
  /**
   * The last resolution of each ring descriptor (address words, length, view, bigint address): a
   * driver that posts the same buffer again — Linux's rpmsg pools always do — gets the view found
   * before, without a bigint or a call to the translator. Only the driver-written words are
   * compared, so a descriptor pointed elsewhere is resolved afresh; the translator's answer for one
   * range is assumed fixed for the life of the queue (the memory map does not change while a device
   * is up).
   */
  private readonly descLo: Uint32Array;
  private readonly descHi: Uint32Array;
  private readonly descLen: Uint32Array;
  private readonly descView: (Uint8Array | undefined)[];
  private readonly descAddr: bigint[];

  private lastAvail: number;
  private availIdxSeen: number;
  private usedShadow: number;
  private published: number;
  private kickedIdx: number;
  private usedSinceKick = 0;
  private usedFlagsShadow = 0;
  private notifyEnabled = true;
  private brokenError: RprocError | undefined;
  // Running totals of the chain being walked (fields, so the walk helpers need no closures).
  private walkCount = 0;
  private walkReadable = 0;
  private walkWritable = 0;

  constructor(options: VirtqueueDeviceOptions) {
    const m = mapVring(options, 'vring-device');
    this.name = m.name;
    this.num = m.num;
    this.layout = m.layout;
    this.eventIdx = m.eventIdx;
    this.indirect = m.indirect;
    this.mask = m.mask;
    this.shared = m.shared;
    this.notifyOnEmpty = m.notifyOnEmpty;
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
    this.translate = options.translate;
    this.notifyFn = options.notify;
    this.inFlight = new Uint8Array(m.num);
    this.writableOf = new Float64Array(m.num);
    this.visited = new Uint32Array(m.num);
    this.visitedIndirect = new Uint32Array(m.num);
    this.descLo = new Uint32Array(m.num);
    this.descHi = new Uint32Array(m.num);
    this.descLen = new Uint32Array(m.num);
    this.descView = new Array<Uint8Array | undefined>(m.num).fill(undefined);
    this.descAddr = new Array<bigint>(m.num).fill(0n);
    const start = (options.startIdx ?? 0) & 0xffff;
    this.lastAvail = start;
    this.availIdxSeen = start;
    this.usedShadow = start;
    this.published = start;
    this.kickedIdx = start;
    // Nothing is written here: the driver initialises the ring (and may have posted already).
  }

  /** Why the queue stopped taking chains (EIO naming the driver's violation, value in hex), or undefined. */
  get broken(): RprocError | undefined {
    return this.brokenError;
  }

  /** Chains taken and not yet pushed back. */
  get chainsInFlight(): number {
    return this.numInFlight;
  }

  /** Available entries not yet taken (0 after a violation; records one if avail.idx is implausible). */
  availCount(): number {
    if (this.brokenError !== undefined) return 0;
    if (this.lastAvail !== this.availIdxSeen) return (this.availIdxSeen - this.lastAvail) & 0xffff;
    if (!this.refreshAvailIdx()) return 0;
    return (this.availIdxSeen - this.lastAvail) & 0xffff;
  }

  /** Load avail.idx; accept it if it moved by at most num. False if nothing new (or a violation). */
  private refreshAvailIdx(): boolean {
    // avail.idx is driver-written: any u16. It is only accepted if at most num entries ahead of
    // what we took, so the avail ring slots it covers are each read once, in order.
    const idx = load16(this.u16, this.availIdxW, this.shared);
    if (idx === this.lastAvail) return false;
    const ahead = (idx - this.lastAvail) & 0xffff;
    if (ahead > this.num) {
      this.fail(
        `avail.idx ${hex(idx)} runs ${ahead} entries ahead of the last taken ${hex(this.lastAvail)}, more than the ring's ${this.num}`,
      );
      return false;
    }
    this.availIdxSeen = idx;
    return true;
  }

  private fail(reason: string): undefined {
    if (this.brokenError === undefined) {
      this.brokenError = new RprocError('EIO', 'vring', `${this.name}: ${reason}`);
      this.stats.rejected++;
    }
    return undefined;
  }

  /**
   * The next available chain, validated and resolved, or undefined (none pending, or a violation:
   * see `error`). Pass a chain from an earlier call as `out` to reuse it and its buffer objects
   * (no allocation once each descriptor has been resolved: see descView); after a violation
   * its contents are unspecified.
   */
  getAvail(out?: DeviceChain): DeviceChain | undefined {
    if (this.brokenError !== undefined) return undefined;
    if (this.lastAvail === this.availIdxSeen && !this.refreshAvailIdx()) return undefined;
    const pos = this.lastAvail;
    // The avail slot is driver-written and covered by the avail.idx just validated; read once,
    // range-checked, and refused if that head is still ours (offered twice).
    const head = this.u16[this.availRingW + (pos & this.mask)] ?? 0;
    if (head >= this.num) {
      return this.fail(
        `avail ring entry ${pos} names head descriptor ${hex(head)}, but the ring has ${this.num}`,
      );
    }
    if (this.inFlight[head] === 1) {
      return this.fail(
        `avail ring entry ${pos} names head descriptor ${hex(head)}, which the device has not returned yet`,
      );
    }
    const chain: DeviceChain = out ?? { head, buffers: [], readable: 0, writable: 0 };
    chain.head = head;
    this.walkCount = 0;
    this.walkReadable = 0;
    this.walkWritable = 0;
    const epoch = this.nextEpoch();
    let d = head;
    let steps = 0;
    for (;;) {
      // A descriptor seen before in this walk is a loop: with distinct descriptors the walk
      // visits at most num of them, which is the length budget.
      if (this.visited[d] === epoch) {
        return this.fail(
          `chain from head ${hex(head)} comes back to descriptor ${hex(d)} after ${steps} descriptors (a loop; a chain holds at most ${this.num})`,
        );
      }
      this.visited[d] = epoch;
      steps++;
      // Descriptor fields are driver-written and may change under us: each is read once into a
      // local and checked before use (next < num, flags, len > 0, [addr, addr+len) translatable).
      const w = d << 2;
      const lo = this.u32[w] ?? 0;
      const hi = this.u32[w + 1] ?? 0;
      const len = this.u32[w + 2] ?? 0;
      const flagsNext = this.u32[w + 3] ?? 0;
      const flags = flagsNext & 0xffff;
      const next = flagsNext >>> 16;
      if ((flags & VRING_DESC_F_INDIRECT) !== 0) {
        if (!this.walkIndirect(chain, head, d, u64(lo, hi), len, flags, epoch)) return undefined;
        break; // an indirect descriptor ends the chain (it may not carry NEXT)
      }
      if (!this.addDescBuffer(chain, head, d, lo, hi, len, (flags & VRING_DESC_F_WRITE) !== 0))
        return undefined;
      if ((flags & VRING_DESC_F_NEXT) === 0) break;
      if (next >= this.num) {
        return this.fail(
          `descriptor ${hex(d)} of chain ${hex(head)} links to ${hex(next)}, but the ring has ${this.num}`,
        );
      }
      d = next;
    }
    const readable = this.walkReadable;
    const writable = this.walkWritable;
    if (readable + writable > CHAIN_MAX_BYTES) {
      return this.fail(
        `chain from head ${hex(head)} totals ${hex(readable + writable)} bytes, more than the 4 GiB a chain may hold`,
      );
    }
    if (chain.buffers.length !== this.walkCount) chain.buffers.length = this.walkCount;
    chain.readable = readable;
    chain.writable = writable;
    this.inFlight[head] = 1;
    this.numInFlight++;
    this.writableOf[head] = writable;
    this.lastAvail = (pos + 1) & 0xffff;
    this.stats.chains++;
    if (this.eventIdx && this.notifyEnabled) {
      // Ask to be kicked for the next entry (OpenAMP's device role updates avail_event likewise).
      store16(this.u16, this.availEventW, this.lastAvail, this.shared);
    }
    return chain;
  }

  private nextEpoch(): number {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.visited.fill(0);
      this.visitedIndirect.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  /** addBuffer for ring descriptor d (address words lo, hi), through its last resolution if unchanged. */
  private addDescBuffer(
    chain: DeviceChain,
    head: number,
    d: number,
    lo: number,
    hi: number,
    len: number,
    write: boolean,
  ): boolean {
    const known = this.descView[d];
    if (known !== undefined && this.descLo[d] === lo && this.descHi[d] === hi && this.descLen[d] === len) {
      return this.addBuffer(chain, head, d, -1, this.descAddr[d] ?? 0n, len, write, known);
    }
    const addr = u64(lo, hi);
    if (!this.addBuffer(chain, head, d, -1, addr, len, write)) return false;
    this.descLo[d] = lo;
    this.descHi[d] = hi;
    this.descLen[d] = len;
    this.descView[d] = chain.buffers[this.walkCount - 1]?.view;
    this.descAddr[d] = addr;
    return true;
  }

  /**
   * Check one buffer and append it to the chain; false (error recorded) on a violation. `resolved`:
   * the view an earlier walk found for the same descriptor words (the translator is not asked).
   */
  private addBuffer(
    chain: DeviceChain,
    head: number,
    d: number,
    entry: number,
    addr: bigint,
    len: number,
    write: boolean,
    resolved?: Uint8Array,
  ): boolean {
    if (len === 0) {
      this.fail(`${where(head, d, entry)} has length 0`);
      return false;
    }
    if (!write && this.walkWritable > 0) {
      this.fail(`${where(head, d, entry)} is device-readable but follows a device-writable buffer`);
      return false;
    }
    const view = resolved ?? this.translate(addr, len);
    if (view?.length !== len) {
      this.fail(
        `${where(head, d, entry)}: buffer at ${hex(addr)} of ${hex(len)} bytes is outside the memory the device can see`,
      );
      return false;
    }
    if (write) this.walkWritable += len;
    else this.walkReadable += len;
    const i = this.walkCount++;
    const b = chain.buffers[i];
    if (b === undefined) {
      chain.buffers.push({ addr, len, write, view });
    } else {
      b.addr = addr;
      b.len = len;
      b.write = write;
      b.view = view;
    }
    return true;
  }

  /** Follow an indirect table (descriptor d); false (error recorded) on a violation. */
  private walkIndirect(
    chain: DeviceChain,
    head: number,
    d: number,
    addr: bigint,
    len: number,
    flags: number,
    epoch: number,
  ): boolean {
    const at = where(head, d, -1);
    if (!this.indirect) {
      this.fail(
        `${at} has VRING_DESC_F_INDIRECT (flags ${hex(flags)}), but VIRTIO_RING_F_INDIRECT_DESC was not negotiated`,
      );
      return false;
    }
    if ((flags & VRING_DESC_F_NEXT) !== 0) {
      this.fail(`${at} has both VRING_DESC_F_INDIRECT and VRING_DESC_F_NEXT (flags ${hex(flags)})`);
      return false;
    }
    if (len === 0 || len % VRING_DESC_SIZE !== 0) {
      this.fail(`${at}: indirect table length ${hex(len)} is not a non-zero multiple of 16`);
      return false;
    }
    const n = len / VRING_DESC_SIZE;
    if (n > this.num) {
      this.fail(`${at}: indirect table of ${n} descriptors is longer than the ring's ${this.num}`);
      return false;
    }
    const table = this.translate(addr, len);
    if (table?.length !== len) {
      this.fail(
        `${at}: indirect table at ${hex(addr)} of ${hex(len)} bytes is outside the memory the device can see`,
      );
      return false;
    }
    const tdv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    let e = 0;
    for (;;) {
      if (this.visitedIndirect[e] === epoch) {
        this.fail(`indirect table of ${at} comes back to entry ${hex(e)} (a loop)`);
        return false;
      }
      this.visitedIndirect[e] = epoch;
      // Table entries are driver-written like the ring's descriptors: read once, checked before use.
      const o = e * VRING_DESC_SIZE;
      const eAddr = tdv.getBigUint64(o, true);
      const eLen = tdv.getUint32(o + 8, true);
      const eFlags = tdv.getUint16(o + 12, true);
      const eNext = tdv.getUint16(o + 14, true);
      if ((eFlags & VRING_DESC_F_INDIRECT) !== 0) {
        this.fail(
          `${where(head, d, e)} has VRING_DESC_F_INDIRECT inside an indirect table (flags ${hex(eFlags)})`,
        );
        return false;
      }
      if (!this.addBuffer(chain, head, d, e, eAddr, eLen, (eFlags & VRING_DESC_F_WRITE) !== 0)) return false;
      if ((eFlags & VRING_DESC_F_NEXT) === 0) return true;
      if (eNext >= n) {
        this.fail(`${where(head, d, e)} links to ${hex(eNext)}, but the table has ${n} entries`);
        return false;
      }
      e = eNext;
    }
  }

  /**
   * Return a chain taken with getAvail, reporting `len` bytes written into its writable part.
   * Returns 0, or -EINVAL (nothing written) if head is not a chain in flight or len exceeds what
   * the chain lets the device write (the status contract of OpenAMP's virtqueue_add_consumed_buffer). Visible to the driver after publishUsed()/kickPrepare().
   */
  pushUsed(head: number, len: number): number {
    if (head >>> 0 !== head || head >= this.num || this.inFlight[head] !== 1) return EINVAL;
    if (len >>> 0 !== len || len > (this.writableOf[head] ?? 0)) return EINVAL;
    const slot = this.usedShadow & this.mask;
    // Plain stores, covered by the used.idx publication in publishUsed().
    if (this.usedAligned) {
      const w = this.usedRingW + (slot << 1);
      this.u32[w] = head;
      this.u32[w + 1] = len;
    } else {
      const b = this.usedRingW + (slot << 3);
      this.dv.setUint32(b, head, true);
      this.dv.setUint32(b + 4, len, true);
    }
    this.inFlight[head] = 0;
    this.numInFlight--;
    this.usedShadow = (this.usedShadow + 1) & 0xffff;
    this.usedSinceKick++;
    this.stats.used++;
    return 0;
  }

  /** Publish used.idx for everything pushed since the last publication (one ordered store). */
  publishUsed(): void {
    if (this.published !== this.usedShadow) {
      store16(this.u16, this.usedIdxW, this.usedShadow, this.shared);
      this.published = this.usedShadow;
    }
  }

  /**
   * Publish, then decide whether the driver wants an interrupt for what was used since the last
   * decision: with EVENT_IDX whether used.idx crossed used_event, otherwise unless the driver set
   * VRING_AVAIL_F_NO_INTERRUPT; with VIRTIO_F_NOTIFY_ON_EMPTY also when the avail ring ran empty.
   * Like Linux and OpenAMP, the flag test does not ask whether anything was pushed: call it after pushing.
   */
  kickPrepare(): boolean {
    this.publishUsed();
    const newIdx = this.usedShadow;
    const oldIdx = this.kickedIdx;
    const used = this.usedSinceKick;
    this.kickedIdx = newIdx;
    this.usedSinceKick = 0;
    let need: boolean;
    if (used >= 0x10000) {
      need = true; // more than a u16 difference can express
    } else if (this.eventIdx) {
      // used_event is driver-written: any value only changes whether we interrupt.
      need = vringNeedEvent(load16(this.u16, this.usedEventW, this.shared), newIdx, oldIdx);
    } else {
      // avail.flags is driver-written: same reasoning, only bit 0 is looked at.
      need = (load16(this.u16, this.availFlagsW, this.shared) & VRING_AVAIL_F_NO_INTERRUPT) === 0;
    }
    // avail.idx is driver-written; only compared for equality here.
    if (
      !need &&
      this.notifyOnEmpty &&
      used > 0 &&
      load16(this.u16, this.availIdxW, this.shared) === this.lastAvail
    ) {
      need = true;
    }
    if (need) this.stats.kicks++;
    else this.stats.kicksSuppressed++;
    return need;
  }

  /** kickPrepare(), then the notify callback if needed. Returns whether it notified. */
  kick(): boolean {
    const need = this.kickPrepare();
    if (need) this.notifyFn?.();
    return need;
  }

  /**
   * Ask the driver not to kick (VRING_USED_F_NO_NOTIFY). With EVENT_IDX nothing is written: the
   * avail_event left behind already limits kicks to one (vhost does the same).
   */
  disableNotify(): void {
    this.notifyEnabled = false;
    if (!this.eventIdx && (this.usedFlagsShadow & VRING_USED_F_NO_NOTIFY) === 0) {
      this.usedFlagsShadow |= VRING_USED_F_NO_NOTIFY;
      store16(this.u16, this.usedFlagsW, this.usedFlagsShadow, this.shared);
    }
  }

  /**
   * Ask for kicks again (clear VRING_USED_F_NO_NOTIFY, or set avail_event to the next entry).
   * Returns false if available entries arrived meanwhile — the caller must take them, since no
   * kick will announce them (same sense as the driver's enableCb; vhost's is the opposite).
   */
  enableNotify(): boolean {
    this.notifyEnabled = true;
    if (this.eventIdx) {
      store16(this.u16, this.availEventW, this.lastAvail, this.shared);
    } else if ((this.usedFlagsShadow & VRING_USED_F_NO_NOTIFY) !== 0) {
      this.usedFlagsShadow &= ~VRING_USED_F_NO_NOTIFY;
      store16(this.u16, this.usedFlagsW, this.usedFlagsShadow, this.shared);
    }
    return this.availCount() === 0;
  }
}

function where(head: number, d: number, entry: number): string {
  return entry < 0
    ? `descriptor ${hex(d)} of chain ${hex(head)}`
    : `indirect entry ${hex(entry)} (table in descriptor ${hex(d)}) of chain ${hex(head)}`;
}
