// The rpmsg wire formats byte by byte: struct rpmsg_hdr (include/linux/rpmsg.h: src, dst, reserved,
// len, flags; 16 bytes, little-endian) and struct rpmsg_ns_msg (include/linux/rpmsg/ns.h: name[32],
// addr, flags; 40 bytes), written and read at any offset of a larger buffer, as the host's buffer
// pool lays them out.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import {
  RPMSG_BUF_SIZE,
  RPMSG_HDR_SIZE,
  RPMSG_MTU,
  RPMSG_NS_CREATE,
  RPMSG_NS_DESTROY,
  RPMSG_NS_MSG_SIZE,
  decodeNsMsg,
  encodeNsMsg,
  readRpmsgHdr,
  writeRpmsgHdr,
} from './rpmsg-wire.ts';

const bytes = (...b: number[]): number[] => b;

describe('rpmsg wire: sizes', () => {
  it('the payload limit of a Linux-sized buffer is 512 − 16 = 496', () => {
    assert.equal(RPMSG_BUF_SIZE, 512);
    assert.equal(RPMSG_HDR_SIZE, 16);
    assert.equal(RPMSG_MTU, 496);
    assert.equal(RPMSG_NS_MSG_SIZE, 40);
    assert.deepEqual([RPMSG_NS_CREATE, RPMSG_NS_DESTROY], [0, 1]);
  });
});

interface HdrCase {
  readonly what: string;
  readonly src: number;
  readonly dst: number;
  readonly len: number;
  /** The 16 header bytes: src, dst, reserved, len, flags, little-endian. */
  readonly wire: readonly number[];
}

const HEADERS: readonly HdrCase[] = [
  {
    what: 'every field distinct',
    src: 0x0403_0201,
    dst: 0x0807_0605,
    len: 0x0a09,
    wire: bytes(1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 9, 10, 0, 0),
  },
  {
    what: 'the largest values',
    src: 0xffff_fffe,
    dst: 0xffff_ffff,
    len: 0xffff,
    wire: bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0, 0),
  },
  {
    what: 'the name service from 0x400, 40 bytes',
    src: 0x400,
    dst: 53,
    len: 40,
    wire: bytes(0, 4, 0, 0, 53, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0),
  },
];

describe('rpmsg wire: struct rpmsg_hdr', () => {
  for (const c of HEADERS) {
    for (const at of [0, 16, 37]) {
      it(`${c.what}, at offset ${at} of a buffer full of 0xee: written exactly, read back`, () => {
        const backing = new Uint8Array(96).fill(0xee);
        // A view at a non-zero byteOffset, as each buffer of the pool is.
        const view = backing.subarray(at, at + 32);
        writeRpmsgHdr(view, c.src, c.dst, c.len);
        assert.deepEqual([...view.subarray(0, 16)], c.wire);
        // The reserved and flags fields are written as 0 whatever the buffer held (a TX buffer is
        // reused, and the remote may have written into it); nothing outside the header is touched.
        assert.ok(backing.subarray(0, at).every((b) => b === 0xee));
        assert.ok(backing.subarray(at + 16).every((b) => b === 0xee));
        assert.deepEqual(readRpmsgHdr(view), { src: c.src, dst: c.dst, len: c.len, flags: 0 });
      });
    }
  }

  it('reading: flags and len little-endian, reserved ignored, at a non-zero offset', () => {
    const backing = new Uint8Array(64);
    const view = backing.subarray(20, 36);
    view.set(bytes(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 9, 9, 9, 9, 0x34, 0x12, 0x78, 0x56));
    assert.deepEqual(readRpmsgHdr(view), { src: 0x4433_2211, dst: 0x8877_6655, len: 0x1234, flags: 0x5678 });
  });

  it('two views of one buffer are read each at its own offset', () => {
    const backing = new Uint8Array(64);
    const a = backing.subarray(0, 16);
    const b = backing.subarray(32, 48);
    writeRpmsgHdr(a, 1, 2, 3);
    writeRpmsgHdr(b, 4, 5, 6);
    assert.deepEqual(readRpmsgHdr(a), { src: 1, dst: 2, len: 3, flags: 0 });
    assert.deepEqual(readRpmsgHdr(b), { src: 4, dst: 5, len: 6, flags: 0 });
  });
});

describe('rpmsg wire: struct rpmsg_ns_msg', () => {
  it('encodes name[32] NUL-padded, addr and flags little-endian: 40 bytes', () => {
    const wire = encodeNsMsg({ name: 'rpmsg-tty', addr: 0x0403_0201, flags: RPMSG_NS_DESTROY });
    const name = new Uint8Array(32);
    name.set(new TextEncoder().encode('rpmsg-tty'));
    assert.deepEqual([...wire], [...name, 1, 2, 3, 4, 1, 0, 0, 0]);
  });

  it('a 31-byte name fills the field but its NUL; 32 bytes are refused', () => {
    const wire = encodeNsMsg({ name: 'n'.repeat(31), addr: 0, flags: 0 });
    assert.equal(wire[30], 0x6e);
    assert.equal(wire[31], 0);
    assert.throws(
      () => encodeNsMsg({ name: 'n'.repeat(32), addr: 0, flags: 0 }),
      (e) => isRprocError(e, 'EINVAL') && e.op === 'rpmsg-ns' && e.message.includes('name "nnn'),
    );
  });

  const decoded: readonly (readonly [string, (m: Uint8Array) => void, string, number, number])[] = [
    ['a name cut at its NUL', () => undefined, 'svc', 0x8877_6655, 0x0102_0304],
    [
      'a name with no NUL in 32 bytes: 31 bytes',
      (m) => m.fill(0x61, 0, 32),
      'a'.repeat(31),
      0x8877_6655,
      0x0102_0304,
    ],
    ['bytes after the NUL ignored', (m) => m.fill(0x62, 4, 32), 'svc', 0x8877_6655, 0x0102_0304],
    ['a non-printable byte escaped', (m) => (m[1] = 0x01), 's\\x01c', 0x8877_6655, 0x0102_0304],
  ];
  for (const [what, edit, name, addr, flags] of decoded) {
    it(`decodes ${what}, addr and flags little-endian`, () => {
      const m = new Uint8Array(40);
      m.set(new TextEncoder().encode('svc'));
      m.set(bytes(0x55, 0x66, 0x77, 0x88, 0x04, 0x03, 0x02, 0x01), 32);
      edit(m);
      assert.deepEqual(decodeNsMsg(m), { name, addr, flags });
    });
  }

  it('decodes a message at a non-zero offset of its buffer', () => {
    const backing = new Uint8Array(100).fill(0x7a);
    const m = backing.subarray(16, 56);
    m.set(encodeNsMsg({ name: 'x', addr: 0x500, flags: 1 }));
    assert.deepEqual(decodeNsMsg(m), { name: 'x', addr: 0x500, flags: 1 });
  });

  for (const length of [0, 39, 41, 512]) {
    it(`a payload of ${length} bytes is no name-service message`, () => {
      assert.equal(decodeNsMsg(new Uint8Array(length)), undefined);
    });
  }
});
