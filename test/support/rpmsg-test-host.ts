// A Linux-like rpmsg host written by hand for the remote-role tests: one RAM array holding the
// resource table, both vrings and the 512-byte buffers, and the host side of virtio_rpmsg_bus done
// step by step with VirtqueueDriver (status 0 → 1 → 3, gfeatures, vring da, RX buffers posted on
// vring0, NO_INTERRUPT on vring1, DRIVER_OK, kick), as Linux's virtio_rpmsg_bus.c does it.

import { buildRscTable, RscTableWriter, type VdevLayout } from '../../src/rsc/index.ts';
import { VirtqueueDriver } from '../../src/virtio/vring-driver.ts';
import { RawVring } from '../../src/virtio/vring-raw.ts';
import { vringSize } from '../../src/virtio/vring-layout.ts';
import {
  RPMSG_BUF_SIZE,
  RPMSG_HDR_SIZE,
  VIRTIO_RPMSG_F_NS,
  readRpmsgHdr,
  writeRpmsgHdr,
} from '../../src/rpmsg/rpmsg-wire.ts';
import { RpmsgVirtioDevice } from '../../src/rpmsg/remote/rpmsg-virtio-device.ts';
import type { RemoteTranslate, RpmsgRemoteOptions } from '../../src/rpmsg/remote/remote-types.ts';
import { findRpmsgVdev } from '../../src/rpmsg/remote/rpmsg-vdev-locate.ts';

export const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x10_0000;
export const TABLE_DA = RAM_BASE + 0x100;
export const VRING0_DA = RAM_BASE + 0x1_0000;
export const VRING1_DA = RAM_BASE + 0x2_0000;
export const BUFS_DA = RAM_BASE + 0x4_0000;
export const NS_FEATURE = 1 << VIRTIO_RPMSG_F_NS;

export interface TestSocOptions {
  readonly num?: number;
  readonly align?: number;
  readonly dfeatures?: number;
  readonly shared?: boolean;
  /** Bus (physical) address = device address + busOffset for the buffers (default 0: PA = DA). */
  readonly busOffset?: number;
  /** The vdev's own notifyid (default 31, distinct from the vring ids 0 and 1). */
  readonly vdevNotifyId?: number;
}

/** A received message as the host saw it (copies). */
export interface HostMsg {
  readonly src: number;
  readonly dst: number;
  readonly len: number;
  readonly flags: number;
  readonly reserved: number;
  /** used.len the remote reported. */
  readonly usedLen: number;
  readonly payload: Uint8Array;
  /** Header + payload bytes. */
  readonly raw: Uint8Array;
}

/** The memory both sides share, the table in it, and the doorbells in both directions. */
export class TestSoc {
  readonly ram: Uint8Array;
  readonly num: number;
  readonly align: number;
  readonly busOffset: number;
  readonly tableSize: number;
  readonly table: Uint8Array;
  readonly vdev: VdevLayout;
  /** Notify ids the remote rang (remote → host). */
  readonly toHost: number[] = [];
  /** Notify ids the host rang (host → remote). */
  readonly toRemote: number[] = [];

  constructor(options: TestSocOptions = {}) {
    this.num = options.num ?? 16;
    this.align = options.align ?? 16;
    this.busOffset = options.busOffset ?? 0;
    const shared = options.shared ?? true;
    this.ram = new Uint8Array(shared ? new SharedArrayBuffer(RAM_SIZE) : new ArrayBuffer(RAM_SIZE));
    this.ram.fill(0xa5);
    const table = buildRscTable([
      { kind: 'trace', da: RAM_BASE + 0x8_0000, len: 0x1000, name: 'trace0' },
      {
        kind: 'vdev',
        id: 7,
        notifyId: options.vdevNotifyId ?? 31,
        dfeatures: options.dfeatures ?? NS_FEATURE,
        vrings: [
          { align: this.align, num: this.num },
          { align: this.align, num: this.num },
        ],
      },
    ]);
    this.tableSize = table.length;
    this.table = this.ram.subarray(TABLE_DA - RAM_BASE, TABLE_DA - RAM_BASE + table.length);
    this.table.set(table);
    const loc = findRpmsgVdev(this.table);
    this.vdev = { bodyOffset: loc.bodyOffset, numOfVrings: loc.numOfVrings, configLen: loc.configLen };
  }

  /** The remote's map: identity over RAM. */
  readonly translate: RemoteTranslate = (addr, len) => {
    const off = BigInt(addr) - BigInt(RAM_BASE);
    if (off < 0n || !Number.isSafeInteger(len) || len < 0 || off + BigInt(len) > BigInt(this.ram.length)) {
      return undefined;
    }
    const o = Number(off);
    return this.ram.subarray(o, o + len);
  };

