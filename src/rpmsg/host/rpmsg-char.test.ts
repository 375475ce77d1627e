// The rpmsg control and character devices (rpmsg_ctrl.c, rpmsg_char.c) over the deterministic
// loopback with a scriptable remote: the endpoint-info ioctl and its edge cases (TC-M17), reads of
// one message each, truncated to the reader's size (TC-M15), O_NONBLOCK reads and writes (TC-M11),
// poll, the open/close/destroy life cycle, and a remote that goes away under a reader.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../util/errors.ts';
import { rejectsWith } from '../../../test/support/rproc-fixtures.ts';
import { createLoopback, type Loopback } from '../../testing/loopback.ts';
import { hostileCore, type HostileRemote } from '../../testing/hostile-remote.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import { POLL, RPMSG_CHAR_QUEUE_LIMIT, RPMSG_DESTROY_EPT_IOCTL } from './rpmsg-char.ts';
import {
  RPMSG_CREATE_DEV_IOCTL,
  RPMSG_CREATE_EPT_IOCTL,
  RPMSG_ENDPOINT_INFO_SIZE,
  RpmsgCtrlDev,
  decodeEndpointInfo,
  encodeEndpointInfo,
} from './rpmsg-ctrl.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** The remote's service address the endpoint devices talk to. */
const REMOTE = 0x401;
const LOCAL = 0x500;

interface Rig {
  readonly lb: Loopback<HostileRemote>;
  readonly r: HostileRemote;
  readonly ctrl: RpmsgCtrlDev;
}

async function setup(num = 16): Promise<Rig> {
  const lb = await createLoopback({ core: hostileCore(), firmware: { num } });
  await lb.idle();
  const dev = lb.device;
  assert.ok(dev !== undefined);
  return { lb, r: lb.c, ctrl: lb.host.ctrl(dev) };
}

/** The remote sends `text` from REMOTE to `dst`, and the host takes it in. */
async function fromRemote(rig: Rig, dst: number, text: string): Promise<void> {
  assert.notEqual(rig.r.send(dst, enc.encode(text), { src: REMOTE }), undefined, 'an RX buffer was posted');
  await rig.lb.idle();
}

function info(name: string, src = LOCAL, dst = REMOTE): Uint8Array {
  return encodeEndpointInfo({ name, src, dst });
}

describe('rpmsg_ctrl ioctl', () => {
  it('creates an endpoint device from the 40-byte struct rpmsg_endpoint_info', async () => {
    const rig = await setup();
    const bytes = info('raw', LOCAL, REMOTE);
    assert.equal(bytes.length, RPMSG_ENDPOINT_INFO_SIZE);
    const dev = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, bytes);
    assert.deepEqual(dev.info, { name: 'raw', src: LOCAL, dst: REMOTE });
    assert.equal(dev.name, 'rpmsg0');
    assert.equal(
      rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, { name: 'b', src: RPMSG_ADDR_ANY, dst: REMOTE }).name,
      'rpmsg1',
    );
    assert.equal(rig.ctrl.eptdevs.length, 2);
    await rig.lb.close();
  });

  it('TC-M17 a 32-byte name without NUL is read as its first 31 characters', () => {
    const bytes = new Uint8Array(RPMSG_ENDPOINT_INFO_SIZE).fill(0x61); // 'a' everywhere, no NUL
    const got = decodeEndpointInfo(bytes);
    assert.equal(got.name, 'a'.repeat(31));
    assert.equal(got.src, 0x6161_6161);
  });

  const refused: readonly [string, number, Uint8Array, string][] = [
    ['an unknown command', 0xb5ff, info('x'), 'EINVAL'],
    ['RPMSG_CREATE_EPT_IOCTL with a short struct', RPMSG_CREATE_EPT_IOCTL, new Uint8Array(39), 'EFAULT'],
    ['an endpoint whose dst is ANY', RPMSG_CREATE_EPT_IOCTL, info('x', LOCAL, RPMSG_ADDR_ANY), 'EINVAL'],
    ['RPMSG_CREATE_DEV_IOCTL (local channels)', RPMSG_CREATE_DEV_IOCTL, info('x'), 'EOPNOTSUPP'],
  ];
  for (const [what, cmd, arg, code] of refused) {
    it(`TC-M17 refuses ${what} with ${code}`, async () => {
      const rig = await setup();
      assert.throws(
        () => rig.ctrl.ioctl(cmd, arg),
        (e: unknown) => isRprocError(e) && e.code === code,
      );
      assert.equal(rig.ctrl.eptdevs.length, 0);
      await rig.lb.close();
    });
  }
});

