// The host against a misbehaving remote: every TC-V* and TC-M* case of
// docs/malformed-input-cases.md as a named test, plus what else a remote can write (used
// rings, buffer contents, the live table, doorbells). For each: no exception, hang or leak; the
// problem counted or reported with the value in hex; the buffer recycled (Linux loses it) and later
// traffic working where the ring is intact; a broken ring marks the device broken ('error') and
// crashes the processor (fatal error, source virtio): with recovery it restarts and works again,
// without it sends fail with EIO until the remote is restarted by hand.

import { describe, it } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ERRNO, isRprocError } from '../../util/errors.ts';
import { checkAsyncProperty } from '../../../test/support/property.ts';
import { rejectsWith } from '../../../test/support/rproc-fixtures.ts';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../../virtio/vring-constants.ts';
import { RPMSG_ADDR_ANY, RPMSG_NS_ADDR, RPMSG_NS_DESTROY, encodeNsMsg } from '../rpmsg-wire.ts';
import { createLoopback, echoCore, Loopback, passiveCore, type RemoteCore } from '../../testing/loopback.ts';
import { hostileCore, type HostileRemote } from '../../testing/hostile-remote.ts';
import type { RpmsgFirmwareOptions } from '../../testing/rpmsg-firmware.ts';
import { endpointStream } from './endpoint-stream.ts';
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';
import type { RprocEvents } from '../../remoteproc/rproc.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const SVC = 0x400;

interface Rig {
  readonly lb: Loopback<HostileRemote>;
  readonly r: HostileRemote;
  readonly ept: RpmsgEndpoint;
  readonly got: string[];
}

/** A hostile remote that announced "svc" at 0x400, and the host's endpoint on that channel. */
async function setup(firmware: RpmsgFirmwareOptions = {}): Promise<Rig> {
  const lb = await createLoopback({ core: hostileCore(), firmware });
  const r = lb.c;
  r.announce('svc', SVC);
  await lb.idle();
  const got: string[] = [];
  const ept = lb.host.channels[0]?.open((d) => got.push(dec.decode(d)));
  assert.ok(ept !== undefined, 'the channel was announced');
  return { lb, r, ept, got };
}

/** A good message from the remote and a good message to it still work. */
async function stillWorks({ lb, r, ept, got }: Rig, tag: string): Promise<void> {
  const before = got.length;
  assert.notEqual(r.send(ept.addr, enc.encode(tag), { src: SVC }), undefined, 'the host offered a buffer');
  await lb.idle();
  assert.equal(got[before], tag, 'a good message after the bad one is delivered');
  const received = r.received.length;
  assert.equal(ept.trySend(enc.encode(`${tag} back`)), 0);
  await lb.idle();
  assert.equal(dec.decode(r.received[received]?.payload), `${tag} back`);
}

/** The processor's crash report for a broken ring: fatal, found by virtio, naming the reason. */
function assertVirtioCrash(e: RprocEvents['crash'], reason: RegExp): void {
  assert.equal(e.typeName, 'fatal error');
  assert.equal(e.detail?.source, 'virtio');
  assert.match(e.detail.message, reason);
}

/** A fresh announcement from the remote after a restart, and traffic both ways again. */
async function worksAfterRestart(lb: Loopback<HostileRemote>): Promise<void> {
  const r2 = lb.c;
  r2.announce('svc', SVC);
  await lb.idle();
  const got: string[] = [];
  const ept2 = lb.host.channels[0]?.open((d) => got.push(dec.decode(d)));
  assert.ok(ept2 !== undefined);
  await stillWorks({ lb, r: r2, ept: ept2, got }, 'after restart');
  assert.equal(lb.device?.broken, undefined);
  await lb.close();
  assert.equal(lb.platform.pool.outstanding, 0);
}

/**
 * After a broken ring with recovery disabled: one 'error', one crash; sends fail with EIO naming
 * the reason until the remote is restarted by hand; more doorbells change nothing.
 */
async function brokenUntilRestart(rig: Rig, reason: RegExp, crash: RprocEvents['crash']): Promise<void> {
  const { lb, ept } = rig;
  assert.equal(lb.hostErrors.length, 1, `one 'error' event: ${lb.hostErrors.join('; ')}`);
  assert.match(lb.hostErrors[0] ?? '', reason);
  assertVirtioCrash(crash, reason);
  assert.equal(lb.rproc.state, 'crashed');
  assert.match(lb.device?.broken?.message ?? '', reason);
  assert.equal(ept.trySend(enc.encode('x')), -ERRNO.EIO);
  const e = await rejectsWith(ept.send(enc.encode('x')), 'EIO');
  assert.match(e.message, reason);
  assert.equal(ept.getTxBuffer(), undefined);
  // More doorbells on the broken queues change nothing.
  for (let i = 0; i < 100; i++) lb.rproc.vqInterrupt(i % 2);
  await lb.idle();
  assert.equal(lb.hostErrors.length, 1);
  assert.equal(lb.rproc.crash.count, 1);
  // The remote restarts: a fresh device, fresh rings, traffic again.
  await lb.rproc.shutdown();
  await lb.boot();
  await worksAfterRestart(lb);
}

