// A malformed or hostile host against the remote device: bad vring setup in the live table, broken
// avail rings and descriptors, buffers too short or aimed at the rings, bad rpmsg headers, a
// translator that throws — each ends with no exception out of service(), the problem counted and
// reported, the affected queue (only) stopped, and a clean recovery at the next host reset. A fuzz
// property then scribbles over the rings and the vdev entry at random.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../../test/support/property.ts';
import { ERRNO } from '../../util/errors.ts';
import { RscTableWriter } from '../../rsc/index.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../../rsc/rsc-layout.ts';
import { VRING_DESC_F_NEXT } from '../../virtio/vring-constants.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import { RPMSG_NS_ADDR, writeRpmsgHdr } from '../rpmsg-wire.ts';
import {
  BUFS_DA,
  NS_FEATURE,
  RAM_BASE,
  TABLE_DA,
  TestHost,
  TestSoc,
  VRING0_DA,
  VRING1_DA,
  pump,
} from '../../../test/support/rpmsg-test-host.ts';

const enc = new TextEncoder();
const noop = (): void => undefined;
const BOUNDED = { timeout: 10_000 };

/** Everything set up as Linux would, but with `tamper` run just before DRIVER_OK. */
function badHandshake(tamper: (host: TestHost, soc: TestSoc) => void): {
  soc: TestSoc;
  host: TestHost;
  remote: ReturnType<TestSoc['makeRemote']>;
  errors: string[];
} {
  const soc = new TestSoc();
  const host = new TestHost(soc);
  const errors: string[] = [];
  const remote = soc.makeRemote({}, errors);
  remote.createEndpoint({ name: 'rpmsg-raw', cb: noop });
  host.setStatus(1);
  host.setStatus(3);
  host.setGfeatures(NS_FEATURE);
  host.createVqs();
  host.postRx(16);
  tamper(host, soc);
  host.setStatus(7);
  return { soc, host, remote, errors };
}

/** Write a u32 into the live vdev entry at a body-relative offset. */
function pokeVdev(soc: TestSoc, bodyField: number, value: number): void {
  new DataView(soc.table.buffer, soc.table.byteOffset).setUint32(
    soc.vdev.bodyOffset + bodyField,
    value,
    true,
  );
}

function pokeVring(soc: TestSoc, i: number, field: number, value: number): void {
  pokeVdev(soc, vringOffset(0, i) + field, value);
}

describe('invalid vring setup in the live table', BOUNDED, () => {
  const cases: [string, (host: TestHost, soc: TestSoc) => void, RegExp][] = [
    [
      'vring0 da outside the remote memory',
      (_h, soc) => new RscTableWriter(soc.table).setVringDa(soc.vdev, 0, RAM_BASE + 0x10_0000 - 64),
      /vring0 at da 0x800fffc0 .* outside the remote's memory/,
    ],
    [
      'vring1 da still FW_RSC_ADDR_ANY',
      (_h, soc) => new RscTableWriter(soc.table).setVringDa(soc.vdev, 1, 0xffff_ffff),
      /vring1 da is still FW_RSC_ADDR_ANY/,
    ],
    [
      'vring0 da not aligned',
      (_h, soc) => new RscTableWriter(soc.table).setVringDa(soc.vdev, 0, VRING0_DA + 8),
      /vring0 da 0x80010008 is not aligned to its align 0x10/,
    ],
    [
      'num rewritten by the host',
      (_h, soc) => pokeVring(soc, 1, FW_RSC_VDEV_VRING.num, 8),
      /vring1 num\/align 0x8\/0x10 differ from the firmware's 0x10\/0x10/,
    ],
    [
      'both vrings with one notify id',
      (_h, soc) => pokeVring(soc, 1, FW_RSC_VDEV_VRING.notifyid, 0),
      /same notify id 0x0/,
    ],
    [
      'notify id freed (-1)',
      (_h, soc) => pokeVring(soc, 0, FW_RSC_VDEV_VRING.notifyid, 0xffff_ffff),
      /vring0 notifyid is 0xffffffff/,
    ],
    [
      'both vrings at one address',
      (_h, soc) => new RscTableWriter(soc.table).setVringDa(soc.vdev, 1, VRING0_DA),
      /vring0 and vring1 overlap/,
    ],
    [
      'a vring over the resource table',
      (_h, soc) => new RscTableWriter(soc.table).setVringDa(soc.vdev, 1, TABLE_DA),
      /overlaps the resource table/,
    ],
  ];
  for (const [name, tamper, why] of cases) {
    it(`${name}: refused without an exception, then a clean handshake after reset`, () => {
      const { soc, host, remote, errors } = badHandshake(tamper);
      assert.ok(remote.service() > 0);
      assert.equal(remote.state, 'invalid');
      assert.equal(remote.stats.configErrors, 1);
      assert.equal(errors.length, 1);
      assert.match(errors[0] ?? '', why);
      assert.equal(remote.service(), 0, 'no retry while the status stays DRIVER_OK');
      assert.equal(remote.stats.configErrors, 1);
      assert.deepEqual(soc.toHost, []);
      // The host notices nothing works, stops and starts the device again, correctly this time.
      host.reset();
      remote.service();
      assert.equal(remote.state, 'wait-driver-ok');
      pokeVring(soc, 0, FW_RSC_VDEV_VRING.notifyid, 0);
      pokeVring(soc, 1, FW_RSC_VDEV_VRING.notifyid, 1);
      pokeVring(soc, 1, FW_RSC_VDEV_VRING.num, 16);
      host.handshake();
      assert.equal(pump(remote, host).length, 1);
      assert.equal(remote.state, 'ready');
    });
  }

  it('a translator that throws is "not mapped", counted and reported', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const errors: string[] = [];
    const remote = soc.makeRemote(
      {
        translate: (addr, len) => {
          if (BigInt(addr) === BigInt(VRING1_DA)) throw new Error('mmu fault');
          return soc.translate(addr, len);
        },
      },
      errors,
    );
    host.handshake();
    remote.service();
    assert.equal(remote.state, 'invalid');
    assert.equal(remote.stats.callbackErrors, 1);
    assert.match(errors.join('\n'), /threw: mmu fault/);
  });
});