describe('rpmsg_char endpoint device', () => {
  it('reads one message per read, in order; TC-M15 a short read keeps the start and drops the rest', async () => {
    const rig = await setup();
    const file = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw')).open();
    assert.equal(file.addr, LOCAL);
    await fromRemote(rig, LOCAL, 'first message');
    await fromRemote(rig, LOCAL, 'second');
    assert.equal(file.queued, 2);
    assert.equal(file.poll(), POLL.IN | POLL.RDNORM | POLL.OUT);
    assert.equal(dec.decode(await file.read(5)), 'first');
    assert.equal(dec.decode(await file.read(512)), 'second', 'the rest of the first was discarded');
    assert.equal(file.poll(), POLL.OUT);
    // A blocking read waits for the next message.
    const pending = file.read(512);
    await fromRemote(rig, LOCAL, 'third');
    assert.equal(dec.decode(await pending), 'third');
    await rig.lb.close();
  });

  it('writes one message per write to dst, from the endpoint address; EMSGSIZE above the MTU', async () => {
    const rig = await setup();
    const file = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw')).open();
    assert.equal(await file.write(enc.encode('hello remote')), 12);
    await rig.lb.idle();
    const m = rig.r.received.at(-1);
    assert.deepEqual([m?.hdr.src, m?.hdr.dst, dec.decode(m?.payload)], [LOCAL, REMOTE, 'hello remote']);
    await rejectsWith(file.write(new Uint8Array(497)), 'EMSGSIZE');
    await rig.lb.close();
  });

  it('TC-M11 O_NONBLOCK: an empty read and a write with no TX buffer fail with EAGAIN; poll says when to retry', async () => {
    const rig = await setup(8);
    const file = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw')).open({ nonblock: true });
    await rejectsWith(file.read(64), 'EAGAIN');
    rig.r.autoReturn = false; // the remote keeps every TX buffer
    let written = 0;
    for (;;) {
      try {
        await file.write(enc.encode(`m${written}`));
        written++;
      } catch (e) {
        assert.ok(isRprocError(e, 'EAGAIN'), String(e));
        break;
      }
    }
    assert.equal(written, 8);
    assert.equal(file.poll() & POLL.OUT, 0);
    // The remote consumes one and gives its buffer back: writable again.
    const taken = rig.r.takeTx();
    assert.ok(taken !== undefined);
    rig.r.returnTx(taken.head);
    await rig.lb.idle();
    assert.equal(file.poll() & POLL.OUT, POLL.OUT);
    assert.equal(await file.write(enc.encode('again')), 5);
    await rig.lb.close();
  });

  it('opens once at a time, frees its address on close, and can be opened again', async () => {
    const rig = await setup();
    const dev = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw'));
    const file = dev.open();
    assert.throws(
      () => dev.open(),
      (e: unknown) => isRprocError(e, 'EBUSY'),
    );
    await fromRemote(rig, LOCAL, 'dropped at close');
    file.close();
    await rejectsWith(file.read(16), 'EPIPE');
    const again = dev.open();
    assert.equal(again.addr, LOCAL, 'the address was freed');
    assert.equal(again.queued, 0);
    await rig.lb.close();
  });

  it('RPMSG_DESTROY_EPT_IOCTL ends a waiting read with EPIPE and the device with it', async () => {
    const rig = await setup();
    const dev = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw'));
    const file = dev.open();
    const pending = file.read(16);
    assert.throws(
      () => dev.ioctl(0x1234),
      (e: unknown) => isRprocError(e, 'EINVAL'),
    );
    dev.ioctl(RPMSG_DESTROY_EPT_IOCTL);
    await rejectsWith(pending, 'EPIPE');
    await rejectsWith(file.write(enc.encode('x')), 'EPIPE');
    assert.equal(file.poll(), POLL.ERR);
    assert.throws(
      () => dev.open(),
      (e: unknown) => isRprocError(e, 'ENODEV'),
    );
    assert.equal(rig.ctrl.eptdevs.length, 0);
    await rig.lb.close();
  });

  it('hands queued messages out after the remote went away, then says EPIPE', async () => {
    const rig = await setup();
    const dev = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw'));
    const file = dev.open();
    await fromRemote(rig, LOCAL, 'last words');
    const waiting = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('other', LOCAL + 1)).open();
    const pending = waiting.read(16);
    await rig.lb.rproc.shutdown();
    await rejectsWith(pending, 'EPIPE');
    assert.equal(file.poll(), POLL.ERR | POLL.IN | POLL.RDNORM);
    assert.equal(dec.decode(await file.read(64)), 'last words');
    await rejectsWith(file.read(64), 'EPIPE');
    assert.ok(dev.destroyed, 'the endpoint devices go with their rpmsg device');
    assert.equal(rig.ctrl.eptdevs.length, 0);
    await rig.lb.close();
  });

  it(`copies at most ${RPMSG_CHAR_QUEUE_LIMIT} unread messages, then holds RX buffers (the remote runs short), then drops and counts`, async () => {
    const rig = await setup(64);
    const file = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw')).open();
    const dev = rig.lb.device;
    assert.ok(dev !== undefined);
    // 64 RX buffers: one endpoint's reader may hold a quarter of them.
    assert.equal(dev.rxHeldPerEndpoint, 16);
    const total = RPMSG_CHAR_QUEUE_LIMIT + 16 + 10;
    for (let i = 0; i < total; i++) await fromRemote(rig, LOCAL, `m${i}`);
    assert.equal(file.queued, RPMSG_CHAR_QUEUE_LIMIT + 16);
    assert.equal(file.held, 16);
    assert.equal(rig.r.availCount(0), 64 - 16, 'the held buffers are not back on the ring');
    assert.equal(file.dropped, 10);
    assert.equal(dev.stats.rxDropped, 10);
    const warned = rig.lb.logs.filter((l) => /rpmsg0 \(endpoint 1280\) is full: message dropped/.test(l));
    assert.equal(warned.length, 10, 'rate-limited (10 per 5 s)');
    // Reading gives every kept message in order, the held ones last, and their buffers back.
    for (let i = 0; i < RPMSG_CHAR_QUEUE_LIMIT + 16; i++)
      assert.equal(dec.decode(await file.read(16)), `m${i}`);
    await rig.lb.idle();
    assert.equal(file.held, 0);
    assert.equal(rig.r.availCount(0), 64);
    await rejectsWith(
      rig.ctrl
        .ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw2', LOCAL + 1))
        .open({ nonblock: true })
        .read(1),
      'EAGAIN',
    );
    await rig.lb.close();
  });

  it('a file closed while it holds RX buffers gives them back to the remote', async () => {
    const rig = await setup(16);
    const file = rig.ctrl.ioctl(RPMSG_CREATE_EPT_IOCTL, info('raw')).open({ queueLimit: 1 });
    for (let i = 0; i < 3; i++) await fromRemote(rig, LOCAL, `m${i}`);
    assert.deepEqual([file.queued, file.held, rig.r.availCount(0)], [3, 2, 14]);
    file.close();
    await rig.lb.idle();
    assert.equal(rig.r.availCount(0), 16);
    await rig.lb.close();
  });
});