describe('TC-V: virtio and vrings against a hostile remote', () => {
  it('TC-V01 interrupts with unknown notify ids are ignored (and their warnings rate-limited)', async () => {
    const rig = await setup();
    const { lb } = rig;
    for (const id of [2, 3, 99, 0x7fff_ffff, 0xffff_ffff, -1]) assert.equal(lb.rproc.vqInterrupt(id), false);
    for (let i = 0; i < 10_000; i++) rig.r.notify(1000 + i);
    await lb.idle();
    // Rate-limited per processor (10 per 5 s, as dev_warn_ratelimited).
    const warnings = lb.logs.filter((l) => l.includes('interrupt for unknown notify id'));
    assert.equal(warnings.length, 10);
    assert.match(warnings[0] ?? '', /unknown notify id 0x2$/);
    assert.equal(lb.virtio.unknownInterrupts, 10_006);
    await stillWorks(rig, 'after the storm');
    await lb.close();
  });

  it('TC-V02 interrupts before the virtqueues exist (at start, during probe) are ignored', async () => {
    const results: boolean[] = [];
    const lb: Loopback<RemoteCore> = new Loopback({
      core: (ctx) => {
        // The core runs (ops.start) before the virtio device is registered.
        results.push(lb.rproc.vqInterrupt(0), lb.rproc.vqInterrupt(1));
        ctx.notify(0);
        return passiveCore()(ctx);
      },
      wrapDriver: (driver) => ({
        ...driver,
        probe: (dev) => {
          results.push(lb.rproc.vqInterrupt(0), lb.rproc.vqInterrupt(1));
          return driver.probe(dev);
        },
      }),
    });
    await lb.boot();
    assert.deepEqual(results, [false, false, false, false]);
    assert.equal(lb.rproc.state, 'running');
    assert.ok(!lb.logs.some((l) => l.includes('unknown notify id')), 'known ids: not reported as unknown');
    await lb.close();
  });

  const v03: readonly {
    readonly what: string;
    readonly act: (rig: Rig) => void;
    readonly reason: RegExp;
  }[] = [
    {
      what: 'vring0 used.idx runs more than num ahead',
      act: ({ r }) => {
        r.bumpUsedIdx(0, 9);
        r.notify(0);
      },
      // The announcement used entry 0: used.idx 1 + 9.
      reason:
        /vdev0vring0: used\.idx 0xa runs 9 entries ahead of the last consumed 0x1, more than the ring's 8/,
    },
    {
      what: 'vring0 used.id ≥ num',
      act: ({ r }) => {
        r.take(0);
        r.pushUsed(0, 0x1234, 16);
        r.notify(0);
      },
      reason: /vdev0vring0: used ring entry 1 names descriptor 0x1234, but the ring has 8/,
    },
    {
      what: 'vring0 used.id of a buffer the host holds (not in flight)',
      act: ({ lb, r, ept }) => {
        // The host holds the buffer of the message it is given: the remote returns it again.
        ept.setCallback((_d, _s, ctx) => void ctx.hold());
        const heldHead = r.send(ept.addr, enc.encode('held'), { src: SVC, notify: false }) ?? -1;
        lb.rproc.vqInterrupt(0);
        r.pushUsed(0, heldHead, 16);
        r.notify(0);
      },
      reason:
        /vdev0vring0: used ring entry 2 names descriptor 0x\d, which is not the head of a buffer in flight/,
    },
    {
      what: 'vring1 used.id of a buffer never posted',
      act: ({ r, ept }) => {
        r.autoReturn = false;
        assert.equal(ept.trySend(enc.encode('a')), 0);
        r.pushUsed(1, 5, 0);
        r.notify(1);
      },
      reason:
        /vdev0vring1: used ring entry 0 names descriptor 0x5, which is not the head of a buffer in flight/,
    },
    {
      what: 'vring1 used.idx ahead of the buffers in flight',
      act: ({ r, ept }) => {
        r.autoReturn = false;
        assert.equal(ept.trySend(enc.encode('a')), 0);
        r.bumpUsedIdx(1, 3);
        r.notify(1);
      },
      reason:
        /vdev0vring1: used\.idx 0x3 runs 3 entries ahead of the last consumed 0x0, but only 1 buffers are in flight/,
    },
  ];
  for (const c of v03) {
    it(`TC-V03 ${c.what}: the queue breaks, 'error' names the value, the processor crashes (virtio); sends fail with EIO until a restart`, async () => {
      const rig = await setup({ num: 8 });
      rig.lb.rproc.crash.recoveryDisabled = true;
      const crash = rig.lb.rproc.next('crash');
      c.act(rig);
      await rig.lb.idle();
      await brokenUntilRestart(rig, c.reason, await crash);
    });
    it(`TC-V03 ${c.what}, recovery enabled: the processor crashes (virtio) and recovery brings it back`, async () => {
      const rig = await setup({ num: 8 });
      const crash = rig.lb.rproc.next('crash');
      const recovered = rig.lb.rproc.next('recovery', (e) => e.phase === 'done');
      c.act(rig);
      await rig.lb.idle();
      assertVirtioCrash(await crash, c.reason);
      await recovered;
      assert.equal(rig.lb.rproc.state, 'running');
      assert.ok(rig.ept.destroyed, 'the endpoint of the broken device is gone');
      await worksAfterRestart(rig.lb);
    });
  }

  it('TC-V03 a duplicated used entry whose head the host already re-posted is taken as a new message', async () => {
    // The driver cannot tell this from a legitimate reuse (Linux cannot either): the host survives,
    // the ring stays usable, the bytes in the buffer are delivered again.
    const rig = await setup({ num: 8 });
    const { lb, r, ept, got } = rig;
    const head = r.send(ept.addr, enc.encode('once'), { src: SVC });
    await lb.idle();
    assert.ok(head !== undefined);
    r.pushUsed(0, head, 20);
    r.notify(0);
    await lb.idle();
    assert.deepEqual(got, ['once', 'once']);
    assert.deepEqual(lb.hostErrors, []);
    await lb.close();
  });

  const configCases: readonly [number, number][] = [
    [0, 9],
    [8, 1],
    [7, 2],
    [-1, 1],
    [0, -1],
    [0xffff_ffff, 2],
    [Number.MAX_SAFE_INTEGER, 1],
    [1.5, 1],
    [Number.NaN, 1],
    [0, Number.POSITIVE_INFINITY],
  ];
  it('TC-V04 config get/set beyond config_len, negative, wrapping or not an integer: refused, nothing touched', async () => {
    const config = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const lb = await createLoopback({ core: hostileCore(), firmware: { config } });
    const vdev = lb.vdev;
    assert.ok(vdev !== undefined);
    const table = lb.c.ctx.table;
    const before = table.slice();
    for (const [offset, len] of configCases) {
      assert.equal(vdev.configGet(offset, len), undefined, `get(${offset}, ${len})`);
      if (!Number.isSafeInteger(len) || len < 0) continue; // a byte array always has a valid length
      assert.equal(vdev.configSet(offset, new Uint8Array(len).fill(0xee)), false, `set(${offset}, ${len})`);
    }
    assert.deepEqual(table, before, 'the table is untouched');
    assert.ok(
      lb.logs.some((l) =>
        l.includes('config read of 2 bytes at 0xffffffff is outside the 0x8-byte config space'),
      ),
    );
    assert.deepEqual(vdev.configGet(0, 8), config);
    assert.deepEqual(vdev.configGet(8, 0), new Uint8Array(0), 'an empty read at the end is fine');
    await lb.close();
  });

  it('TC-V05 every feature bit offered: only NS, INDIRECT_DESC and EVENT_IDX negotiated, 32 bits written back; a remote rewriting gfeatures changes nothing', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { dfeatures: 0xffff_ffff } });
    const want = (1 | (1 << VIRTIO_RING_F_INDIRECT_DESC) | (1 << VIRTIO_RING_F_EVENT_IDX)) >>> 0;
    assert.equal(Number(lb.vdev?.features), want);
    assert.equal(lb.c.device.features, want, 'the remote reads the same from gfeatures');
    // The remote scribbles over gfeatures: the host never reads it back.
    const table = lb.translate(lb.tableDa, lb.tableSize);
    assert.ok(table !== undefined);
    new DataView(table.buffer, table.byteOffset).setUint32(lb.c.device.location.bodyOffset + 12, 0, true);
    assert.equal(Number(lb.vdev?.features), want);
    const got: number[] = [];
    const ept = lb.host.channels[0]?.open((d) => got.push(d.length));
    await ept?.send(new Uint8Array(100));
    await lb.idle();
    assert.deepEqual(got, [100]);
    await lb.close();
  });

  it('TC-V06 status 0 → 1 → 3 → 7, 0 at stop, |0x80 on probe failure; a remote rewriting status is not believed', async () => {
    // The status byte as the firmware sees it at each step: when the core starts (before any
    // virtio device), when the driver is probed (ACKNOWLEDGE | DRIVER), and once it is up.
    const seen: number[] = [];
    let remote: HostileRemote | undefined;
    const watched = new Loopback({
      core: hostileCore((r) => {
        remote = r;
        seen.push(r.status);
      }),
      wrapDriver: (driver) => ({
        ...driver,
        probe: (dev) => {
          seen.push(remote?.status ?? -1);
          return driver.probe(dev);
        },
      }),
    });
    await watched.boot();
    seen.push(watched.c.status);
    assert.deepEqual(seen, [0, 3, 7]);
    await watched.close();
    // A device no driver claims stops at ACKNOWLEDGE.
    const unclaimed = new Loopback({
      core: hostileCore(),
      wrapDriver: (driver) => ({ ...driver, deviceIds: [] }),
    });
    await unclaimed.boot();
    assert.equal(unclaimed.c.status, 1);
    await unclaimed.close();
    // A probe that fails adds FAILED (0x80) to what was set; the processor keeps running.
    const refused = new Loopback({
      core: hostileCore(),
      wrapDriver: (driver) => ({
        ...driver,
        probe: () => {
          throw new Error('injected probe failure');
        },
      }),
    });
    await refused.boot();
    assert.equal(refused.c.status, 0x83);
    assert.equal(refused.rproc.state, 'running');
    await refused.close();

    const rig = await setup();
    const { lb, r } = rig;
    assert.equal(r.status, 7);
    for (const scribble of [0, 0x80, 0xff, 0x40]) {
      r.status = scribble;
      await stillWorks(rig, `status ${scribble}`);
    }
    await lb.rproc.shutdown();
    assert.equal(r.status, 0, 'reset written at stop whatever the remote left');
    await lb.close();
    const failing = await createLoopback({ core: passiveCore(), firmware: { vrings: 1 } });
    assert.equal(failing.rproc.state, 'running');
    assert.ok(failing.logs.some((l) => l.includes('probe failed')));
    await failing.close();
  });

  it('TC-V07 a fixed vring da inside the pool is honoured and written back; one outside fails the boot naming it', async () => {
    const ok = await createLoopback({ core: echoCore(), firmware: { vringDa: [0x9008_0000, 0x9009_0000] } });
    assert.equal(ok.rproc.resources.carveouts.findByName('vdev0vring0')?.buffer?.da, 0x9008_0000);
    const got: number[] = [];
    const ept = ok.host.channels[0]?.open((d) => got.push(d.length));
    await ept?.send(new Uint8Array(3));
    await ok.idle();
    assert.deepEqual(got, [3]);
    await ok.close();

    const bad = new Loopback({ core: passiveCore(), firmware: { vringDa: [0x1234_0000, undefined] } });
    const e = await rejectsWith(bad.rproc.boot(), 'ENOMEM');
    assert.match(e.message, /0x12340000/);
    assert.ok(bad.rproc.resources.idle);
    assert.equal(bad.platform.pool.outstanding, 0);
    await bad.close();
  });

  it('TC-V08 a vdev on a platform without a kick op is refused with EINVAL', async () => {
    const lb = new Loopback({ core: passiveCore(), withoutKick: true });
    const e = await rejectsWith(lb.rproc.boot(), 'EINVAL');
    assert.match(e.message, /\.kick method not defined/);
    assert.equal(lb.platform.pool.outstanding, 0);
    await lb.close();
  });
});