describe('hostile rings after a good handshake', BOUNDED, () => {
  function ready(postRx = 16): {
    soc: TestSoc;
    host: TestHost;
    remote: ReturnType<TestSoc['makeRemote']>;
    errors: string[];
  } {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const errors: string[] = [];
    const remote = soc.makeRemote({}, errors);
    host.handshake({ postRx });
    remote.service();
    return { soc, host, remote, errors };
  }

  it('a descriptor loop on vring1 stops RX only; TX still works; a reset recovers', () => {
    const { soc, host, remote, errors } = ready();
    const got: number[] = [];
    const ept = remote.createEndpoint({ dst: 1024, cb: (d) => got.push(d.length) });
    const raw1 = soc.raw(VRING1_DA);
    raw1.setDesc(0, { addr: BigInt(BUFS_DA), len: 64, flags: VRING_DESC_F_NEXT, next: 1 });
    raw1.setDesc(1, { addr: BigInt(BUFS_DA), len: 64, flags: VRING_DESC_F_NEXT, next: 0 });
    raw1.pushAvailRaw(0);
    assert.doesNotThrow(() => remote.service());
    assert.equal(remote.stats.queueErrors, 1);
    assert.match(remote.queueErrors.rx?.message ?? '', /comes back to descriptor 0x0 .*a loop/);
    assert.match(errors[0] ?? '', /vring1 \(rx\) stopped until the host resets the device/);
    assert.equal(remote.state, 'ready');
    assert.equal(ept.trySend(enc.encode('still')), 0);
    assert.equal(host.poll().length, 1);
    assert.equal(remote.service(), 0, 'a stopped queue is left alone');
    host.reset();
    remote.service();
    host.handshake();
    remote.service();
    assert.equal(remote.queueErrors.rx, undefined);
    host.send(1024, ept.addr, enc.encode('ok'));
    pump(remote, host);
    assert.deepEqual(got, [2]);
  });

  it('avail.idx running away on vring0 stops TX: trySend -EIO, waiting sends rejected with EIO', async () => {
    const { soc, remote } = ready(0);
    const ept = remote.createEndpoint({ dst: 1024, cb: noop });
    let rejected = '';
    ept.send(enc.encode('w')).catch((e: unknown) => (rejected = e instanceof Error ? e.message : 'x'));
    soc.raw(VRING0_DA).availIdx = 100;
    assert.doesNotThrow(() => remote.service());
    await new Promise((r) => setImmediate(r));
    assert.match(rejected, /^EIO: .*avail\.idx 0x64 runs 100 entries ahead/);
    assert.equal(ept.trySend(enc.encode('x')), -ERRNO.EIO);
    assert.equal(ept.getTxBuffer(), undefined);
    assert.equal(remote.stats.queueErrors, 1);
  });

  it('RX buffers too short, readable, or aimed at the rings are returned unused and counted', () => {
    const { soc, host, remote, errors } = ready(0);
    const ept = remote.createEndpoint({ name: 'svc', dst: 1024, cb: noop });
    const rx = host.rx!;
    // 8 bytes: no room for a header; 512 device-readable bytes; a buffer over vring1's memory.
    assert.equal(rx.addInbuf(soc.busAddr(0), 8, 0), 0);
    assert.equal(rx.addOutbuf(soc.busAddr(1), 512, 1), 0);
    assert.equal(rx.addInbuf(BigInt(VRING1_DA), 512, 2), 0);
    rx.kick();
    assert.doesNotThrow(() => remote.service());
    assert.equal(remote.stats.txBadBuffers, 3);
    assert.equal(remote.pendingAnnouncements, 1, 'still waiting for a usable buffer');
    assert.equal(errors.length, 3);
    assert.match(errors[0] ?? '', /is 8 bytes, less than the 56/);
    assert.match(errors[1] ?? '', /device-readable bytes/);
    assert.match(errors[2] ?? '', /lies over the vrings/);
    const returned = [rx.getBuf(), rx.getBuf(), rx.getBuf()];
    assert.deepEqual(
      returned.map((u) => u?.len),
      [0, 0, 0],
      'given back with used.len 0',
    );
    // A buffer shorter than bufSize but long enough: used, and reported once as a size mismatch.
    assert.equal(rx.addInbuf(soc.busAddr(3), 100, 3), 0);
    assert.equal(rx.addInbuf(soc.busAddr(4), 100, 4), 0);
    rx.kick();
    remote.service();
    assert.equal(remote.pendingAnnouncements, 0);
    assert.equal(ept.trySend(new Uint8Array(85)), -ERRNO.EMSGSIZE, 'does not fit a 100-byte buffer');
    assert.equal(ept.trySend(new Uint8Array(84)), 0);
    assert.equal(remote.stats.txShortBuffers, 2);
    assert.match(errors[3] ?? '', /shorter than bufSize 512/);
    assert.equal(errors.length, 4);
  });

  it('bad rpmsg headers from the host are dropped and counted', () => {
    const { soc, host, remote } = ready();
    const got: number[] = [];
    const ept = remote.createEndpoint({ cb: (d) => got.push(d.length) });
    const tx = host.tx!;
    // 10 readable bytes: shorter than a header.
    assert.equal(tx.addOutbuf(soc.busAddr(16), 10, 16), 0);
    // hdr.len 200 in a 16 + 100 byte buffer.
    writeRpmsgHdr(soc.buf(17), 1024, ept.addr, 200);
    assert.equal(tx.addOutbuf(soc.busAddr(17), 116, 17), 0);
    // An NS message of the wrong length.
    writeRpmsgHdr(soc.buf(18), 1024, RPMSG_NS_ADDR, 20);
    assert.equal(tx.addOutbuf(soc.busAddr(18), 36, 18), 0);
    // A well-formed one, split over two descriptors (header, payload): gathered.
    writeRpmsgHdr(soc.buf(19), 1024, ept.addr, 5);
    soc.buf(20).set(enc.encode('split'));
    assert.equal(
      tx.addBuf(
        [
          { addr: soc.busAddr(19), len: 16, write: false },
          { addr: soc.busAddr(20), len: 5, write: false },
        ],
        19,
      ),
      0,
    );
    tx.kick();
    assert.doesNotThrow(() => remote.service());
    assert.equal(remote.stats.rxMalformed, 3);
    assert.deepEqual(got, [5]);
    assert.equal(host.reclaimTx(), 4, 'every buffer went back');
  });

  it('a device-writable chain on vring1 is a message without a header', () => {
    const { soc, host, remote } = ready();
    const tx = host.tx!;
    assert.equal(tx.addBuf([{ addr: soc.busAddr(16), len: 64, write: true }], 16), 0);
    tx.kick();
    remote.service();
    assert.equal(remote.stats.rxMalformed, 1);
    assert.equal(soc.raw(VRING1_DA).usedElem(0).len, 0, 'nothing written into it');
  });
});

