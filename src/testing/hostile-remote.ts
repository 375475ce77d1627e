// A scriptable misbehaving remote for the host's hostile-input tests. It does by hand, on raw ring
// fields, what a device does (take the host's available buffers, write messages into them, return
// them on the used ring, ring doorbells) and lets a test write anything a remote can write instead:
// used ring ids, lengths and indices, message headers and payloads, name-service messages, the
// live table's status/gfeatures/config_len/num_of_vrings, doorbells for unknown ids. The host owns
// the descriptors and the avail ring; this remote only reads them. Runs on the loopback board.

import { FW_RSC_VDEV, vringOffset, FW_RSC_VDEV_VRING } from '../rsc/rsc-layout.ts';
import { RawVring } from '../virtio/vring-raw.ts';
import { vringSize } from '../virtio/vring-layout.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK } from '../virtio/virtio-device.ts';
import {
  RPMSG_HDR_SIZE,
  RPMSG_NS_ADDR,
  RPMSG_NS_CREATE,
  encodeNsMsg,
  readRpmsgHdr,
  type RpmsgHdr,
} from '../rpmsg/rpmsg-wire.ts';
import { findRpmsgVdev, type RpmsgVdevLocation } from '../rpmsg/remote/rpmsg-vdev-locate.ts';
import type { CoreFactory, RemoteContext, RemoteCore } from './loopback.ts';
import { RprocError } from '../util/errors.ts';

/** A buffer the host made available, as the remote found it (descriptor fields read once). */
export interface TakenBuffer {
  readonly head: number;
  readonly addr: bigint;
  readonly len: number;
  readonly flags: number;
  /** The buffer through the remote's map (undefined if the address does not translate). */
  readonly view: Uint8Array | undefined;
}

/** A message the host sent (vring1), copied out. */
export interface HostMessage {
  readonly head: number;
  readonly hdr: RpmsgHdr;
  readonly payload: Uint8Array;
}

export interface RawSendOptions {
  /** Header src; default 0x400. */
  readonly src?: number;
  /** Header len; default payload.length. */
  readonly hdrLen?: number;
  /** used.len; default 16 + payload.length. */
  readonly usedLen?: number;
  /** used.id; default the head of the buffer taken. */
  readonly id?: number;
  /** Ring the host's vring0 doorbell afterwards; default true. */
  readonly notify?: boolean;
}

export class HostileRemote implements RemoteCore {
  readonly ctx: RemoteContext;
  readonly loc: RpmsgVdevLocation;
  /** Doorbells the host rang, in order. */
  readonly kicks: number[] = [];
  /** Messages the host sent, when autoReturn consumed them. */
  readonly received: HostMessage[] = [];
  /** On a vring1 doorbell: take every host message and return its buffer (a polite remote). */
  autoReturn = true;
  /** Called on every host doorbell after autoReturn's work. */
  onHostKick: ((notifyId: number, remote: HostileRemote) => void) | undefined;
  stopped = false;
  private up = false;
  private readonly rings: (RawVring | undefined)[] = [undefined, undefined];
  private ids: readonly [number, number] | undefined;
  private readonly lastAvail = [0, 0];

  constructor(ctx: RemoteContext) {
    this.ctx = ctx;
    this.loc = findRpmsgVdev(ctx.table);
  }

  onStart(): void {
    // Nothing: the host's first vring0 doorbell comes after DRIVER_OK.
  }

  onKick(notifyId: number): void {
    this.kicks.push(notifyId);
    if (this.autoReturn && this.ready && notifyId === this.notifyId(1)) {
      for (let m = this.takeTx(); m !== undefined; m = this.takeTx()) {
        this.received.push(m);
        this.returnTx(m.head, 0, false);
      }
      this.notify(this.notifyId(1));
    }
    this.onHostKick?.(notifyId, this);
  }

  stop(): void {
    this.stopped = true;
  }

  // ---- the live table ---------------------------------------------------------------------

  private get dv(): DataView {
    const t = this.ctx.table;
    return new DataView(t.buffer, t.byteOffset, t.byteLength);
  }

  private field(off: number): number {
    return this.loc.bodyOffset + off;
  }

  get status(): number {
    return this.dv.getUint8(this.field(FW_RSC_VDEV.status));
  }

  set status(v: number) {
    this.dv.setUint8(this.field(FW_RSC_VDEV.status), v);
  }

  get gfeatures(): number {
    return this.dv.getUint32(this.field(FW_RSC_VDEV.gfeatures), true);
  }

  set gfeatures(v: number) {
    this.dv.setUint32(this.field(FW_RSC_VDEV.gfeatures), v, true);
  }

  set configLen(v: number) {
    this.dv.setUint32(this.field(FW_RSC_VDEV.config_len), v, true);
  }

  set numOfVrings(v: number) {
    this.dv.setUint8(this.field(FW_RSC_VDEV.num_of_vrings), v);
  }

  vringDa(i: number): number {
    return this.dv.getUint32(vringOffset(this.loc.bodyOffset, i) + FW_RSC_VDEV_VRING.da, true);
  }

  /** vring i's notify id: as read when the remote first saw DRIVER_OK (live before that). */
  notifyId(i: number): number {
    const latched = this.ids?.[i === 0 ? 0 : 1];
    if (latched !== undefined) return latched;
    return this.dv.getUint32(vringOffset(this.loc.bodyOffset, i) + FW_RSC_VDEV_VRING.notifyid, true);
  }

