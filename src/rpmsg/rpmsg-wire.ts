// rpmsg wire formats and constants shared by both roles: the 16-byte message header, the 40-byte
// name-service message, addresses and sizes. Mirrors include/linux/rpmsg.h, include/linux/rpmsg/ns.h
// and the constants of drivers/rpmsg/virtio_rpmsg_bus.c; fields are little-endian (legacy virtio on a
// little-endian host).

import { ByteView } from '../util/bytes.ts';

export const RPMSG_ADDR_ANY = 0xffff_ffff;
export const RPMSG_NS_ADDR = 53;
/** Addresses below this are reserved; dynamic endpoint addresses start here. */
export const RPMSG_RESERVED_ADDRESSES = 1024;
export const RPMSG_NAME_SIZE = 32;

/** Linux's MAX_RPMSG_BUF_SIZE: every buffer, header included. */
export const RPMSG_BUF_SIZE = 512;
export const RPMSG_HDR_SIZE = 16;
/** Payload limit with Linux-sized buffers: 496. */
export const RPMSG_MTU = RPMSG_BUF_SIZE - RPMSG_HDR_SIZE;
/** Linux's MAX_RPMSG_NUM_BUFS: 256 RX + 256 TX. */
export const RPMSG_MAX_NUM_BUFS = 512;

const RPMSG_HDR = { src: 0, dst: 4, reserved: 8, len: 12, flags: 14 } as const;

export const RPMSG_NS_MSG_SIZE = 40;
const RPMSG_NS_MSG = { name: 0, addr: 32, flags: 36 } as const;
export const RPMSG_NS_CREATE = 0;
export const RPMSG_NS_DESTROY = 1;

/** VIRTIO_RPMSG_F_NS: the name-service feature bit of the rpmsg virtio device. */
export const VIRTIO_RPMSG_F_NS = 0;

export interface RpmsgHdr {
  readonly src: number;
  readonly dst: number;
  readonly len: number;
  readonly flags: number;
}

/** Little-endian u32 at `o` of `b` (caller guarantees 4 bytes there). */
function u32le(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
}

function u16le(b: Uint8Array, o: number): number {
  return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
}

function putU32le(b: Uint8Array, o: number, v: number): void {
  // Uint8Array stores keep the low 8 bits.
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

// Headers are read and written on every message: byte by byte on the message's own view, which
// needs neither a DataView nor a lookup of one (the optimiser keeps these as plain loads/stores).

/** Write a header into the first 16 bytes of `buf` (caller guarantees buf.length ≥ 16). */
export function writeRpmsgHdr(buf: Uint8Array, src: number, dst: number, len: number): void {
  putU32le(buf, RPMSG_HDR.src, src);
  putU32le(buf, RPMSG_HDR.dst, dst);
  putU32le(buf, RPMSG_HDR.reserved, 0);
  buf[RPMSG_HDR.len] = len;
  buf[RPMSG_HDR.len + 1] = len >>> 8;
  buf[RPMSG_HDR.flags] = 0;
  buf[RPMSG_HDR.flags + 1] = 0;
}

/** Read a header from the first 16 bytes of `buf` (caller guarantees buf.length ≥ 16). */
export function readRpmsgHdr(buf: Uint8Array): RpmsgHdr {
  return {
    src: u32le(buf, RPMSG_HDR.src),
    dst: u32le(buf, RPMSG_HDR.dst),
    len: u16le(buf, RPMSG_HDR.len),
    flags: u16le(buf, RPMSG_HDR.flags),
  };
}

export interface RpmsgNsMsg {
  /** NUL-forced: at most 31 characters, as rpmsg_ns_cb forces name[31] = 0. */
  readonly name: string;
  readonly addr: number;
  readonly flags: number;
}

export function encodeNsMsg(msg: RpmsgNsMsg): Uint8Array {
  const out = new Uint8Array(RPMSG_NS_MSG_SIZE);
  const v = new ByteView(out, 'le', { what: 'name-service message', op: 'rpmsg-ns' });
  v.setCString(RPMSG_NS_MSG.name, RPMSG_NAME_SIZE, msg.name, 'name');
  v.setU32(RPMSG_NS_MSG.addr, msg.addr, 'addr');
  v.setU32(RPMSG_NS_MSG.flags, msg.flags, 'flags');
  return out;
}

/**
 * Decode a name-service payload the remote sent: exactly 40 bytes, or undefined. The name is cut
 * at the first NUL within 31 bytes (Linux forces name[31] = 0), so a remote cannot make us read
 * past the field; non-printable bytes come back as \xNN.
 */
export function decodeNsMsg(payload: Uint8Array): RpmsgNsMsg | undefined {
  if (payload.length !== RPMSG_NS_MSG_SIZE) return undefined;
  const v = new ByteView(payload, 'le', { what: 'name-service message', op: 'rpmsg-ns' });
  const name = v.cstring(RPMSG_NS_MSG.name, RPMSG_NAME_SIZE - 1, 'name').text;
  return { name, addr: v.u32(RPMSG_NS_MSG.addr, 'addr'), flags: v.u32(RPMSG_NS_MSG.flags, 'flags') };
}