describe('a host restart the remote did not see', BOUNDED, () => {
  it('a re-handshake between two polls breaks the old queues; restart() recovers', () => {
    const soc = new TestSoc();
    const host = new TestHost(soc);
    const errors: string[] = [];
    const remote = soc.makeRemote({}, errors);
    const ept = remote.createEndpoint({ name: 'svc', dst: 1024, cb: noop });
    host.handshake();
    assert.equal(pump(remote, host).length, 1);
    for (let i = 0; i < 20; i++) {
      assert.equal(ept.trySend(enc.encode(`m${i}`)), 0);
      host.poll();
    }
    // Stop and start again with no service() in between: the status reads DRIVER_OK throughout,
    // but the rings were zeroed and refilled from index 0.
    host.reset();
    host.handshake();
    assert.doesNotThrow(() => remote.service());
    // The device still trusts the avail entries it had counted; past them, the fresh avail.idx is
    // a violation and TX stops.
    let rc = 0;
    for (let i = 0; i < 40 && rc === 0; i++) rc = ept.trySend(enc.encode('lost'));
    assert.equal(rc, -ERRNO.EIO);
    assert.equal(remote.stats.queueErrors, 1);
    assert.match(errors.at(-1) ?? '', /avail\.idx 0x10 runs \d+ entries ahead/);
    assert.deepEqual(remote.notifyIds(), { tx: 0, rx: 1, vdev: 31 });
    remote.restart();
    assert.equal(remote.state, 'wait-driver-ok');
    assert.deepEqual(remote.notifyIds(), { tx: 0, rx: 1, vdev: 31 }, 'read from the live table');
    const again = pump(remote, host);
    assert.equal(remote.state, 'ready');
    assert.equal(again.length, 1, 're-announced');
    assert.equal(ept.trySend(enc.encode('back')), 0);
    assert.equal(host.poll().length, 1);
  });
});

