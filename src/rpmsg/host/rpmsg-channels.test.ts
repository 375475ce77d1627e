// Name service and channels on the host: NS CREATE → a 'channel' add event, duplicates refused,
// NS DESTROY → removal with the default endpoint's streams ending in EPIPE, NUL-less names cut at
// 31 characters, malformed NS messages counted, drivers bound by name (probe/remove), and the
// endpoint address space: dynamic from 1024, fixed addresses, 53 for the name service.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY, RPMSG_NS_DESTROY, encodeNsMsg } from '../rpmsg-wire.ts';
import { createLoopback, echoCore, rpmsgCore, echoEndpoint } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { endpointStream } from './endpoint-stream.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RpmsgHostEvents } from './rpmsg-host.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('name service and channels', () => {
  it('NS CREATE → a channel add event with name and dst; Linux-style device names', async () => {
    const events: RpmsgHostEvents['channel'][] = [];
    const lb = await createLoopback({ core: echoCore('rpmsg-echo', 'rpmsg-raw') }, false);
    lb.host.on('channel', (e) => events.push(e));
    const devices: string[] = [];
    lb.host.on('device', (e) => devices.push(`${e.action} ${e.device.deviceName}`));
    await lb.boot();
    assert.deepEqual(devices, ['add virtio0']);
    assert.deepEqual(
      events.map((e) => [e.action, e.channel.name, e.channel.dst, e.device.deviceName]),
      [
        ['add', 'rpmsg-echo', 0x400, 'virtio0'],
        ['add', 'rpmsg-raw', 0x401, 'virtio0'],
      ],
    );
    const [echo, raw] = lb.host.channels;
    assert.ok(echo !== undefined && raw !== undefined);
    assert.equal(echo.deviceName, 'virtio0.rpmsg-echo.-1.1024');
    assert.equal(echo.ept, undefined, 'no endpoint until opened or bound');
    const ept = echo.open();
    assert.equal(ept.addr, 1024);
    assert.equal(echo.deviceName, 'virtio0.rpmsg-echo.1024.1024');
    assert.equal(raw.open().addr, 1025);
    assert.equal(echo.open(), ept, 'open again: the same endpoint');
    assert.equal(await lb.host.waitForChannel('rpmsg-raw', { rproc: lb.rproc }), raw);
    await lb.close();
  });

  it('waitForChannel waits for the announcement, and a timed-out wait leaves no listener or timer', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const waiting = lb.host.waitForChannel('late', { rproc: lb.rproc, timeoutMs: 1000 });
    lb.c.announce('late', 0x500);
    await lb.idle();
    assert.equal((await waiting).dst, 0x500);
    // TypedEmitter keeps its EventEmitter private: look at it the way a heap snapshot would.
    const listeners = (): number =>
      (lb.host as unknown as { emitter: { listenerCount(e: string): number } }).emitter.listenerCount(
        'channel',
      );
    const before = listeners();
    await assert.rejects(lb.host.waitForChannel('never', { anyDevice: true, timeoutMs: 5 }), (e) =>
      isRprocError(e, 'ETIMEDOUT'),
    );
    assert.equal(listeners(), before);
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
    await lb.close();
  });

  it('a duplicate NS CREATE (same name and address) is refused; another address is another channel', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const r = lb.c;
    r.announce('svc', 0x400);
    r.announce('svc', 0x400);
    r.announce('svc', 0x401);
    await lb.idle();
    assert.deepEqual(
      lb.host.channels.map((c) => [c.name, c.dst]),
      [
        ['svc', 0x400],
        ['svc', 0x401],
      ],
    );
    assert.equal(lb.device?.stats.nsRefused, 1);
    assert.ok(lb.logs.some((l) => l.includes('channel svc:0x400 already exist')));
    await lb.close();
  });

  it('NS DESTROY removes the channel: event, endpoint destroyed, stream ends with EPIPE, sends fail', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const r = lb.c;
    r.announce('rpmsg-raw', 0x400);
    await lb.idle();
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    const stream = endpointStream(ch);
    const ept = ch.ept;
    assert.ok(ept !== undefined);
    const got: string[] = [];
    // Settled into a value at once: the rejection comes while the test awaits something else.
    const reading = (async () => {
      for await (const m of stream) got.push(dec.decode(m as Uint8Array));
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    r.send(ept.addr, enc.encode('before'), { src: 0x400 });
    await lb.idle();
    const removed: RpmsgChannel[] = [];
    lb.host.on('channel', (e) => {
      if (e.action === 'remove') removed.push(e.channel);
    });
    r.announce('rpmsg-raw', 0x400, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.deepEqual(removed, [ch]);
    assert.ok(ch.removed);
    assert.equal(lb.host.channels.length, 0);
    assert.ok(ept.destroyed);
    const ended = await reading;
    assert.ok(
      isRprocError(ended, 'EPIPE') && /destroyed channel "rpmsg-raw"/.test(ended.message),
      String(ended),
    );
    assert.deepEqual(got, ['before']);
    await assert.rejects(ept.send(enc.encode('x')), (e) => isRprocError(e, 'EPIPE'));
    assert.equal(ept.trySend(enc.encode('x')), -32);
    assert.throws(
      () => ch.open(),
      (e) => isRprocError(e, 'EPIPE'),
    );
    // The address is free again for the next channel of that name.
    r.announce('rpmsg-raw', 0x400);
    await lb.idle();
    assert.equal(lb.host.channels[0]?.open().addr, 1024);
    await lb.close();
  });

  it('NS DESTROY of an unknown channel only logs and counts', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    lb.c.announce('svc', 0x400);
    lb.c.announce('svc', 0x401, RPMSG_NS_DESTROY);
    lb.c.announce('other', 0x400, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.equal(lb.host.channels.length, 1);
    assert.equal(lb.device?.stats.nsRefused, 2);
    assert.ok(lb.logs.some((l) => l.includes('no channel "svc" at 0x401')));
    await lb.close();
  });

  it('a name without NUL in its 32 bytes is cut to 31 characters', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const raw = encodeNsMsg({ name: '', addr: 0x400, flags: 0 });
    raw.fill(0x61, 0, 32); // 32 × 'a', no NUL
    lb.c.announce('', 0x400, 0, raw);
    await lb.idle();
    assert.deepEqual(
      lb.host.channels.map((c) => c.name),
      ['a'.repeat(31)],
    );
    await lb.close();
  });

  const badLengths = [0, 1, 39, 41, 56, 496];
  for (const len of badLengths) {
    it(`an NS message of ${len} bytes (≠ 40) is dropped and counted`, async () => {
      const lb = await createLoopback({ core: hostileCore() });
      const raw = new Uint8Array(len);
      raw.set(encodeNsMsg({ name: 'svc', addr: 0x400, flags: 0 }).subarray(0, len));
      lb.c.announce('', 0x400, 0, raw);
      lb.c.announce('good', 0x401);
      await lb.idle();
      assert.deepEqual(
        lb.host.channels.map((c) => c.name),
        ['good'],
      );
      assert.equal(lb.device?.stats.nsMalformed, 1);
      assert.ok(lb.logs.some((l) => l.includes(`malformed ns msg (0x${len.toString(16)} bytes from 0x400`)));
      await lb.close();
    });
  }

  it('drivers are matched by name: probe with the default endpoint, callback, remove', async () => {
    const calls: string[] = [];
    const lb = await createLoopback({ core: echoCore('rpmsg-echo', 'other') }, false);
    lb.host.registerDriver({
      names: ['rpmsg-echo'],
      probe: (ch) => {
        calls.push(`probe ${ch.name} ept ${ch.ept?.addr ?? 'none'}`);
        void ch.ept?.send(enc.encode('hello'));
      },
      remove: (ch) => {
        calls.push(`remove ${ch.name}`);
      },
      callback: (ch, data, src) => calls.push(`rx ${ch.name} ${dec.decode(data)} from ${src}`),
    });
    await lb.boot();
    await lb.idle();
    assert.deepEqual(calls, ['probe rpmsg-echo ept 1024', 'rx rpmsg-echo hello from 1024']);
    assert.equal(lb.host.channels.find((c) => c.name === 'other')?.ept, undefined, 'no driver: unbound');
    // A driver registered later binds the channels already there.
    lb.host.registerDriver({ names: ['other'], probe: (ch) => void calls.push(`probe ${ch.name}`) });
    await lb.idle();
    assert.equal(calls.at(-1), 'probe other');
    await lb.rproc.shutdown();
    assert.ok(calls.includes('remove rpmsg-echo'));
    await lb.close();
  });

  it('a driver whose probe throws leaves the channel unbound (its endpoint destroyed)', async () => {
    const lb = await createLoopback({ core: echoCore() }, false);
    lb.host.registerDriver({
      names: ['rpmsg-echo'],
      probe: () => {
        throw new Error('no thanks');
      },
    });
    await lb.boot();
    const ch = lb.host.channels[0];
    assert.ok(ch?.ept?.destroyed);
    // The channel can still be opened by hand: a fresh endpoint.
    assert.equal(ch.open().destroyed, false);
    await lb.close();
  });

  it('endpoint addresses: dynamic from 1024 around fixed ones, fixed ones exclusive, 53 taken by NS', async () => {
    const lb = await createLoopback({ core: echoCore() });
    const dev = lb.device;
    assert.ok(dev !== undefined);
    const fixed = dev.createEndpoint(undefined, 1024);
    assert.equal(fixed.addr, 1024);
    assert.equal(dev.createEndpoint(undefined).addr, 1025);
    assert.equal(dev.createEndpoint(undefined, RPMSG_ADDR_ANY).addr, 1026);
    assert.equal(dev.createEndpoint(undefined, 7).addr, 7, 'reserved range, but fixed addresses are allowed');
    for (const taken of [1024, 7, 53]) {
      assert.throws(
        () => dev.createEndpoint(undefined, taken),
        (e) => isRprocError(e, 'EBUSY') && e.message.includes(`address ${taken} is already taken`),
      );
    }
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(
        () => dev.createEndpoint(undefined, bad),
        (e) => isRprocError(e, 'EINVAL'),
      );
    }
    fixed.destroy();
    assert.equal(dev.createEndpoint(undefined).addr, 1024, 'freed addresses are reused');
    await lb.close();
  });

  it('without VIRTIO_RPMSG_F_NS there is no name service: 53 is an ordinary address', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { dfeatures: 0 } });
    assert.equal(lb.host.channels.length, 0);
    const dev = lb.device;
    assert.ok(dev !== undefined);
    assert.equal(dev.createEndpoint(undefined, 53).addr, 53);
    assert.equal(dev.announce('x', dev.createEndpoint(undefined)), -95);
    await lb.close();
  });

  it('host announcements reach the remote name service (NS CREATE from the endpoint to 53)', async () => {
    const bound: string[] = [];
    const lb = await createLoopback({
      core: rpmsgCore(() => undefined, {
        onNsBind: (name, addr) => bound.push(`${name}@${addr}`),
        onNsUnbind: (name) => bound.push(`-${name}`),
      }),
    });
    const dev = lb.device;
    assert.ok(dev !== undefined);
    const ept = dev.createEndpoint(undefined, 0x800);
    assert.equal(dev.announce('host-svc', ept), 0);
    await lb.idle();
    assert.deepEqual(bound, ['host-svc@2048']);
    assert.equal(dev.announce('host-svc', ept, true), 0);
    await lb.idle();
    assert.deepEqual(bound, ['host-svc@2048', '-host-svc']);
    assert.throws(
      () => dev.announce('n'.repeat(32), ept),
      (e) => isRprocError(e, 'EINVAL'),
    );
    await lb.close();
  });

  it('a remote endpoint created after boot is announced and bound on the fly', async () => {
    const lb = await createLoopback({ core: echoCore() });
    const remote = lb.c;
    echoEndpoint(remote, 'late');
    remote.service();
    await lb.idle();
    assert.deepEqual(
      lb.host.channels.map((c) => c.name),
      ['rpmsg-echo', 'late'],
    );
    await lb.close();
  });

  it('every lookup says where: no scope, a number or a malformed scope is refused with EINVAL', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const bad: readonly unknown[] = [undefined, 1000, {}, { rproc: 5 }, { anyDevice: false }, { device: {} }];
    for (const scope of bad) {
      const e = await lb.host
        .waitForChannel('svc', scope as Parameters<typeof lb.host.waitForChannel>[1])
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      assert.ok(isRprocError(e, 'EINVAL'), `${String(scope)}: ${String(e)}`);
      assert.match((e as Error).message, /\{ rproc: <name> \}, \{ device \} or \{ anyDevice: true \}/);
    }
    await lb.close();
  });

  it('a scoped lookup sees only its processor or device; { anyDevice: true } sees any', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    lb.c.announce('svc', 0x400);
    await lb.idle();
    const dev = lb.device;
    assert.ok(dev !== undefined);
    const ch = dev.channel('svc');
    assert.ok(ch !== undefined);
    assert.equal(lb.host.channel('svc', { rproc: lb.rproc }), ch);
    assert.equal(lb.host.channel('svc', { rproc: lb.rproc.name }), ch);
    assert.equal(lb.host.channel('svc', { device: dev }), ch);
    assert.equal(lb.host.channel('svc', { anyDevice: true }), ch);
    assert.equal(lb.host.channel('svc', { rproc: 'another-core' }), undefined);
    const e = await lb.host.waitForChannel('svc', { rproc: 'another-core', timeoutMs: 5 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(isRprocError(e, 'ETIMEDOUT'));
    assert.match((e as Error).message, /no channel "svc" announced by another-core within 5 ms/);
    assert.deepEqual(lb.host.devicesOf(lb.rproc), [dev]);
    await lb.close();
  });

  it('at most maxChannelsPerDevice channels: further NS CREATEs are refused, counted, warned about (rate-limited)', async () => {
    const lb = await createLoopback({ core: hostileCore(), host: { maxChannelsPerDevice: 3 } });
    const r = lb.c;
    for (let i = 0; i < 30; i++) r.announce(`svc${i}`, 0x400 + i);
    await lb.idle();
    const dev = lb.device;
    assert.ok(dev !== undefined);
    assert.deepEqual(
      dev.channelList.map((c) => c.name),
      ['svc0', 'svc1', 'svc2'],
    );
    assert.equal(dev.stats.nsOverLimit, 27);
    const warnings = lb.logs.filter((l) => /refused: the device has 3 channels, its limit/.test(l));
    assert.equal(warnings.length, 10, 'the first 10 in 5 s');
    // The last valid one (the 3rd) was accepted above; after a DESTROY there is room again.
    r.announce('svc0', 0x400, RPMSG_NS_DESTROY);
    r.announce('svc3', 0x403);
    await lb.idle();
    assert.deepEqual(
      dev.channelList.map((c) => c.name),
      ['svc1', 'svc2', 'svc3'],
    );
    await lb.close();
  });

  it('NS CREATE/DESTROY churn: 5,000 rounds leave one channel, its address reused, nothing growing', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    const r = lb.c;
    lb.host.registerDriver({ names: ['churn'], probe: () => undefined, callback: () => undefined });
    let lastAddr = -1;
    for (let i = 0; i < 5000; i++) {
      r.announce('churn', 0x400);
      if (i % 100 === 0) {
        await lb.idle();
        lastAddr = lb.host.channel('churn', { rproc: lb.rproc })?.ept?.addr ?? -1;
      }
      r.announce('churn', 0x400, RPMSG_NS_DESTROY);
      if (i % 50 === 0) await lb.idle();
    }
    r.announce('churn', 0x400);
    await lb.idle();
    const dev = lb.device;
    assert.ok(dev !== undefined);
    assert.equal(dev.channelCount, 1);
    assert.equal(dev.stats.nsRefused, 0);
    assert.equal(lastAddr, 1024, 'the bound endpoint takes the lowest free address again and again');
    assert.equal(lb.host.channel('churn', { rproc: lb.rproc })?.ept?.addr, 1024);
    await lb.close();
  });
});