describe('TC-M: rpmsg against a hostile remote', () => {
  /** One malformed inbound message: dropped, counted, logged in hex, buffer recycled. */
  async function dropped(
    name: string,
    send: (rig: Rig) => void,
    log: RegExp,
    counter: 'rxMalformed' | 'rxNoRecipient' = 'rxMalformed',
  ): Promise<void> {
    const rig = await setup();
    const { lb, r, got } = rig;
    assert.equal(r.availCount(0), 256);
    send(rig);
    await lb.idle();
    assert.deepEqual(got, [], `${name}: nothing delivered`);
    assert.equal(lb.device?.stats[counter], 1);
    assert.ok(
      lb.logs.some((l) => log.test(l)),
      `${name}: logged as ${String(log)}:\n${lb.logs.join('\n')}`,
    );
    assert.equal(r.availCount(0), 256, `${name}: the buffer is back on the ring`);
    assert.deepEqual(lb.hostErrors, [], `${name}: the ring is not broken`);
    await stillWorks(rig, 'good');
    await lb.close();
  }

  it('TC-M01 used.len > 512: dropped ("inbound msg too big"), the buffer re-posted (Linux loses it)', async () => {
    await dropped(
      'used.len 0x1000',
      ({ r, ept }) => r.send(ept.addr, enc.encode('big'), { src: SVC, usedLen: 0x1000 }),
      /inbound msg too big: .*reports 0x1000 bytes written into chain 0x\d, whose device-writable length is 0x200/,
    );
  });

  it('TC-M02 hdr.len > used.len − 16: dropped', async () => {
    await dropped(
      'hdr.len 0x20 in 0x18',
      ({ r, ept }) => r.send(ept.addr, enc.encode('12345678'), { src: SVC, hdrLen: 0x20, usedLen: 0x18 }),
      /inbound msg too big: hdr\.len 0x20 in a 0x18-byte buffer/,
    );
  });

  it('TC-M03 used.len < 16 with hdr.len 0xffff (Linux lets it through): dropped', async () => {
    await dropped(
      'used.len 4',
      ({ r, ept }) => r.send(ept.addr, new Uint8Array(0), { src: SVC, hdrLen: 0xffff, usedLen: 4 }),
      /inbound message of 0x4 bytes \(used\.len\) is shorter than its 0x10-byte header/,
    );
  });

  it('TC-M04 a message to an address nobody listens on: dropped, buffer recycled, warning rate-limited', async () => {
    await dropped(
      'dst 0x1234',
      ({ r }) => r.send(0x1234, enc.encode('lost'), { src: SVC }),
      /msg received with no recipient: dst 0x1234 from 0x400/,
      'rxNoRecipient',
    );
    const rig = await setup({ num: 8 });
    for (let i = 0; i < 200; i++) {
      rig.r.send(0x5000 + i, enc.encode('flood'), { src: SVC });
      await rig.lb.idle();
    }
    assert.equal(rig.lb.device?.stats.rxNoRecipient, 200);
    assert.equal(rig.lb.logs.filter((l) => l.includes('no recipient')).length, 10);
    await stillWorks(rig, 'after the flood');
    await rig.lb.close();
  });

  it('TC-M05 NS messages of a length other than 40: "malformed ns msg", dropped', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    for (const len of [0, 16, 39, 41, 496]) r.announce('', 0x500, 0, new Uint8Array(len).fill(0x41));
    await lb.idle();
    assert.equal(lb.host.channels.length, 1);
    assert.equal(lb.device?.stats.nsMalformed, 5);
    assert.ok(lb.logs.some((l) => l.includes('malformed ns msg (0x1f0 bytes from 0x500, expected 0x28)')));
    assert.equal(r.availCount(0), 256);
    await stillWorks(rig, 'after bad NS');
    await lb.close();
  });

  it('TC-M06 an NS name with no NUL in 32 bytes is read as 31 characters; odd bytes are escaped', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    const raw = encodeNsMsg({ name: '', addr: 0x500, flags: 0 });
    raw.fill(0x7a, 0, 32);
    r.announce('', 0x500, 0, raw);
    const odd = encodeNsMsg({ name: '', addr: 0x501, flags: 0 });
    odd.set([0x61, 0x01, 0xff, 0x62], 0);
    r.announce('', 0x501, 0, odd);
    await lb.idle();
    assert.deepEqual(
      lb.host.channels.map((c) => c.name),
      ['svc', 'z'.repeat(31), 'a\\x01\\xffb'],
    );
    await lb.close();
  });

  it('TC-M07 NS CREATE of an existing {name, addr} is refused; NS DESTROY of an unknown channel only logs', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    r.announce('svc', SVC);
    r.announce('nope', 0x999, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.equal(lb.host.channels.length, 1);
    assert.equal(lb.device?.stats.nsRefused, 2);
    assert.ok(lb.logs.some((l) => l.includes('channel svc:0x400 already exist')));
    assert.ok(lb.logs.some((l) => l.includes('no channel "nope" at 0x999')));
    await stillWorks(rig, 'still bound');
    await lb.close();
  });

  it('TC-M08 NS flags with other bits set: only bit 0 counts', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    r.announce('odd', 0x500, 0xffff_fffe);
    await lb.idle();
    assert.ok(lb.host.channels.some((c) => c.name === 'odd'));
    r.announce('odd', 0x500, 0xffff_ffff);
    await lb.idle();
    assert.ok(!lb.host.channels.some((c) => c.name === 'odd'));
    await lb.close();
  });

  it('TC-M08 NS messages naming an impossible channel (addr ANY or 53, empty name) are refused', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    r.announce('any', RPMSG_ADDR_ANY);
    r.announce('ns', RPMSG_NS_ADDR);
    r.announce('', 0x500);
    await lb.idle();
    assert.equal(lb.host.channels.length, 1);
    assert.equal(lb.device?.stats.nsMalformed, 3);
    assert.ok(lb.logs.some((l) => l.includes('impossible channel "any" at 0xffffffff')));
    await lb.close();
  });

  it('TC-M09 an NS message when VIRTIO_RPMSG_F_NS was not negotiated goes nowhere ("no recipient")', async () => {
    const lb = await createLoopback({ core: hostileCore(), firmware: { dfeatures: 0 } });
    lb.c.announce('svc', SVC);
    await lb.idle();
    assert.equal(lb.host.channels.length, 0);
    assert.equal(lb.device?.stats.rxNoRecipient, 1);
    assert.ok(lb.logs.some((l) => l.includes('no recipient: dst 0x35')));
    assert.equal(lb.c.availCount(0), 256);
    await lb.close();
  });

  it('TC-M10 host sends: dst ANY → EINVAL, 497 bytes → EMSGSIZE, 496 → sent', async () => {
    const rig = await setup();
    const { lb, r, ept } = rig;
    await rejectsWith(ept.sendTo(RPMSG_ADDR_ANY, new Uint8Array(1)), 'EINVAL');
    await rejectsWith(ept.send(new Uint8Array(497)), 'EMSGSIZE');
    assert.equal(ept.trySendTo(RPMSG_ADDR_ANY, new Uint8Array(1)), -ERRNO.EINVAL);
    assert.equal(ept.trySend(new Uint8Array(497)), -ERRNO.EMSGSIZE);
    await ept.send(new Uint8Array(496).fill(9));
    await lb.idle();
    assert.deepEqual(
      r.received.map((m) => [m.hdr.src, m.hdr.dst, m.hdr.len, m.payload.length]),
      [[ept.addr, SVC, 496, 496]],
    );
    await lb.close();
  });

  it('TC-M11 a remote that never returns TX buffers: trySend ENOMEM, send ETIMEDOUT, stream writes fail; a restart frees them', async () => {
    const rig = await setup({ num: 8 });
    const { lb, r, ept } = rig;
    r.autoReturn = false; // takes nothing, returns nothing
    let sent = 0;
    while (ept.trySend(enc.encode(`m${sent}`)) === 0) sent++;
    assert.equal(sent, 8);
    assert.equal(ept.trySend(enc.encode('more')), -ERRNO.ENOMEM);
    const e = await rejectsWith(ept.send(enc.encode('more'), { timeoutMs: 20 }), 'ETIMEDOUT');
    assert.match(e.message, /no TX buffer came back within 20 ms/);
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    // The stream (rpmsg_char's write) reports the same instead of hanging.
    ept.setCallback(undefined);
    const stream = endpointStream(ch, { sendTimeoutMs: 20 });
    const err = await new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.write('blocked');
    });
    assert.ok(isRprocError(err, 'ETIMEDOUT'));
    // The remote restarts (crash and recovery): a fresh pool.
    const recovered = lb.rproc.next('recovery', (ev) => ev.phase === 'done');
    lb.crash();
    await recovered;
    lb.c.announce('svc', SVC);
    await lb.idle();
    const fresh = lb.host.channels[0]?.open();
    assert.equal(fresh?.trySend(enc.encode('again')), 0);
    await lb.close();
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
  });

  const sizing: readonly [string, RpmsgFirmwareOptions, number, number][] = [
    ['RX vring of 8', { num: 8 }, 8, 8],
    ['RX vring of 512', { num: 512 }, 256, 256],
    ['RX 16, TX 64 (sizes differ: warn only)', { rxNum: 16, txNum: 64 }, 16, 16],
  ];
  for (const [what, firmware, rx, tx] of sizing) {
    it(`TC-M12 ${what}: ${rx} RX + ${tx} TX buffers`, async () => {
      const rig = await setup(firmware);
      const { lb, r, ept } = rig;
      assert.equal(r.availCount(0), rx);
      r.autoReturn = false;
      let sent = 0;
      while (ept.trySend(new Uint8Array(1)) === 0) sent++;
      assert.equal(sent, tx);
      assert.equal(
        lb.logs.some((l) => l.includes('vrings differ in size')),
        firmware.rxNum !== firmware.txNum,
      );
      await lb.close();
    });
  }

  it('TC-M13 an endpoint at a fixed address already in use is refused (EBUSY)', async () => {
    const rig = await setup();
    const dev = rig.lb.device;
    assert.ok(dev !== undefined);
    assert.throws(
      () => dev.createEndpoint(undefined, rig.ept.addr),
      (e) => isRprocError(e, 'EBUSY'),
    );
    assert.throws(
      () => dev.createEndpoint(undefined, RPMSG_NS_ADDR),
      (e) => isRprocError(e, 'EBUSY'),
    );
    await rig.lb.close();
  });

  it('TC-M14 the channel goes away under a blocked reader: EPIPE to the reader, later writes EPIPE, close works', async () => {
    for (const how of ['ns-destroy', 'stop'] as const) {
      const rig = await setup();
      const { lb, r } = rig;
      const ch = lb.host.channels[0];
      assert.ok(ch !== undefined);
      rig.ept.setCallback(undefined);
      const stream = endpointStream(ch);
      const reader = stream[Symbol.asyncIterator]();
      const blocked = reader.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (how === 'ns-destroy') r.announce('svc', SVC, RPMSG_NS_DESTROY);
      else await lb.rproc.shutdown();
      await lb.idle();
      assert.ok(isRprocError(await blocked, 'EPIPE'), how);
      await rejectsWith(rig.ept.send(enc.encode('late')), 'EPIPE');
      // Closing the stream still works: it closes, with no error beyond the EPIPE already given.
      const errors: unknown[] = [];
      stream.on('error', (e) => errors.push(e));
      const closed = stream.closed ? Promise.resolve() : once(stream, 'close');
      stream.destroy();
      await closed;
      assert.ok(stream.closed && stream.destroyed, how);
      assert.ok(
        errors.every((e) => isRprocError(e, 'EPIPE')),
        `${how}: ${errors.map(String).join('; ')}`,
      );
      await lb.close();
    }
  });

  it('TC-M15 a read returns one whole message (object stream: never truncated, never merged)', async () => {
    const rig = await setup();
    const { lb, r, ept } = rig;
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    ept.setCallback(undefined);
    const stream = endpointStream(ch);
    r.send(ept.addr, new Uint8Array(496).fill(1), { src: SVC });
    r.send(ept.addr, new Uint8Array(3).fill(2), { src: SVC });
    await lb.idle();
    const [a, b] = (await stream.take(2).toArray()) as Buffer[];
    assert.deepEqual([a?.length, b?.length], [496, 3]);
    await lb.close();
  });

  it('TC-M16 a second stream on the same endpoint is refused (EBUSY) until the first closes', async () => {
    const rig = await setup();
    const ch = rig.lb.host.channels[0];
    assert.ok(ch !== undefined);
    const first = endpointStream(ch);
    assert.throws(
      () => endpointStream(ch),
      (e) => isRprocError(e, 'EBUSY'),
    );
    first.destroy();
    await new Promise<void>((resolve) => first.on('close', resolve));
    endpointStream(ch).destroy();
    await rig.lb.close();
  });

  it('TC-M17 names of 32 bytes: a host announcement refuses them (EINVAL), a remote one is cut to 31', async () => {
    const rig = await setup();
    const dev = rig.lb.device;
    assert.ok(dev !== undefined);
    assert.throws(
      () => dev.announce('x'.repeat(32), rig.ept),
      (e) => isRprocError(e, 'EINVAL'),
    );
    assert.equal(dev.announce('x'.repeat(31), rig.ept), 0);
    // The remote's name-service message fills all 32 bytes of the name, no NUL.
    const raw = encodeNsMsg({ name: '', addr: 0x401, flags: 0 });
    raw.fill(0x79, 0, 32);
    rig.r.announce('', 0x401, 0, raw);
    await rig.lb.idle();
    assert.deepEqual(
      rig.lb.host.channels.map((c) => c.name),
      ['svc', 'y'.repeat(31)],
    );
    await rig.lb.close();
  });

  it('TC-M18 a zero-length message is delivered as such; writes above the MTU fail (EMSGSIZE), never split', async () => {
    const rig = await setup();
    const { lb, r, ept } = rig;
    const lens: number[] = [];
    ept.setCallback((d) => lens.push(d.length));
    r.send(ept.addr, new Uint8Array(0), { src: SVC });
    await lb.idle();
    assert.deepEqual(lens, [0]);
    ept.setCallback(undefined);
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    const stream = endpointStream(ch);
    const err = await new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.write(new Uint8Array(1000));
    });
    assert.ok(isRprocError(err, 'EMSGSIZE'));
    assert.equal(r.received.length, 0);
    await lb.close();
  });
});

