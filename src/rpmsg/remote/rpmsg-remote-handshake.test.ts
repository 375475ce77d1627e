// The remote side of the virtio handshake against a host that does Linux's steps by hand: nothing
// touched before DRIVER_OK, the name-service announcement byte by byte, feature negotiation,
// host reset and re-handshake with re-announcement, host-side announcements, bus addresses.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../util/errors.ts';
import { buildRscTable } from '../../rsc/index.ts';
import { VIRTIO_RING_F_EVENT_IDX, VRING_USED_F_NO_NOTIFY } from '../../virtio/vring-constants.ts';
import { RPMSG_ADDR_ANY, RPMSG_NS_ADDR, encodeNsMsg } from '../rpmsg-wire.ts';
import { findRpmsgVdev, readRpmsgNotifyIds } from './rpmsg-vdev-locate.ts';
import {
  NS_FEATURE,
  RAM_BASE,
  TestHost,
  TestSoc,
  VRING0_DA,
  VRING1_DA,
  pump,
  pumpDoorbells,
} from '../../../test/support/rpmsg-test-host.ts';

const enc = new TextEncoder();
const noop = (): void => undefined;

/** The 56 bytes Linux expects for NS CREATE {name, addr} from `addr`. */
function nsBytes(name: string, addr: number, flags = 0): Uint8Array {
  const out = new Uint8Array(56);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, addr, true); // src
  dv.setUint32(4, 53, true); // dst
  dv.setUint32(8, 0, true); // reserved
  dv.setUint16(12, 40, true); // len
  dv.setUint16(14, 0, true); // flags
  out.set(enc.encode(name), 16); // name, NUL-padded to 32
  dv.setUint32(48, addr, true);
  dv.setUint32(52, flags, true);
  return out;
}

describe('finding the rpmsg vdev in the firmware table', () => {
  it('locates the vdev after other entries and reads the notify ids Linux assigned', () => {
    const soc = new TestSoc();
    const loc = findRpmsgVdev(soc.table);
    assert.equal(loc.entryIndex, 1);
    assert.equal(loc.dfeatures, NS_FEATURE);
    assert.deepEqual(
      loc.vrings.map((v) => [v.num, v.align, v.notifyId]),
      [
        [16, 16, 0],
        [16, 16, 1],
      ],
    );
    assert.deepEqual(readRpmsgNotifyIds(soc.table), { tx: 0, rx: 1, vdev: 31 });
  });

  it('refuses a missing vdev (ENODEV), a one-vring vdev and bad geometry (EINVAL)', () => {
    const soc = new TestSoc();
    assert.throws(
      () => findRpmsgVdev(soc.table, { vdevIndex: 1 }),
      (e) => isRprocError(e, 'ENODEV'),
    );
    const console = buildRscTable([{ kind: 'vdev', id: 3, vrings: [{ num: 16, align: 16 }] }]);
    assert.throws(
      () => findRpmsgVdev(console),
      (e) => isRprocError(e, 'ENODEV'),
    );
    const one = buildRscTable([{ kind: 'vdev', id: 7, vrings: [{ num: 16, align: 16 }] }]);
    assert.throws(
      () => findRpmsgVdev(one),
      (e) => isRprocError(e, 'EINVAL') && /needs 2/.test(e.message),
    );
    const odd = buildRscTable([
      {
        kind: 'vdev',
        id: 7,
        vrings: [
          { num: 12, align: 16 },
          { num: 16, align: 16 },
        ],
      },
    ]);
    assert.throws(
      () => findRpmsgVdev(odd),
      (e) => isRprocError(e, 'EINVAL') && /power of two/.test(e.message),
    );
  });

  it('the device refuses a table it cannot map and a bufSize that does not fit', () => {
    const soc = new TestSoc();
    assert.throws(
      () => soc.makeRemote({ table: { da: RAM_BASE + 0x10_0000, size: 64 } }),
      (e) => isRprocError(e, 'EFAULT'),
    );
    assert.throws(
      () => soc.makeRemote({ bufSize: 40 }),
      (e) => isRprocError(e, 'EINVAL'),
    );
    assert.throws(
      () => soc.makeRemote({ vdevIndex: 2 }),
      (e) => isRprocError(e, 'ENODEV'),
    );
    // A view of the table works as well as its address.
    assert.equal(soc.makeRemote({ table: soc.table }).state, 'wait-driver-ok');
  });
});

