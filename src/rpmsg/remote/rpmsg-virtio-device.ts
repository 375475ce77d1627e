// The rpmsg remote (device) role over virtio: what firmware on a remote core uses to talk to a
// Linux-compatible host through the rpmsg vdev of its resource table. Over the shared device-side
// vdev session (DRIVER_OK wait, validated vrings, host resets: src/remoteproc/virtio/vdev-device-session.ts),
// announces endpoints with name-service messages, sends on vring0 and receives on vring1.
// Everything the host writes is validated; service() never throws.
// Plays the part of OpenAMP's rpmsg_virtio.c in VIRTIO_DEV_DEVICE role (lib/rpmsg/rpmsg_virtio.c).

import { errorText, type DeviceDiagnostics } from '../../virtio/device-diagnostics.ts';
import { ERRNO, RprocError, hex, type ErrnoName } from '../../util/errors.ts';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../../virtio/vring-constants.ts';
import type { DeviceChain } from '../../virtio/vring-device.ts';
import { VdevDeviceSession, type VdevDropCause } from '../../remoteproc/virtio/vdev-device-session.ts';
import { overlaps, type VdevQueues } from '../../remoteproc/virtio/vdev-rings.ts';
import {
  RPMSG_ADDR_ANY,
  RPMSG_BUF_SIZE,
  RPMSG_HDR_SIZE,
  RPMSG_NAME_SIZE,
  RPMSG_NS_ADDR,
  RPMSG_NS_CREATE,
  RPMSG_NS_DESTROY,
  RPMSG_NS_MSG_SIZE,
  RPMSG_RESERVED_ADDRESSES,
  VIRTIO_RPMSG_F_NS,
  decodeNsMsg,
  encodeNsMsg,
  readRpmsgHdr,
  writeRpmsgHdr,
} from '../rpmsg-wire.ts';
import {
  RemoteEndpoint,
  type EndpointOwner,
  type EndpointState,
  type RemoteEndpointOptions,
} from './remote-endpoint.ts';
import { SendWaiters } from './send-waiters.ts';
import { openSession, type Session, type TxSlot } from './remote-session.ts';
import type {
  RemoteSendOptions,
  RemoteTimers,
  RpmsgRemoteOptions,
  RpmsgRemoteState,
  RpmsgRemoteStats,
  RpmsgTxBuffer,
} from './remote-types.ts';
import { findRpmsgVdev, type RpmsgNotifyIds, type RpmsgVdevLocation } from './rpmsg-vdev-locate.ts';

const OP = 'rpmsg-remote';
const U32_MAX = 0xffff_ffff;
/**
 * RX buffers returned between two publications of used.idx inside one pass. A pass runs until the
 * ring is empty, and a host that keeps sending keeps it from emptying: without a publication before
 * the pass ends, the host would see none of its buffers back, run out and wait for the interrupt.
 * vhost-net returns used buffers in batches of 64 (VHOST_NET_BATCH) for the same reason.
 */
const RX_PUBLISH_EVERY = 32;

/** Features this library implements (bit masks of a u32 feature word). */
export const RPMSG_REMOTE_SUPPORTED_FEATURES =
  ((1 << VIRTIO_RPMSG_F_NS) | (1 << VIRTIO_RING_F_INDIRECT_DESC) | (1 << VIRTIO_RING_F_EVENT_IDX)) >>> 0;

/**
 * Smallest TX buffer used: a header and a name-service message. A host buffer below it is returned
 * unused (counted in txBadBuffers); bufSize may not be below it either.
 */
export const RPMSG_MIN_BUF_SIZE = RPMSG_HDR_SIZE + RPMSG_NS_MSG_SIZE;
/** Largest bufSize: hdr.len is a u16. */
export const RPMSG_MAX_BUF_SIZE = RPMSG_HDR_SIZE + 0xffff;

const defaultTimers: RemoteTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface LentTx {
  readonly slot: TxSlot;
  readonly session: Session;
}

interface NsPending {
  readonly ept: RemoteEndpoint;
  readonly name: string;
  readonly addr: number;
  readonly flags: number;
}

/** The RX message whose callback is running (holdRxBuffer works on it only). */
interface RxCurrent {
  readonly head: number;
  readonly payload: Uint8Array;
  readonly session: Session;
  held: boolean;
}

interface HeldRx {
  readonly head: number;
  readonly session: Session;
}

function isAddr(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= U32_MAX && value !== RPMSG_ADDR_ANY;
}

/**
 * The rpmsg device of one vdev entry, as firmware sees it.
 *
 * Poll-driven: call service() after every doorbell or wake-up (and once at start); it does all
 * pending work and returns how much (0 = idle: the caller may sleep until the next doorbell; any
 * other value: call it again first). Nothing runs on its own except send timeouts.
 *
 * States: wait-driver-ok → (DRIVER_OK seen, vrings valid) ready → (status loses DRIVER_OK, or gains
 * FAILED) wait-driver-ok, and so on; DRIVER_OK with an invalid vring setup → invalid until the host
 * resets the device. Endpoints survive resets and are announced again at each handshake.
 */