  /** Bus addresses (descriptor addr) are device addresses + busOffset. */
  readonly translateBus: RemoteTranslate = (addr, len) =>
    this.translate(BigInt(addr) - BigInt(this.busOffset), len);

  /** The remote's device for this SoC, with errors collected into `errors`. */
  makeRemote(options: Partial<RpmsgRemoteOptions> = {}, errors: string[] = []): RpmsgVirtioDevice {
    return new RpmsgVirtioDevice({
      table: { da: TABLE_DA, size: this.tableSize },
      translate: this.translate,
      translateBus: this.translateBus,
      notify: (id) => this.toHost.push(id),
      onError: (e) => errors.push(e),
      ...options,
    });
  }

  ringMemory(da: number): Uint8Array {
    const size = vringSize(this.num, this.align);
    return this.ram.subarray(da - RAM_BASE, da - RAM_BASE + size);
  }

  raw(da: number): RawVring {
    return new RawVring(this.ringMemory(da), this.num, this.align);
  }

  /** View of pool buffer i (RX buffers are 0..num-1, TX buffers num..2num-1). */
  buf(i: number): Uint8Array {
    const o = BUFS_DA - RAM_BASE + i * RPMSG_BUF_SIZE;
    return this.ram.subarray(o, o + RPMSG_BUF_SIZE);
  }

  busAddr(i: number): bigint {
    return BigInt(BUFS_DA + i * RPMSG_BUF_SIZE + this.busOffset);
  }
}

export interface HandshakeOptions {
  /** RX buffers to post on vring0 (default num, as Linux posts all). */
  readonly postRx?: number;
  /** gfeatures to write (default dfeatures ∧ NS, Linux's negotiation for rpmsg). */
  readonly gfeatures?: number;
  readonly vring0Da?: number;
  readonly vring1Da?: number;
  /** Features the host's queues use (EVENT_IDX tests). */
  readonly ringFeatures?: number;
}

/** The host: Linux's virtio_rpmsg_bus steps, by hand. */
export class TestHost {
  readonly soc: TestSoc;
  rx: VirtqueueDriver<number> | undefined;
  tx: VirtqueueDriver<number> | undefined;
  /** Re-post consumed RX buffers (false: the remote runs out of TX buffers). */
  repost = true;
  readonly malformed: string[] = [];
  private txFree: number[] = [];
  private nextRx = 0;

  constructor(soc: TestSoc) {
    this.soc = soc;
  }

  private writer(): RscTableWriter {
    return new RscTableWriter(this.soc.table);
  }

  setStatus(status: number): void {
    this.writer().setVdevStatus(this.soc.vdev.bodyOffset, status);
  }

  setGfeatures(features: number): void {
    this.writer().setVdevGfeatures(this.soc.vdev.bodyOffset, features);
  }

  /** find_vqs: zero each ring, create the queue, write its da into the live table. */
  createVqs(options: HandshakeOptions = {}): void {
    const da0 = options.vring0Da ?? VRING0_DA;
    const da1 = options.vring1Da ?? VRING1_DA;
    const features = options.ringFeatures ?? 0;
    const mk = (da: number, name: string): VirtqueueDriver<number> | undefined => {
      const off = da - RAM_BASE;
      const size = vringSize(this.soc.num, this.soc.align);
      if (off < 0 || off + size > RAM_SIZE) return undefined; // a bogus da: no queue on our side
      return new VirtqueueDriver<number>({
        memory: this.soc.ram.subarray(off, off + size),
        num: this.soc.num,
        align: this.soc.align,
        features,
        name,
        zero: true,
      });
    };
    this.rx = mk(da0, 'host-rx(vring0)');
    this.writer().setVringDa(this.soc.vdev, 0, da0);
    this.tx = mk(da1, 'host-tx(vring1)');
    this.writer().setVringDa(this.soc.vdev, 1, da1);
    this.txFree = Array.from({ length: this.soc.num }, (_, i) => this.soc.num + i);
    this.nextRx = 0;
  }

  /** Post `count` more never-used RX buffers (device-writable, 512 bytes) on vring0, without kicking. */
  postRx(count: number): void {
    const rx = this.rx;
    if (rx === undefined) return;
    for (let k = 0; k < count && this.nextRx < this.soc.num; k++, this.nextRx++) {
      const i = this.nextRx;
      if (rx.addInbuf(this.soc.busAddr(i), RPMSG_BUF_SIZE, i) !== 0) throw new Error(`post RX ${i} failed`);
    }
    rx.flush();
  }

  /** Kick vring0 (notify id 0) if the remote did not suppress it. */
  kickRx(): boolean {
    const need = this.rx?.kickPrepare() ?? false;
    if (need) this.soc.toRemote.push(0);
    return need;
  }