describe('handshake', () => {
  it('touches nothing before DRIVER_OK, then announces named endpoints (bytes as Linux expects)', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const states: string[] = [];
    const remote = soc.makeRemote({ onStateChange: (s) => states.push(s) });
    const ept = remote.createEndpoint({ name: 'rpmsg-raw', cb: noop });
    const quiet = remote.createEndpoint({ cb: noop });
    assert.equal(ept.addr, 0x400);
    assert.equal(quiet.addr, 0x401);
    assert.equal(remote.service(), 0);

    // Linux's steps up to (not including) DRIVER_OK: vrings placed and RX buffers posted.
    host.setStatus(1);
    host.setStatus(3);
    host.setGfeatures(NS_FEATURE);
    host.createVqs();
    host.postRx(16);
    const before = soc.ringMemory(VRING0_DA).slice();
    const before1 = soc.ringMemory(VRING1_DA).slice();
    assert.equal(remote.service(), 0);
    assert.equal(remote.state, 'wait-driver-ok');
    assert.deepEqual(soc.ringMemory(VRING0_DA), before, 'vring0 untouched before DRIVER_OK');
    assert.deepEqual(soc.ringMemory(VRING1_DA), before1, 'vring1 untouched before DRIVER_OK');
    assert.deepEqual(soc.toHost, []);

    host.setStatus(7);
    host.kickRx();
    assert.ok(remote.service() > 0);
    assert.equal(remote.state, 'ready');
    assert.deepEqual(states, ['ready']);
    assert.equal(remote.features, NS_FEATURE);
    assert.equal(remote.nsEnabled, true);
    assert.deepEqual(soc.toHost, [0], 'one kick of vring0 for the announcement');
    const msgs = host.poll();
    assert.equal(msgs.length, 1, 'only the named endpoint is announced');
    const ns = msgs[0]!;
    assert.deepEqual(ns.raw, nsBytes('rpmsg-raw', 0x400));
    assert.equal(ns.usedLen, 56, 'used.len = 16 + payload');
    assert.equal(ept.announced, true);
    assert.equal(quiet.announced, false);
    assert.equal(remote.stats.nsSent, 1);
    // OpenAMP's habit: no kicks wanted for recycled RX buffers while nothing waits for one.
    assert.equal(soc.raw(VRING0_DA).usedFlags & VRING_USED_F_NO_NOTIFY, VRING_USED_F_NO_NOTIFY);
    assert.equal(pump(remote, host).length, 0);
  });

  it('an endpoint created while ready is announced at once, without waiting for service()', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const remote = soc.makeRemote();
    host.handshake();
    pump(remote, host);
    soc.toHost.length = 0;
    const ept = remote.createEndpoint({ name: 'rpmsg-tty', cb: noop });
    assert.deepEqual(soc.toHost, [0]);
    const [msg] = host.poll();
    assert.deepEqual(msg?.raw, nsBytes('rpmsg-tty', ept.addr));
  });

  it('without VIRTIO_RPMSG_F_NS negotiated nothing is announced', () => {
    for (const [dfeatures, gfeatures] of [
      [NS_FEATURE, 0],
      [0, NS_FEATURE],
    ] as const) {
      const soc = new TestSoc({ dfeatures });
      const host = new TestHost(soc);
      const remote = soc.makeRemote();
      remote.createEndpoint({ name: 'rpmsg-raw', cb: noop });
      host.handshake({ gfeatures });
      assert.deepEqual(pump(remote, host), []);
      assert.equal(remote.state, 'ready');
      assert.equal(remote.features, 0, 'the host cannot switch on what the firmware did not offer');
      assert.equal(remote.nsEnabled, false);
    }
    // features: the device can also decline what the table offers.
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const remote = soc.makeRemote({ features: 0 });
    remote.createEndpoint({ name: 'rpmsg-raw', cb: noop });
    host.handshake();
    assert.deepEqual(pump(remote, host), []);
  });

  it('FAILED in the status byte keeps the device waiting', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const remote = soc.makeRemote();
    host.handshake();
    host.setStatus(0x87);
    remote.service();
    assert.equal(remote.state, 'wait-driver-ok');
    host.setStatus(0x07);
    remote.service();
    assert.equal(remote.state, 'ready');
  });

  it('host reset (status 0) drops the queues and peers; the next handshake re-announces', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const errors: string[] = [];
    const states: string[] = [];
    const remote = soc.makeRemote({ onStateChange: (s) => states.push(s) }, errors);
    const got: string[] = [];
    const ept = remote.createEndpoint({
      name: 'rpmsg-client-sample',
      cb: (data, src) => got.push(`${src}:${new TextDecoder().decode(data)}`),
    });
    host.handshake();
    assert.equal(pump(remote, host).length, 1);
    host.send(1024, ept.addr, enc.encode('hello'));
    pump(remote, host);
    assert.deepEqual(got, ['1024:hello']);
    assert.equal(ept.dst, 1024);

    host.reset();
    assert.ok(remote.service() > 0);
    assert.equal(remote.state, 'wait-driver-ok');
    assert.equal(remote.stats.resets, 1);
    assert.equal(ept.dst, RPMSG_ADDR_ANY, 'the peer belonged to the old session');
    assert.equal(ept.announced, false);
    assert.equal(ept.trySend(enc.encode('x')), -107, 'ENOTCONN');

    // Crash recovery: the same table, the same memory, a fresh host.
    host.handshake();
    const again = pump(remote, host);
    assert.equal(again.length, 1);
    assert.deepEqual(again[0]?.raw, nsBytes('rpmsg-client-sample', ept.addr));
    host.send(1025, ept.addr, enc.encode('again'));
    pump(remote, host);
    assert.deepEqual(got, ['1024:hello', '1025:again']);
    assert.equal(ept.dst, 1025);
    assert.equal(ept.trySend(enc.encode('reply')), 0);
    const [reply] = host.poll();
    assert.equal(reply?.dst, 1025);
    assert.deepEqual(states, ['ready', 'wait-driver-ok', 'ready']);
    assert.deepEqual(errors, []);
  });

  it('host announcements to address 53 bind named endpoints; others reach onNsBind/onNsUnbind', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const binds: string[] = [];
    const remote = soc.makeRemote({
      onNsBind: (name, addr) => binds.push(`+${name}@${addr}`),
      onNsUnbind: (name, addr) => binds.push(`-${name}@${addr}`),
    });
    let unbound = 0;
    const ept = remote.createEndpoint({ name: 'ctrl', cb: noop, onUnbind: () => unbound++ });
    host.handshake();
    pump(remote, host);
    host.send(1030, RPMSG_NS_ADDR, encodeNsMsg({ name: 'ctrl', addr: 1030, flags: 0 }));
    host.send(1031, RPMSG_NS_ADDR, encodeNsMsg({ name: 'other', addr: 1031, flags: 0 }));
    pump(remote, host);
    assert.equal(ept.dst, 1030, 'bound by name');
    assert.deepEqual(binds, ['+other@1031']);
    assert.equal(remote.stats.nsReceived, 2);
    host.send(1030, RPMSG_NS_ADDR, encodeNsMsg({ name: 'ctrl', addr: 1030, flags: 1 }));
    host.send(1031, RPMSG_NS_ADDR, encodeNsMsg({ name: 'other', addr: 1031, flags: 1 }));
    pump(remote, host);
    assert.equal(ept.dst, RPMSG_ADDR_ANY);
    assert.equal(unbound, 1);
    assert.deepEqual(binds, ['+other@1031', '-other@1031']);
  });

  it('num 256 / align 4096 rings and EVENT_IDX negotiated', () => {
    const eventIdx = 1 << VIRTIO_RING_F_EVENT_IDX;
    const soc = new TestSoc({ num: 256, align: 4096, dfeatures: NS_FEATURE | eventIdx });
    const host = new TestHost(soc);
    const remote = soc.makeRemote();
    const got: number[] = [];
    const ept = remote.createEndpoint({
      name: 'echo',
      cb: (data, _src, e) => {
        got.push(data.length);
        assert.equal(e.trySend(data), 0);
      },
    });
    host.handshake({ gfeatures: NS_FEATURE | eventIdx, ringFeatures: NS_FEATURE | eventIdx });
    assert.equal(pump(remote, host).length, 1);
    assert.equal(remote.features, (NS_FEATURE | eventIdx) >>> 0);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 200; i++) assert.equal(host.send(1024, ept.addr, new Uint8Array(i % 50)), 0);
      const echoed = pumpDoorbells(remote, host);
      assert.equal(echoed.length, 200);
      host.reclaimTx();
    }
    assert.equal(got.length, 600);
    assert.equal(remote.stats.queueErrors, 0);
  });

  it('descriptor addresses go through translateBus (PA ≠ DA); without it they do not resolve', () => {
    const soc = new TestSoc({ busOffset: 0x4000_0000 });
    const host = new TestHost(soc);
    const remote = soc.makeRemote();
    remote.createEndpoint({ name: 'rpmsg-raw', cb: noop });
    host.handshake();
    assert.equal(pump(remote, host).length, 1);

    const soc2 = new TestSoc({ busOffset: 0x4000_0000 });
    const host2 = new TestHost(soc2);
    const errors: string[] = [];
    const remote2 = soc2.makeRemote({ translateBus: soc2.translate }, errors);
    remote2.createEndpoint({ name: 'rpmsg-raw', cb: noop });
    host2.handshake();
    assert.deepEqual(pump(remote2, host2), []);
    assert.equal(remote2.stats.queueErrors, 1);
    assert.match(remote2.queueErrors.tx?.message ?? '', /outside the memory the device can see/);
    assert.equal(errors.length, 1);
  });
});