describe('other things a remote can write', () => {
  it('interrupts with nothing used are ignored quietly', async () => {
    const rig = await setup();
    const { lb } = rig;
    for (let i = 0; i < 1000; i++) {
      assert.equal(lb.rproc.vqInterrupt(0), false);
      assert.equal(lb.rproc.vqInterrupt(1), false);
    }
    assert.ok(!lb.logs.some((l) => l.includes('notify id')));
    await stillWorks(rig, 'after quiet interrupts');
    await lb.close();
  });

  it('the live table rewritten (gfeatures, config_len, num_of_vrings, vring da and notifyid): the host goes on', async () => {
    const rig = await setup();
    const { lb, r } = rig;
    // (This remote keeps the ring addresses and notify ids it read at DRIVER_OK, as OpenAMP does.)
    r.gfeatures = 0xffff_ffff;
    r.configLen = 0xffff_ffff;
    r.numOfVrings = 0xff;
    const dv = new DataView(r.ctx.table.buffer, r.ctx.table.byteOffset, r.ctx.table.byteLength);
    for (let i = 0; i < 2; i++) {
      const o = r.loc.bodyOffset + 24 + 20 * i;
      dv.setUint32(o, 0xdead_beef, true); // da
      dv.setUint32(o + 12, 0x77, true); // notifyid
    }
    await stillWorks(rig, 'tampered table');
    assert.equal(lb.vdev?.configGet(0, 1), undefined, 'config_len 0 as parsed');
    await lb.rproc.shutdown();
    assert.equal(r.status, 0);
    await lb.close();
  });

  it('descriptors, avail slots and flags the remote scribbles over are never read back by the host', async () => {
    const rig = await setup({ num: 8 });
    const { lb, r, ept } = rig;
    const tx = r.ring(1);
    // Loops, huge lengths, wild addresses, INDIRECT|NEXT|WRITE, in every free descriptor of the
    // host's TX ring and every avail slot; garbage in avail.flags and used_event too.
    for (let d = 0; d < 8; d++)
      tx.setDesc(d, { addr: 0xdead_beef_0000n, len: 0xffff_ffff, flags: 7, next: d });
    for (let slot = 0; slot < 8; slot++) tx.setAvailRing(slot, 0xffff);
    tx.availFlags = 0xffff;
    tx.usedEvent = 0x1234;
    r.ring(0).usedEvent = 0x4321;
    for (let i = 0; i < 24; i++) {
      await ept.send(enc.encode(`m${i}`));
      await lb.idle();
    }
    assert.deepEqual(
      r.received.map((m) => dec.decode(m.payload)),
      Array.from({ length: 24 }, (_, i) => `m${i}`),
      'every descriptor the remote read was the one the host wrote when posting',
    );
    assert.deepEqual(lb.hostErrors, []);
    await stillWorks(rig, 'after scribbles');
    await lb.close();
  });

  it('an RX flood of 20 000 messages: all delivered in order, nothing grows', async () => {
    const rig = await setup({ num: 64 });
    const { lb, r, ept } = rig;
    let n = 0;
    let bad = 0;
    ept.setCallback((d) => {
      if (d.length !== 4 || new DataView(d.buffer, d.byteOffset).getUint32(0, true) !== n) bad++;
      n++;
    });
    const m = new Uint8Array(4);
    for (let i = 0; i < 20_000; i++) {
      new DataView(m.buffer).setUint32(0, i, true);
      if (r.send(ept.addr, m, { src: SVC, notify: i % 16 === 15 }) === undefined) {
        await lb.idle();
        i--;
      }
    }
    r.notify(0);
    await lb.idle();
    assert.deepEqual([n, bad], [20_000, 0]);
    assert.equal(lb.device?.stats.rx, 20_001, 'and the NS announcement');
    assert.equal(r.availCount(0), 64);
    await lb.close();
  });

  it('property: whatever a remote writes into rings, buffers and the table, the host neither throws nor leaks, and a restart heals it', async () => {
    const action = fc.oneof(
      fc.record({
        kind: fc.constant('send' as const),
        dst: fc.oneof(fc.constant(-1), fc.constant(RPMSG_NS_ADDR), fc.nat()),
        src: fc.nat(),
        size: fc.nat({ max: 600 }),
        hdrLen: fc.option(fc.nat({ max: 0xffff })),
        usedLen: fc.option(fc.oneof(fc.nat({ max: 0x300 }), fc.nat())),
        id: fc.option(fc.nat({ max: 40 })),
      }),
      fc.record({
        kind: fc.constant('used' as const),
        ring: fc.constantFrom(0, 1),
        id: fc.nat(),
        len: fc.nat(),
      }),
      fc.record({
        kind: fc.constant('bump' as const),
        ring: fc.constantFrom(0, 1),
        delta: fc.integer({ min: -3, max: 40 }),
      }),
      fc.record({ kind: fc.constant('notify' as const), id: fc.oneof(fc.constantFrom(0, 1), fc.nat()) }),
      fc.record({ kind: fc.constant('status' as const), value: fc.nat({ max: 0xff }) }),
      fc.record({ kind: fc.constant('hostSend' as const), size: fc.nat({ max: 496 }) }),
      fc.record({ kind: fc.constant('returnTx' as const) }),
    );
    const rig = await setup({ num: 16 });
    const { lb } = rig;
    // A broken ring crashes the processor; without recovery it stays crashed for the checks below.
    lb.rproc.crash.recoveryDisabled = true;
    await checkAsyncProperty(
      'rpmsg-host-hostile-remote',
      fc.asyncProperty(fc.array(action, { maxLength: 30 }), async (actions) => {
        await lb.rproc.shutdown();
        await lb.boot();
        const r = lb.c;
        r.autoReturn = false;
        r.announce('svc', SVC);
        await lb.idle();
        const ept = lb.host.channels[0]?.open(() => undefined);
        assert.ok(ept !== undefined);
        const errorsBefore = lb.hostErrors.length;
        const crashesBefore = lb.rproc.crash.count;
        for (const a of actions) {
          switch (a.kind) {
            case 'send': {
              const payload = new Uint8Array(a.size).fill(0x5a);
              const dst = a.dst === -1 ? ept.addr : a.dst;
              r.send(dst, payload, {
                src: a.src,
                ...(a.hdrLen === null ? {} : { hdrLen: a.hdrLen }),
                ...(a.usedLen === null ? {} : { usedLen: a.usedLen }),
                ...(a.id === null ? {} : { id: a.id }),
              });
              break;
            }
            case 'used':
              r.pushUsed(a.ring, a.id, a.len);
              r.notify(r.notifyId(a.ring));
              break;
            case 'bump':
              r.bumpUsedIdx(a.ring, a.delta);
              r.notify(r.notifyId(a.ring));
              break;
            case 'notify':
              r.notify(a.id);
              break;
            case 'status':
              r.status = a.value;
              break;
            case 'hostSend': {
              const rc = ept.trySend(new Uint8Array(a.size));
              assert.ok([0, -ERRNO.ENOMEM, -ERRNO.EIO].includes(rc), `trySend → ${rc}`);
              break;
            }
            case 'returnTx':
              for (let m = r.takeTx(); m !== undefined; m = r.takeTx()) r.returnTx(m.head, 0, false);
              r.notify(r.notifyId(1));
              break;
          }
          await lb.idle();
        }
        // A broken device said so once, naming the bad value in hex.
        const errors = lb.hostErrors.slice(errorsBefore);
        assert.ok(errors.length <= 1);
        if (lb.device?.broken !== undefined) {
          assert.equal(errors.length, 1);
          assert.match(errors[0] ?? '', /0x[0-9a-f]+/);
          // ... and crashed the processor, once.
          assert.equal(lb.rproc.state, 'crashed');
          assert.equal(lb.rproc.crash.count, crashesBefore + 1);
        } else {
          assert.equal(lb.rproc.crash.count, crashesBefore, 'no crash without a broken ring');
        }
      }),
      { numRuns: 60 },
    );
    // Healed by a restart, and nothing left allocated beyond one running device.
    await lb.rproc.shutdown();
    assert.equal(lb.platform.pool.outstanding, 0);
    await lb.boot();
    const r = lb.c;
    r.announce('svc', SVC);
    await lb.idle();
    const got: string[] = [];
    const ept = lb.host.channels[0]?.open((d) => got.push(dec.decode(d)));
    assert.ok(ept !== undefined);
    await stillWorks({ lb, r, ept, got }, 'healed');
    await lb.close();
  });
});