describe('fuzz: random host writes into the rings and the vdev entry', BOUNDED, () => {
  it('service() and sends never throw, whatever the host scribbles', () => {
    const ringSize = vringSize(16, 16);
    const target = fc.oneof(
      fc.record({ where: fc.constant<'ring0' | 'ring1'>('ring0'), off: fc.nat(ringSize - 1) }),
      fc.record({ where: fc.constant<'ring0' | 'ring1'>('ring1'), off: fc.nat(ringSize - 1) }),
      fc.record({
        where: fc.constant<'vdev'>('vdev'),
        off: fc.nat(FW_RSC_VDEV.vring + 2 * FW_RSC_VDEV_VRING.size - 1),
      }),
    );
    const write = fc.record({ target, value: fc.integer({ min: 0, max: 255 }), then: fc.nat(3) });
    checkProperty(
      'rpmsg-remote-hostile-fuzz',
      fc.property(fc.array(write, { minLength: 1, maxLength: 40 }), (writes) => {
        const soc = new TestSoc();
        const host = new TestHost(soc);
        const remote = soc.makeRemote();
        const ept = remote.createEndpoint({
          name: 'fuzz',
          dst: 1024,
          cb: (d, _s, e) => void e.trySend(d),
        });
        host.handshake();
        remote.service();
        for (const w of writes) {
          const base =
            w.target.where === 'ring0'
              ? VRING0_DA - RAM_BASE
              : w.target.where === 'ring1'
                ? VRING1_DA - RAM_BASE
                : TABLE_DA - RAM_BASE + soc.vdev.bodyOffset;
          soc.ram[base + w.target.off] = w.value;
          if (w.then === 0) remote.service();
          if (w.then === 1) ept.trySend(enc.encode('x'));
          if (w.then === 2 && host.tx?.broken === undefined) {
            try {
              host.send(1024, ept.addr, enc.encode('y'));
            } catch {
              // the host's own queue may have run out; not what is under test
            }
          }
        }
        for (let i = 0; i < 4; i++) remote.service();
        const buf = ept.getTxBuffer();
        if (buf !== undefined) ept.sendNoCopy(buf, 1);
        assert.equal(remote.stats.internalErrors, 0);
      }),
      { numRuns: 300 },
    );
  });
});