  /**
   * DRIVER_OK seen (latched: like OpenAMP, this remote reads the status, ring addresses and notify
   * ids once, and keeps them whatever is written to the table afterwards).
   */
  get ready(): boolean {
    if (!this.up && (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      this.ids = [this.notifyId(0), this.notifyId(1)];
      this.ring(0);
      this.ring(1);
      this.up = true;
    }
    return this.up && !this.stopped;
  }

  /** vring i as raw fields, at the da the host wrote (read at first use after DRIVER_OK). */
  ring(i: 0 | 1): RawVring {
    const cached = this.rings[i];
    if (cached !== undefined) return cached;
    const v = this.loc.vrings[i];
    const memory = this.ctx.translate(this.vringDa(i), vringSize(v.num, v.align));
    if (memory === undefined) throw new RprocError('EFAULT', 'hostile-remote', `vring${i} da is not mapped`);
    const ring = new RawVring(memory, v.num, v.align);
    this.rings[i] = ring;
    return ring;
  }

  // ---- doorbells ------------------------------------------------------------------------------

  /** Ring the host's doorbell with any id. */
  notify(notifyId: number): void {
    if (!this.stopped) this.ctx.notify(notifyId);
  }

  // ---- taking what the host made available ----------------------------------------------------

  /** Available entries on ring i not taken yet. */
  availCount(i: 0 | 1): number {
    if (!this.ready) return 0;
    return (this.ring(i).availIdx - (this.lastAvail[i] ?? 0)) & 0xffff;
  }

  /** The next buffer the host made available on ring i (read straight from its descriptor). */
  take(i: 0 | 1): TakenBuffer | undefined {
    if (this.availCount(i) === 0) return undefined;
    const ring = this.ring(i);
    const pos = this.lastAvail[i] ?? 0;
    this.lastAvail[i] = (pos + 1) & 0xffff;
    const head = ring.availRing(pos & (ring.layout.num - 1));
    const d = ring.desc(head);
    return { head, addr: d.addr, len: d.len, flags: d.flags, view: this.ctx.translate(d.addr, d.len) };
  }

  /** A host message from vring1 (copied), or undefined. */
  takeTx(): HostMessage | undefined {
    const b = this.take(1);
    if (b === undefined) return undefined;
    const view = b.view ?? new Uint8Array(0);
    const hdr = view.length >= RPMSG_HDR_SIZE ? readRpmsgHdr(view) : { src: 0, dst: 0, len: 0, flags: 0 };
    const end = Math.min(view.length, RPMSG_HDR_SIZE + hdr.len);
    return { head: b.head, hdr, payload: view.slice(RPMSG_HDR_SIZE, Math.max(RPMSG_HDR_SIZE, end)) };
  }

  // ---- the used rings ---------------------------------------------------------------------------

  /** Write a used entry {id, len} at used.idx and publish it (any values). */
  pushUsed(i: 0 | 1, id: number, len: number): void {
    this.ring(i).pushUsedRaw(id >>> 0, len >>> 0);
  }

  /** Return a vring1 buffer (used.len as given) and ring the doorbell if asked. */
  returnTx(head: number, len = 0, notify = true): void {
    this.pushUsed(1, head, len);
    if (notify) this.notify(this.notifyId(1));
  }

  /** Move used.idx of ring i by `delta` without writing entries. */
  bumpUsedIdx(i: 0 | 1, delta: number): void {
    const ring = this.ring(i);
    ring.usedIdx = (ring.usedIdx + delta) & 0xffff;
  }

  // ---- sending (vring0) -------------------------------------------------------------------------

  /**
   * Take a host RX buffer, write header + payload (lengths as given, clipped to the buffer), and
   * return it on vring0's used ring. The head used, or undefined when the host offered no buffer.
   */
  send(dst: number, payload: Uint8Array, options: RawSendOptions = {}): number | undefined {
    const b = this.take(0);
    if (b === undefined) return undefined;
    this.fill(b, dst, payload, options);
    this.pushUsed(0, options.id ?? b.head, options.usedLen ?? RPMSG_HDR_SIZE + payload.length);
    if (options.notify ?? true) this.notify(this.notifyId(0));
    return b.head;
  }

  /** Write a message into a taken buffer without returning it. */
  fill(b: TakenBuffer, dst: number, payload: Uint8Array, options: RawSendOptions = {}): void {
    const view = b.view;
    if (view === undefined || view.length < RPMSG_HDR_SIZE) return;
    const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
    dv.setUint32(0, (options.src ?? 0x400) >>> 0, true);
    dv.setUint32(4, dst >>> 0, true);
    dv.setUint32(8, 0, true);
    dv.setUint16(12, (options.hdrLen ?? payload.length) & 0xffff, true);
    dv.setUint16(14, 0, true);
    view.set(payload.subarray(0, view.length - RPMSG_HDR_SIZE), RPMSG_HDR_SIZE);
  }

  /** A name-service message from `addr` (a raw payload may replace the 40-byte struct). */
  announce(name: string, addr: number, flags = RPMSG_NS_CREATE, raw?: Uint8Array): number | undefined {
    const payload = raw ?? encodeNsMsg({ name, addr, flags });
    return this.send(RPMSG_NS_ADDR, payload, { src: addr });
  }
}

export function hostileCore(
  setup: (remote: HostileRemote) => void = () => undefined,
): CoreFactory<HostileRemote> {
  return (ctx) => {
    const remote = new HostileRemote(ctx);
    setup(remote);
    return remote;
  };
}