export class RpmsgVirtioDevice {
  readonly name: string;
  /** One rpmsg buffer, header included (the host's MAX_RPMSG_BUF_SIZE: 512 for Linux). */
  readonly bufSize: number;
  /** Largest payload: bufSize − 16. */
  readonly mtu: number;
  /** Where the rpmsg vdev lies in the table, and what the firmware wrote there. */
  readonly location: RpmsgVdevLocation;
  readonly stats: RpmsgRemoteStats = {
    handshakes: 0,
    resets: 0,
    configErrors: 0,
    queueErrors: 0,
    rxMessages: 0,
    rxUnknownDst: 0,
    rxMalformed: 0,
    nsReceived: 0,
    txMessages: 0,
    nsSent: 0,
    txNoBuffer: 0,
    txBadBuffers: 0,
    txShortBuffers: 0,
    callbackErrors: 0,
    kicks: 0,
    kicksSuppressed: 0,
    internalErrors: 0,
  };

  private readonly options: RpmsgRemoteOptions;
  private readonly owner: EndpointOwner;
  private readonly vdev: VdevDeviceSession<Session>;
  private readonly diag: DeviceDiagnostics;

  private readonly endpointsByAddr = new Map<number, RemoteEndpoint>();
  private readonly states = new WeakMap<RemoteEndpoint, EndpointState>();
  private nsQueue: NsPending[] = [];
  private readonly waiters: SendWaiters;
  private readonly lent = new Map<RpmsgTxBuffer, LentTx>();
  private readonly held = new Map<Uint8Array, HeldRx>();
  private readonly retiredTx = new WeakSet<RpmsgTxBuffer>();
  private readonly retiredRx = new WeakSet<Uint8Array>();
  private current: RxCurrent | undefined;
  // Reused by getAvail (we copy out what we keep), so that taking a chain allocates nothing.
  private readonly txChain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
  private readonly rxChain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };

  /** Throws RprocError when the options or the firmware's own table are unusable (not at run time). */
  constructor(options: RpmsgRemoteOptions) {
    this.options = options;
    this.name = options.name ?? 'rpmsg-remote';
    const bufSize = options.bufSize ?? RPMSG_BUF_SIZE;
    if (!Number.isSafeInteger(bufSize) || bufSize < RPMSG_MIN_BUF_SIZE || bufSize > RPMSG_MAX_BUF_SIZE) {
      throw new RprocError(
        'EINVAL',
        OP,
        `bufSize ${String(bufSize)} is outside ${RPMSG_MIN_BUF_SIZE}..${RPMSG_MAX_BUF_SIZE}`,
      );
    }
    this.bufSize = bufSize;
    this.mtu = bufSize - RPMSG_HDR_SIZE;
    this.waiters = new SendWaiters(options.timers ?? defaultTimers, (code, detail) =>
      this.error(code, detail),
    );
    this.vdev = new VdevDeviceSession<Session>({
      name: this.name,
      op: OP,
      device: options,
      locate: (table) =>
        findRpmsgVdev(table, options.vdevIndex === undefined ? {} : { vdevIndex: options.vdevIndex }),
      entryName: 'rpmsg vdev entry',
      supported: (options.features ?? RPMSG_REMOTE_SUPPORTED_FEATURES) >>> 0,
      labels: ['vring0 (tx)', 'vring1 (rx)'],
      memoryName: "the remote's memory",
      stats: this.stats,
      // A send from a hook inside a batch may still service (it only defers kicks).
      exclusiveBatches: false,
      role: {
        open: (queues) => this.startSession(queues),
        work: (s) => this.drainBacklog(s) + this.processRx(s),
        arm: (s) => this.armNotifications(s),
        dropped: (cause) => this.dropSession(cause),
        queueStopped: (s, ring) => {
          if (ring === s.tx)
            this.waiters.rejectAll('EIO', `the TX queue stopped: ${ring.broken?.detail ?? ''}`);
        },
        failed: (why) => this.waiters.rejectAll('EIO', why),
      },
    });
    this.diag = this.vdev.diag;
    this.location = this.vdev.location;
    this.owner = {
      mtu: this.mtu,
      trySendFrom: (ept, dst, data) => this.trySendFrom(ept, dst, data),
      sendFrom: (ept, dst, data, opts) => this.sendFrom(ept, dst, data, opts),
      sendNoCopyFrom: (ept, dst, buf, len) => this.sendNoCopyFrom(ept, dst, buf, len),
      getTxBuffer: () => this.getTxBuffer(),
      releaseTxBuffer: (buf) => this.releaseTxBuffer(buf),
      holdRxBuffer: (data) => this.holdRxBuffer(data),
      releaseRxBuffer: (data) => this.releaseRxBuffer(data),
      destroyEndpoint: (ept) => this.destroyEndpoint(ept),
    };
  }

  private get session(): Session | undefined {
    return this.vdev.session;
  }

  get state(): RpmsgRemoteState {
    return this.vdev.state;
  }

  /** Negotiated features (dfeatures ∧ gfeatures ∧ supported) while ready, else 0. */
  get features(): number {
    return this.vdev.features;
  }

  /** VIRTIO_RPMSG_F_NS negotiated: endpoints are announced and host announcements handled. */
  get nsEnabled(): boolean {
    return this.session?.ns ?? false;
  }

  /** The last error recorded (also passed to onError), for diagnostics. */
  get lastError(): string | undefined {
    return this.diag.lastError;
  }

  /** Why a queue stopped (EIO naming the host's violation), per queue, while ready. */
  get queueErrors(): { readonly tx: RprocError | undefined; readonly rx: RprocError | undefined } {
    return { tx: this.session?.tx.broken, rx: this.session?.rx.broken };
  }

  /** Senders waiting for a TX buffer (or for the host). */
  get pendingSends(): number {
    return this.waiters.length;
  }

  /** NS announcements waiting for a TX buffer. */
  get pendingAnnouncements(): number {
    return this.nsQueue.length;
  }

  /**
   * The notify ids of vring0 (tx) and vring1 (rx): those validated at the handshake while ready,
   * otherwise as the live table holds them now (host-written, unvalidated: for doorbell routing only).
   */
  notifyIds(): RpmsgNotifyIds {
    const [tx, rx] = this.vdev.notifyIds();
    return { tx, rx, vdev: this.location.notifyId };
  }

  /** The endpoint bound to a local address. */
  endpoint(addr: number): RemoteEndpoint | undefined {
    return this.endpointsByAddr.get(addr);
  }

  get endpoints(): RemoteEndpoint[] {
    return [...this.endpointsByAddr.values()];
  }

  // ---------------------------------------------------------------------------------------------
  // Endpoints

  /**
   * Create an endpoint (rpmsg_create_ept). With a name it is announced to the host (NS CREATE to
   * address 53) as soon as the device is ready and VIRTIO_RPMSG_F_NS is negotiated, and again after
   * every host reset. Throws RprocError: EINVAL (bad name or address), EBUSY (address taken or 53),
   * ESHUTDOWN (device closed).
   */
  createEndpoint(options: RemoteEndpointOptions): RemoteEndpoint {
    if (this.vdev.state === 'closed') throw new RprocError('ESHUTDOWN', OP, `${this.name} is closed`);
    const name = options.name ?? '';
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes >= RPMSG_NAME_SIZE || name.includes('\0')) {
      throw new RprocError(
        'EINVAL',
        OP,
        `endpoint name "${name}" is ${nameBytes} bytes; it must be shorter than ${RPMSG_NAME_SIZE} and hold no NUL`,
      );
    }
    const dst = options.dst ?? RPMSG_ADDR_ANY;
    if (!Number.isInteger(dst) || dst < 0 || dst > U32_MAX) {
      throw new RprocError('EINVAL', OP, `endpoint dst ${String(dst)} is not a 32-bit address`);
    }
    const addr = this.pickAddr(options.addr ?? RPMSG_ADDR_ANY);
    const state: EndpointState = { dst, configuredDst: dst, announced: false, destroyed: false };
    const ept = new RemoteEndpoint(this.owner, addr, options, state);
    this.endpointsByAddr.set(addr, ept);
    this.states.set(ept, state);
    if (this.session?.ns === true && ept.name !== '') {
      this.nsQueue.push({ ept, name: ept.name, addr, flags: RPMSG_NS_CREATE });
      this.flushOutside();
    }
    return ept;
  }

  private pickAddr(want: number): number {
    if (want === RPMSG_ADDR_ANY) {
      for (let a = RPMSG_RESERVED_ADDRESSES; a < RPMSG_ADDR_ANY; a++) {
        if (!this.endpointsByAddr.has(a)) return a;
      }
      throw new RprocError('EBUSY', OP, `no free endpoint address`);
    }
    if (!isAddr(want))
      throw new RprocError('EINVAL', OP, `endpoint address ${String(want)} is not a 32-bit address`);
    if (want === RPMSG_NS_ADDR) {
      throw new RprocError('EBUSY', OP, `endpoint address ${RPMSG_NS_ADDR} is the name service's`);
    }
    if (this.endpointsByAddr.has(want))
      throw new RprocError('EBUSY', OP, `endpoint address ${want} is in use`);
    return want;
  }

  private destroyEndpoint(ept: RemoteEndpoint): void {
    const st = this.states.get(ept);
    if (st === undefined || st.destroyed) return;
    st.destroyed = true;
    this.endpointsByAddr.delete(ept.addr);
    const queued = this.nsQueue.findIndex((p) => p.ept === ept && p.flags === RPMSG_NS_CREATE);
    if (queued >= 0) {
      // Never announced: nothing to withdraw.
      this.nsQueue.splice(queued, 1);
    } else if (st.announced && this.session?.ns === true) {
      this.nsQueue.push({ ept, name: ept.name, addr: ept.addr, flags: RPMSG_NS_DESTROY });
    }
    st.announced = false;
    this.waiters.rejectFor(ept, 'EPIPE', `endpoint ${ept.addr} was destroyed`);
    this.flushOutside();
  }

  // ---------------------------------------------------------------------------------------------
  // The poll loop

  /**
   * Do all pending work: notice DRIVER_OK or a reset, announce endpoints, send what waits for
   * buffers, deliver received messages, return buffers, kick the host. Returns the amount of work
   * done (0 = idle). Never throws; problems are counted in `stats` and passed to onError.
   */
  service(): number {
    return this.vdev.service();
  }

  /** At DRIVER_OK, with both vrings validated: the session, with every named endpoint to announce. */
  private startSession(queues: VdevQueues): Session {
    const s = openSession(queues);
    // OpenAMP sets VRING_USED_F_NO_NOTIFY on vring0: the host need not kick when it recycles RX
    // buffers. We ask for those kicks again only while something waits for a TX buffer.
    s.tx.vq.disableNotify();
    if (s.ns) {
      for (const ept of this.endpointsByAddr.values()) {
        if (ept.name !== '')
          this.nsQueue.push({ ept, name: ept.name, addr: ept.addr, flags: RPMSG_NS_CREATE });
      }
    }
    return s;
  }

  /** The session is gone: forget everything that belonged to the host. */
  private dropSession(cause: VdevDropCause): void {
    for (const buf of this.lent.keys()) this.retiredTx.add(buf);
    this.lent.clear();
    for (const data of this.held.keys()) this.retiredRx.add(data);
    this.held.clear();
    this.nsQueue = [];
    for (const ept of this.endpointsByAddr.values()) {
      const st = this.states.get(ept);
      if (st === undefined) continue;
      st.announced = false;
      st.dst = st.configuredDst;
    }
    if (cause === 'close') this.waiters.rejectAll('ESHUTDOWN', `${this.name} was closed`);
    else if (cause === 'restart') this.waiters.rejectAll('ECONNRESET', 'restart() was called');
    else this.waiters.rejectAll('ECONNRESET', 'the host reset the device');
  }

  /**
   * Forget the current session as if the host had reset the device: waiting sends fail with
   * ECONNRESET, peers are forgotten, and the next service() handshakes again if the status still
   * says DRIVER_OK. For platforms that learn of a host restart another way (a reset doorbell, the
   * core being restarted): a host that resets and completes a new handshake between two polls
   * leaves the status at DRIVER_OK, which the device cannot tell apart from no reset at all.
   */
  restart(): void {
    this.vdev.restart();
  }

  /**
   * Stop for good: waiting sends fail with ESHUTDOWN, held and lent buffers are forgotten (nothing is
   * written to the rings: the host gets them back by resetting), and service() does nothing more.
   */
  close(): void {
    this.vdev.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving (vring1)

  private processRx(s: Session): number {
    const ring = s.rx;
    const budget = 4 * ring.vq.num;
    // No kicks while the pass runs: it takes whatever the host adds meanwhile, so a kick per message
    // would only cost both sides a doorbell each. The pass's end re-arms (armNotifications) and
    // looks once more, as vhost does around its handle loop (vhost_disable_notify /
    // vhost_enable_notify in drivers/vhost/vhost.c).
    ring.vq.disableNotify();
    let n = 0;
    while (n < budget && ring.broken === undefined && this.session === s) {
      const chain = ring.vq.getAvail(this.rxChain);
      if (chain === undefined) {
        this.vdev.checkRing(s, ring);
        break;
      }
      n++;
      this.deliver(s, chain);
      if (n % RX_PUBLISH_EVERY === 0) ring.vq.publishUsed();
    }
    return n;
  }

  private deliver(s: Session, chain: DeviceChain): void {
    const head = chain.head;
    // The chain was validated by VirtqueueDevice: every buffer lies in memory we can see and
    // `readable` is the sum of the device-readable lengths (readable buffers come first).
    if (chain.readable < RPMSG_HDR_SIZE) {
      this.malformed(`RX buffer ${hex(head)} holds ${chain.readable} readable bytes, less than a header`);
      this.returnRx(s, head);
      return;
    }
    // Header fields are host-written: read once into locals. len is checked against the readable
    // bytes before it sizes anything; dst is only a map key; src is passed on as a number.
    const hdr = readRpmsgHdr(this.gather(chain, RPMSG_HDR_SIZE));
    if (hdr.len > chain.readable - RPMSG_HDR_SIZE) {
      this.malformed(
        `RX buffer ${hex(head)} claims ${hex(hdr.len)} payload bytes but holds ${hex(chain.readable - RPMSG_HDR_SIZE)}`,
      );
      this.returnRx(s, head);
      return;
    }
    // The payload is handed over as it lies in host memory: its bytes are the application's data,
    // never interpreted here (except NS messages, decoded below with their own checks).
    const payload = this.payloadOf(s, chain, hdr.len);
    if (hdr.dst === RPMSG_NS_ADDR && s.ns) {
      this.handleNs(payload, hdr.src);
      this.returnRx(s, head);
      return;
    }
    const ept = this.endpointsByAddr.get(hdr.dst);
    const st = ept === undefined ? undefined : this.states.get(ept);
    if (ept === undefined || st === undefined) {
      this.stats.rxUnknownDst++;
      this.returnRx(s, head);
      return;
    }
    // OpenAMP's rule: an endpoint without a peer takes the sender of its first message as its peer.
    if (st.dst === RPMSG_ADDR_ANY && hdr.src !== RPMSG_ADDR_ANY) st.dst = hdr.src;
    const current: RxCurrent = { head, payload, session: s, held: false };
    this.current = current;
    this.stats.rxMessages++;
    try {
      ept.cb(payload, hdr.src, ept);
    } catch (e) {
      this.stats.callbackErrors++;
      this.diag.report(`endpoint ${ept.addr} callback threw: ${errorText(e)}`);
    } finally {
      this.current = undefined;
    }
    if (!current.held && this.session === s) this.returnRx(s, head);
  }

  /**
   * The `len` payload bytes of an RX chain, after the header. A buffer's payload view is kept and
   * handed out again while its messages keep their length: a stream of same-sized messages costs
   * no view per message, and the same buffer gives the same view, as OpenAMP gives the same
   * rxbuf pointer for the same buffer (holdRxBuffer/releaseRxBuffer key on it). Only a view of
   * the buffer itself is kept, never a gathered copy.
   */
  private payloadOf(s: Session, chain: DeviceChain, len: number): Uint8Array {
    const end = RPMSG_HDR_SIZE + len;
    const base = this.gather(chain, end);
    // head < num: validated by VirtqueueDevice.getAvail.
    const head = chain.head;
    const kept = s.rxPayloads[head];
    // Still the payload of this buffer, where it lies now, at this length.
    if (
      kept !== undefined &&
      kept.length === len &&
      kept.buffer === base.buffer &&
      kept.byteOffset === base.byteOffset + RPMSG_HDR_SIZE
    )
      return kept;
    const payload = base.subarray(RPMSG_HDR_SIZE, end);
    s.rxPayloads[head] = base === chain.buffers[0]?.view ? payload : undefined;
    return payload;
  }

  /**
   * At least the first n readable bytes of a chain (n ≤ chain.readable; callers cut what they
   * need): the first buffer's own view when it holds them — always, with Linux's single-descriptor
   * buffers, so a message is read in place with no new view — else a copy of n bytes gathered
   * across buffers.
   */
  private gather(chain: DeviceChain, n: number): Uint8Array {
    const first = chain.buffers[0];
    if (first !== undefined && first.view.length >= n) return first.view;
    const out = new Uint8Array(n);
    let off = 0;
    for (const b of chain.buffers) {
      if (b.write || off >= n) break;
      const take = Math.min(b.view.length, n - off);
      out.set(b.view.subarray(0, take), off);
      off += take;
    }
    return out;
  }

  private returnRx(s: Session, head: number): void {
    // used.len 0: the device wrote nothing into a device-readable buffer (Linux never reads it).
    if (s.rx.vq.pushUsed(head, 0) !== 0) {
      this.vdev.internalError(new Error(`RX head ${hex(head)} was not in flight`));
      return;
    }
    s.rx.dirty = true;
  }

  private malformed(reason: string): void {
    this.stats.rxMalformed++;
    this.diag.report(`${reason}; dropped`);
  }

  /** A name-service message from the host (a channel it created with a fixed address, or its end). */
  private handleNs(payload: Uint8Array, src: number): void {
    // decodeNsMsg takes exactly 40 bytes (Linux's rule) and cuts the host-written name at a NUL
    // within 31 bytes, escaping non-printable bytes; addr and flags are plain u32 values.
    const msg = decodeNsMsg(payload);
    if (msg === undefined) {
      this.malformed(
        `name-service message of ${payload.length} bytes from ${hex(src)} (must be ${RPMSG_NS_MSG_SIZE})`,
      );
      return;
    }
    this.stats.nsReceived++;
    const destroy = (msg.flags & RPMSG_NS_DESTROY) !== 0;
    for (const ept of this.endpointsByAddr.values()) {
      const st = this.states.get(ept);
      if (st === undefined || ept.name !== msg.name) continue;
      if (!destroy && st.dst === RPMSG_ADDR_ANY) {
        st.dst = msg.addr;
        return;
      }
      if (destroy && st.dst === msg.addr) {
        st.dst = st.configuredDst;
        this.diag.userHook(() => ept.onUnbind?.(ept), `endpoint ${ept.addr} onUnbind`);
        return;
      }
    }
    if (destroy) this.diag.userHook(() => this.options.onNsUnbind?.(msg.name, msg.addr), 'onNsUnbind');
    else this.diag.userHook(() => this.options.onNsBind?.(msg.name, msg.addr), 'onNsBind');
  }

  /** Inside an endpoint callback: keep its buffer until releaseRxBuffer(data). 0 or -EINVAL. */
  holdRxBuffer(data: Uint8Array): number {
    const cur = this.current;
    if (cur?.payload !== data) return this.held.has(data) ? 0 : -ERRNO.EINVAL;
    if (!cur.held) {
      cur.held = true;
      this.held.set(data, { head: cur.head, session: cur.session });
    }
    return 0;
  }

  /** Give a held RX buffer back to the host. 0, -EINVAL (not held), -ESHUTDOWN (the host reset since). */
  releaseRxBuffer(data: Uint8Array): number {
    const h = this.held.get(data);
    if (h === undefined) return this.retiredRx.has(data) ? -ERRNO.ESHUTDOWN : -ERRNO.EINVAL;
    this.held.delete(data);
    if (h.session !== this.session) return -ERRNO.ESHUTDOWN;
    if (this.current?.payload === data) {
      // Released inside its own callback: deliver() returns it when the callback ends.
      this.current.held = false;
      return 0;
    }
    this.returnRx(h.session, h.head);
    this.vdev.kickOutside(h.session);
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending (vring0)

  /** Take a TX chain: a spare one first, else the next usable available chain of vring0. */
  private acquireTx(s: Session): TxSlot | undefined {
    const spare = s.spare.shift();
    if (spare !== undefined) return spare;
    const ring = s.tx;
    // Each pass consumes one avail entry; VirtqueueDevice never lets more than num be pending.
    for (let tries = 0; tries <= ring.vq.num && ring.broken === undefined; tries++) {
      const chain = ring.vq.getAvail(this.txChain);
      if (chain === undefined) {
        this.vdev.checkRing(s, ring);
        return undefined;
      }
      const slot = this.txSlotOf(s, chain);
      if (slot !== undefined) return slot;
    }
    return undefined;
  }

  /** A usable TX slot from a validated chain, or undefined (the chain was returned unused). */
  private txSlotOf(s: Session, chain: DeviceChain): TxSlot | undefined {
    // Validated by VirtqueueDevice: each buffer's view has exactly its len bytes of our memory.
    // What is left to judge is whether it suits rpmsg: all writable, room for a header and an NS
    // message in the first buffer, and not aliasing the rings or the table (we are about to write).
    const first = chain.buffers[0];
    if (first === undefined || chain.readable > 0) {
      return this.badTx(
        s,
        chain.head,
        `has ${chain.readable} device-readable bytes; vring0 carries device-writable buffers only`,
      );
    }
    if (first.len < RPMSG_MIN_BUF_SIZE) {
      return this.badTx(
        s,
        chain.head,
        `at ${hex(first.addr)} is ${first.len} bytes, less than the ${RPMSG_MIN_BUF_SIZE} a header and a name-service message need`,
      );
    }
    if (
      overlaps(first.view, s.tx.memory) ||
      overlaps(first.view, s.rx.memory) ||
      overlaps(first.view, this.vdev.table)
    ) {
      return this.badTx(s, chain.head, `at ${hex(first.addr)} lies over the vrings or the resource table`);
    }
    // Everything kept is copied out of the reused chain object before any user hook (onError) runs:
    // a hook may send, which takes the next chain into the same object.
    const slot: TxSlot = { head: chain.head, buf: first.view.subarray(0, Math.min(first.len, this.bufSize)) };
    if (first.len < this.bufSize) {
      this.stats.txShortBuffers++;
      if (!s.shortReported) {
        s.shortReported = true;
        this.diag.report(
          `TX buffer ${hex(slot.head)} at ${hex(first.addr)} is ${first.len} bytes, shorter than bufSize ${this.bufSize}: the host's buffer size differs from ours`,
        );
      }
    }
    return slot;
  }

  /** A TX chain rpmsg cannot use: returned unused (used.len 0, nothing written), counted, reported. */
  private badTx(s: Session, head: number, problem: string): undefined {
    this.stats.txBadBuffers++;
    if (s.tx.vq.pushUsed(head, 0) === 0) s.tx.dirty = true;
    this.diag.report(`TX buffer ${hex(head)} ${problem}; returned unused`);
    return undefined;
  }

  /** Header + push the used entry; the payload is already in place. Kicks unless inside service(). */
  private commitTx(s: Session, slot: TxSlot, src: number, dst: number, len: number): void {
    writeRpmsgHdr(slot.buf, src, dst, len);
    // used.len = 16 + payload (what Linux checks against its 512-byte buffer); slot.buf is part of
    // the chain's first writable buffer, so this never exceeds the chain's writable length.
    if (s.tx.vq.pushUsed(slot.head, RPMSG_HDR_SIZE + len) !== 0) {
      this.vdev.internalError(new Error(`TX head ${hex(slot.head)} was not in flight`));
      return;
    }
    s.tx.dirty = true;
    this.stats.txMessages++;
    this.vdev.kickOutside(s);
  }

  /** Copy and send now if a TX buffer is at hand: 0, -ENOMEM (none), -EMSGSIZE, -EIO. */
  private sendNow(s: Session, ept: RemoteEndpoint, dst: number, data: Uint8Array): number {
    const slot = this.acquireTx(s);
    if (slot === undefined) return s.tx.broken !== undefined ? -ERRNO.EIO : -ERRNO.ENOMEM;
    if (data.length > slot.buf.length - RPMSG_HDR_SIZE) {
      s.spare.unshift(slot);
      return -ERRNO.EMSGSIZE;
    }
    slot.buf.set(data, RPMSG_HDR_SIZE);
    this.commitTx(s, slot, ept.addr, dst, data.length);
    return 0;
  }

  /** Checks that do not depend on buffers; the error code or undefined. */
  private precheck(ept: RemoteEndpoint, dst: number, len: number): ErrnoName | undefined {
    if (this.vdev.state === 'closed') return 'ESHUTDOWN';
    const st = this.states.get(ept);
    if (st === undefined || st.destroyed) return 'EPIPE';
    if (len > this.mtu) return 'EMSGSIZE';
    if (!isAddr(dst)) return 'EINVAL';
    return undefined;
  }

  /** The session, if the host is still up (checked live: a reset may not be serviced yet). */
  private readySession(): Session | undefined {
    const s = this.session;
    return s !== undefined && this.vdev.hostUp() ? s : undefined;
  }

  private backlogEmpty(): boolean {
    return this.nsQueue.length === 0 && this.waiters.length === 0;
  }

  private trySendFrom(ept: RemoteEndpoint, dst: number, data: Uint8Array): number {
    const pre = this.precheck(ept, dst, data.length);
    if (pre !== undefined) return -ERRNO[pre];
    const s = this.readySession();
    if (s === undefined) return -ERRNO.EAGAIN;
    if (s.tx.broken !== undefined) return -ERRNO.EIO;
    if (!this.backlogEmpty()) {
      // Announcements and waiting senders go first, in order.
      this.flushOutside();
      if (!this.backlogEmpty()) {
        this.stats.txNoBuffer++;
        return -ERRNO.ENOMEM;
      }
    }
    const rc = this.sendNow(s, ept, dst, data);
    if (rc === -ERRNO.ENOMEM) this.stats.txNoBuffer++;
    this.vdev.kickOutside(s);
    return rc;
  }

  private sendFrom(
    ept: RemoteEndpoint,
    dst: number,
    data: Uint8Array,
    options: RemoteSendOptions,
  ): Promise<void> {
    const pre = this.precheck(ept, dst, data.length);
    if (pre !== undefined)
      return Promise.reject(this.error(pre, this.sendProblem(pre, ept, dst, data.length)));
    const s = this.readySession();
    if (s !== undefined && s.tx.broken !== undefined) {
      return Promise.reject(this.error('EIO', `the TX queue stopped: ${s.tx.broken.detail}`));
    }
    if (s !== undefined && this.backlogEmpty()) {
      const rc = this.sendNow(s, ept, dst, data);
      this.vdev.kickOutside(s);
      if (rc === 0) return Promise.resolve();
      if (rc !== -ERRNO.ENOMEM) {
        const code = rc === -ERRNO.EMSGSIZE ? 'EMSGSIZE' : 'EIO';
        return Promise.reject(this.error(code, this.sendProblem(code, ept, dst, data.length)));
      }
    }
    // Arms vring0 notifications once queued, and sends at once if buffers arrived meanwhile.
    return this.waiters.wait(ept, dst, data, options, () => this.flushOutside());
  }

  private sendProblem(code: ErrnoName, ept: RemoteEndpoint, dst: number, len: number): string {
    if (code === 'EMSGSIZE') {
      return `${len} bytes do not fit in an rpmsg buffer (MTU ${this.mtu}, or a shorter host buffer)`;
    }
    if (code === 'EPIPE') return `endpoint ${ept.addr} was destroyed`;
    if (code === 'EINVAL') return `destination ${String(dst)} is not a valid rpmsg address`;
    if (code === 'ESHUTDOWN') return `${this.name} is closed`;
    return `send from ${ept.addr} to ${String(dst)} failed`;
  }

  /** Send queued announcements, then waiting senders, in order, while TX buffers last. */
  private drainBacklog(s: Session): number {
    let n = 0;
    while (this.nsQueue.length > 0 && this.session === s) {
      const p = this.nsQueue[0];
      if (p === undefined) break;
      const slot = this.acquireTx(s);
      if (slot === undefined) return n;
      this.nsQueue.shift();
      // Every slot holds at least RPMSG_MIN_BUF_SIZE bytes: the 40-byte message fits.
      slot.buf.set(encodeNsMsg({ name: p.name, addr: p.addr, flags: p.flags }), RPMSG_HDR_SIZE);
      this.commitTx(s, slot, p.addr, RPMSG_NS_ADDR, RPMSG_NS_MSG_SIZE);
      this.stats.nsSent++;
      const st = this.states.get(p.ept);
      if (st !== undefined && p.flags === RPMSG_NS_CREATE) st.announced = true;
      n++;
    }
    while (this.waiters.length > 0 && this.session === s) {
      const w = this.waiters.first();
      if (w === undefined) break;
      const st = this.states.get(w.ept);
      if (st === undefined || st.destroyed) {
        this.waiters.completeFirst(this.error('EPIPE', `endpoint ${w.ept.addr} was destroyed`));
        continue;
      }
      const slot = this.acquireTx(s);
      if (slot === undefined) {
        if (s.tx.broken !== undefined)
          this.waiters.rejectAll('EIO', `the TX queue stopped: ${s.tx.broken.detail}`);
        return n;
      }
      if (w.data.length > slot.buf.length - RPMSG_HDR_SIZE) {
        s.spare.unshift(slot);
        this.waiters.completeFirst(
          this.error('EMSGSIZE', this.sendProblem('EMSGSIZE', w.ept, w.dst, w.data.length)),
        );
        continue;
      }
      slot.buf.set(w.data, RPMSG_HDR_SIZE);
      this.commitTx(s, slot, w.ept.addr, w.dst, w.data.length);
      this.waiters.completeFirst();
      n++;
    }
    return n;
  }

  /** Borrow a TX buffer for zero-copy sending; undefined when none (or not ready). */
  getTxBuffer(): RpmsgTxBuffer | undefined {
    const s = this.readySession();
    if (s === undefined || s.tx.broken !== undefined) return undefined;
    if (!this.backlogEmpty()) this.flushOutside();
    let slot: TxSlot | undefined;
    if (this.backlogEmpty()) slot = this.acquireTx(s);
    this.vdev.kickOutside(s);
    if (slot === undefined) {
      this.stats.txNoBuffer++;
      return undefined;
    }
    const buf: RpmsgTxBuffer = { payload: slot.buf.subarray(RPMSG_HDR_SIZE) };
    this.lent.set(buf, { slot, session: s });
    return buf;
  }

  /** Return a borrowed TX buffer unsent. 0, -EINVAL (not lent), -ESHUTDOWN (the host reset since). */
  releaseTxBuffer(buf: RpmsgTxBuffer): number {
    const lent = this.lent.get(buf);
    if (lent === undefined) return this.retiredTx.has(buf) ? -ERRNO.ESHUTDOWN : -ERRNO.EINVAL;
    this.lent.delete(buf);
    if (lent.session !== this.session) return -ERRNO.ESHUTDOWN;
    lent.session.spare.unshift(lent.slot);
    this.flushOutside();
    return 0;
  }

  private sendNoCopyFrom(ept: RemoteEndpoint, dst: number, buf: RpmsgTxBuffer, len: number): number {
    const lent = this.lent.get(buf);
    if (lent === undefined) return this.retiredTx.has(buf) ? -ERRNO.ESHUTDOWN : -ERRNO.EINVAL;
    if (!Number.isSafeInteger(len) || len < 0) return -ERRNO.EINVAL;
    const pre = this.precheck(ept, dst, len);
    if (pre !== undefined) return -ERRNO[pre];
    if (len > buf.payload.length) return -ERRNO.EMSGSIZE;
    const s = this.readySession();
    if (s === undefined) return -ERRNO.EAGAIN;
    if (lent.session !== s) return -ERRNO.ESHUTDOWN;
    if (s.tx.broken !== undefined) return -ERRNO.EIO;
    this.lent.delete(buf);
    this.commitTx(s, lent.slot, ept.addr, dst, len);
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Notifications

  /**
   * Ask for the host's kicks where we need them: always on vring1 (new messages), on vring0 only
   * while announcements or senders wait for buffers. True when nothing arrived meanwhile.
   */
  private armNotifications(s: Session): boolean {
    let quiet = true;
    if (s.rx.broken === undefined && !s.rx.vq.enableNotify()) quiet = false;
    if (s.tx.broken === undefined) {
      if (!this.backlogEmpty()) {
        if (!s.tx.vq.enableNotify()) quiet = false;
      } else {
        s.tx.vq.disableNotify();
      }
    }
    // enableNotify looks at avail.idx, which may reveal a violation.
    this.vdev.checkRing(s, s.rx);
    this.vdev.checkRing(s, s.tx);
    return quiet;
  }

  /** Send what the backlog can, arm vring0 and kick — for calls made outside service(). */
  private flushOutside(): void {
    this.vdev.batch((s) => {
      for (let round = 0; round < 4 && this.session === s; round++) {
        this.drainBacklog(s);
        this.vdev.flushKicks(s);
        if (s.tx.broken !== undefined) break;
        if (this.backlogEmpty()) {
          s.tx.vq.disableNotify();
          break;
        }
        if (s.tx.vq.enableNotify()) break;
      }
      this.vdev.checkRing(s, s.tx);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  private error(code: ErrnoName, detail: string): RprocError {
    return new RprocError(code, 'rpmsg-send', `${this.name}: ${detail}`);
  }
}