  /** Linux's sequence from register_virtio_device to "rpmsg host is online". */
  handshake(options: HandshakeOptions = {}): void {
    this.setStatus(0);
    this.setStatus(1);
    this.setStatus(3);
    this.setGfeatures(options.gfeatures ?? NS_FEATURE);
    this.createVqs(options);
    this.postRx(options.postRx ?? this.soc.num);
    this.tx?.disableCb();
    this.setStatus(7);
    // The just-zeroed used.flags has no NO_NOTIFY: this kick always goes.
    this.kickRx();
  }

  /** Device removal: status 0 (the queues are forgotten). */
  reset(): void {
    this.setStatus(0);
    this.rx = undefined;
    this.tx = undefined;
  }

  /** Send one message as rpmsg_send does: a TX buffer, header + payload, len 16 + payload, kick 1. */
  send(src: number, dst: number, payload: Uint8Array): number {
    const tx = this.tx;
    if (tx === undefined) throw new Error('no TX queue');
    let i = this.txFree.shift();
    if (i === undefined) {
      i = tx.getBuf()?.token;
      if (i === undefined) return -12;
    }
    const buf = this.soc.buf(i);
    writeRpmsgHdr(buf, src, dst, payload.length);
    buf.set(payload, RPMSG_HDR_SIZE);
    const rc = tx.addOutbuf(this.soc.busAddr(i), RPMSG_HDR_SIZE + payload.length, i);
    if (rc !== 0) return rc;
    if (tx.kickPrepare()) this.soc.toRemote.push(1);
    return 0;
  }

  /** Reclaim TX buffers the remote returned on vring1; how many came back. */
  reclaimTx(): number {
    let n = 0;
    for (let u = this.tx?.getBuf(); u !== undefined; u = this.tx?.getBuf()) {
      this.txFree.push(u.token);
      n++;
    }
    return n;
  }

  /** TX buffers the host can use right now (never used + returned, after reclaiming). */
  txAvailable(): number {
    this.reclaimTx();
    return this.txFree.length;
  }

  /** rpmsg_recv_done: drain vring0's used ring with Linux's checks, re-post, one kick per batch. */
  poll(): HostMsg[] {
    const rx = this.rx;
    if (rx === undefined) return [];
    const out: HostMsg[] = [];
    let consumed = 0;
    for (let u = rx.getBuf(); u !== undefined; u = rx.getBuf()) {
      consumed++;
      const buf = this.soc.buf(u.token);
      const hdr = readRpmsgHdr(buf);
      if (u.len > RPMSG_BUF_SIZE || u.len < RPMSG_HDR_SIZE || hdr.len > u.len - RPMSG_HDR_SIZE) {
        this.malformed.push(`buffer ${u.token}: used.len ${u.len}, hdr.len ${hdr.len}`);
      } else {
        const raw = buf.slice(0, RPMSG_HDR_SIZE + hdr.len);
        out.push({
          src: hdr.src,
          dst: hdr.dst,
          len: hdr.len,
          flags: hdr.flags,
          reserved: new DataView(raw.buffer).getUint32(8, true),
          usedLen: u.len,
          payload: raw.slice(RPMSG_HDR_SIZE),
          raw,
        });
      }
      if (this.repost && rx.addInbuf(this.soc.busAddr(u.token), RPMSG_BUF_SIZE, u.token) !== 0) {
        throw new Error(`re-post RX ${u.token} failed`);
      }
    }
    if (consumed > 0 && this.repost) this.kickRx();
    return out;
  }
}

/** Run the remote and the host until both are idle; what the host received. */
export function pump(remote: RpmsgVirtioDevice, host: TestHost, rounds = 32): HostMsg[] {
  const out: HostMsg[] = [];
  for (let i = 0; i < rounds; i++) {
    const work = remote.service();
    const msgs = host.poll();
    out.push(...msgs);
    if (work === 0 && msgs.length === 0) break;
  }
  return out;
}

/**
 * Like pump, but the remote runs only when the host rang its doorbell (then until service() says
 * idle), as a core sleeping in WFI would: a kick the remote suppressed but needed shows up as a hang.
 */
export function pumpDoorbells(remote: RpmsgVirtioDevice, host: TestHost, rounds = 64): HostMsg[] {
  const out: HostMsg[] = [];
  for (let i = 0; i < rounds; i++) {
    const rang = host.soc.toRemote.length > 0;
    host.soc.toRemote.length = 0;
    if (rang) {
      for (let n = 0; n < 100 && remote.service() > 0; n++);
    }
    const msgs = host.poll();
    out.push(...msgs);
    if (!rang && msgs.length === 0 && host.soc.toRemote.length === 0) break;
  }
  return out;
}
