// The console driver next to rpmsg on one processor (FakePlatform): a firmware declaring an rpmsg
// vdev and a console vdev gets both drivers bound (status 7 on each, notify ids 0..3), console
// bytes flow byte-exact both ways (random chunks, backpressure in both directions), stop and crash
// end the port with EPIPE, and remote-written lengths are clamped and counted.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRscTable } from '../rsc/rsc-parse.ts';
import type { RscVdev } from '../rsc/rsc-types.ts';
import { isRprocError } from '../util/errors.ts';
import { RawVring } from '../virtio/vring-raw.ts';
import { vringSize } from '../virtio/vring-layout.ts';
import { VIRTIO_RING_F_EVENT_IDX } from '../virtio/vring-constants.ts';
import { RpmsgVirtioDevice } from '../rpmsg/remote/rpmsg-virtio-device.ts';
import {
  VIRTIO_CONSOLE_CONFIG,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_ID_CONSOLE,
  VIRTIO_ID_RPROC_SERIAL,
} from './console-constants.ts';
import {
  ConsoleRig,
  dualRig,
  type CoreContext,
  type DualCore,
  type RemoteCore,
} from '../../test/support/console-rig.ts';
import { LiveVdevFields, findVdev } from '../remoteproc/virtio/vdev-locate.ts';
import type { VirtioConsolePort } from './console-port.ts';

/** Accumulates everything a port delivers; take(n) waits for the next n bytes. */
class Sink {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | undefined;

  constructor(port: VirtioConsolePort) {
    port.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.waiter?.();
    });
  }

  get available(): number {
    return this.length;
  }

  async take(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.length} of ${n} bytes arrived`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 20);
      });
    }
    const all = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    if (all.length > n) this.chunks.push(all.subarray(n));
    this.length = all.length - n;
    return all.subarray(0, n);
  }
}

function echoSetup(core: DualCore): void {
  core.console.onData((data) => {
    const n = core.console.write(data);
    if (n !== data.length) core.errors.push(`echo lost ${data.length - n} bytes`);
  });
  core.rpmsg?.createEndpoint({
    name: 'rpmsg-echo',
    cb: (data, src, ept) => {
      ept.trySendTo(src, data);
    },
  });
}

function vdevs(table: Uint8Array | undefined): RscVdev[] {
  assert.ok(table !== undefined);
  return parseRscTable(table).entries.filter((e): e is RscVdev => e.kind === 'vdev');
}

function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function rpmsgEcho(r: ConsoleRig<DualCore>, text: string): Promise<string> {
  const ch = await r.rpmsg.waitForChannel('rpmsg-echo', { rproc: r.rproc });
  const ept = ch.open();
  const reply = new Promise<string>((resolve) => {
    ept.setCallback((data) => resolve(new TextDecoder().decode(data)));
  });
  await ept.send(new TextEncoder().encode(text));
  return reply;
}

function writeAsync(port: VirtioConsolePort, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(data, (e) => (e ? reject(e) : resolve()));
  });
}

describe('virtio console next to rpmsg (fake platform)', () => {
  it('binds each vdev to its driver: status 7 on both, notify ids 0..3, rproc-serial negotiates no console feature', async () => {
    const r = dualRig({
      firmware: {
        consoleFeatures:
          (1 << VIRTIO_CONSOLE_F_SIZE) | (1 << VIRTIO_CONSOLE_F_MULTIPORT) | (1 << VIRTIO_RING_F_EVENT_IDX),
      },
      setup: echoSetup,
    });
    const added: string[] = [];
    r.console.on('port', (e) => added.push(`${e.action}:${e.parentName}:${e.port.name}`));
    try {
      await r.boot();
      const [rpmsg, cons] = vdevs(r.rproc.resources.table);
      assert.ok(rpmsg !== undefined && cons !== undefined);
      assert.equal(rpmsg.id, 7);
      assert.equal(cons.id, VIRTIO_ID_RPROC_SERIAL);
      assert.equal(rpmsg.status, 7);
      assert.equal(cons.status, 7);
      assert.deepEqual(
        [...rpmsg.vrings, ...cons.vrings].map((v) => v.notifyId),
        [0, 1, 2, 3],
      );
      // rproc-serial: SIZE and MULTIPORT are not negotiated (Linux clears them); the ring's
      // EVENT_IDX is, so both sides run with event indices.
      assert.equal(cons.gfeatures, 1 << VIRTIO_RING_F_EVENT_IDX);
      assert.deepEqual(added, ['add:m0:vport1p0']);

      const port = r.console.port('m0');
      assert.ok(port !== undefined);
      assert.equal(port.deviceId, VIRTIO_ID_RPROC_SERIAL);
      assert.equal(port.size, undefined);
      assert.equal(r.core.console.state, 'ready');
      assert.equal(r.core.console.deviceId, VIRTIO_ID_RPROC_SERIAL);
      assert.deepEqual(r.core.console.notifyIds(), { receiveq: 2, transmitq: 3 });
      assert.equal(r.core.console.features, 1 << VIRTIO_RING_F_EVENT_IDX);

      // Both devices at once.
      const sink = new Sink(port);
      port.write('hello console\n');
      const [echoed, console] = await Promise.all([rpmsgEcho(r, 'ping'), sink.take(14)]);
      assert.equal(echoed, 'ping');
      assert.equal(console.toString(), 'hello console\n');
      assert.deepEqual(r.core.errors, []);
    } finally {
      await r.close();
    }
  });

  it('console (id 3) negotiates VIRTIO_CONSOLE_F_SIZE and reports cols/rows; MULTIPORT never', async () => {
    const config = new Uint8Array(VIRTIO_CONSOLE_CONFIG.size);
    const dv = new DataView(config.buffer);
    dv.setUint16(VIRTIO_CONSOLE_CONFIG.cols, 132, true);
    dv.setUint16(VIRTIO_CONSOLE_CONFIG.rows, 43, true);
    dv.setUint32(VIRTIO_CONSOLE_CONFIG.max_nr_ports, 4, true);
    const r = dualRig({
      firmware: {
        consoleId: VIRTIO_ID_CONSOLE,
        consoleFeatures: (1 << VIRTIO_CONSOLE_F_SIZE) | (1 << VIRTIO_CONSOLE_F_MULTIPORT),
        consoleConfig: config,
      },
      setup: echoSetup,
    });
    try {
      await r.boot();
      const cons = vdevs(r.rproc.resources.table)[1];
      assert.equal(cons?.gfeatures, 1 << VIRTIO_CONSOLE_F_SIZE);
      assert.equal(cons.status, 7);
      const port = await r.console.waitForPort((p) => p.deviceId === VIRTIO_ID_CONSOLE);
      assert.deepEqual(port.size, { cols: 132, rows: 43 });
      const sink = new Sink(port);
      port.write(pattern(1000));
      assert.deepEqual(new Uint8Array(await sink.take(1000)), pattern(1000));
    } finally {
      await r.close();
    }
  });

  it('carries random chunks byte-exact both ways at once (property)', async () => {
    const received: number[] = [];
    const r = dualRig({
      device: { txQueueLimit: 1 << 20 },
      setup: (core) => {
        core.console.onData((d) => {
          for (const b of d) received.push(b);
        });
      },
    });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const sink = new Sink(port);
      // size 'max': lengths spread over the whole range (the default keeps arrays tiny).
      const chunks = fc.array(fc.uint8Array({ minLength: 1, maxLength: 1500, size: 'max' }), {
        minLength: 1,
        maxLength: 10,
        size: 'max',
      });
      await fc.assert(
        fc.asyncProperty(chunks, chunks, async (toRemote, toHost) => {
          received.length = 0;
          const writes: Promise<void>[] = [];
          for (let i = 0; i < Math.max(toRemote.length, toHost.length); i++) {
            const a = toRemote[i];
            const b = toHost[i];
            if (a !== undefined) writes.push(writeAsync(port, a));
            if (b !== undefined) assert.equal(r.core.console.write(b), b.length);
          }
          r.poke();
          const hostTotal = toHost.reduce((n, c) => n + c.length, 0);
          const got = await sink.take(hostTotal);
          await Promise.all(writes);
          await r.idle();
          assert.deepEqual(new Uint8Array(got), new Uint8Array(Buffer.concat(toHost)));
          assert.deepEqual(new Uint8Array(received), new Uint8Array(Buffer.concat(toRemote)));
        }),
        { numRuns: 40 },
      );
      assert.equal(port.stats.rxMalformed, 0);
      assert.deepEqual(r.core.errors, []);
    } finally {
      await r.close();
    }
  });

  it('a host that does not read stalls the remote (its bytes wait), then everything arrives in order', async () => {
    const r = dualRig({ device: { txQueueLimit: 1 << 20 } });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const data = pattern(100_000, 7);
      assert.equal(r.core.console.write(data), data.length);
      await r.idle();
      // The stream buffered up to its high-water mark, the used buffers stayed on the ring, and the
      // remote keeps the rest.
      assert.ok(r.core.console.pendingBytes > 50_000, `pending ${r.core.console.pendingBytes}`);
      assert.ok(port.readableLength <= port.readableHighWaterMark + 256, `buffered ${port.readableLength}`);
      const sink = new Sink(port);
      const got = await sink.take(data.length);
      assert.deepEqual(new Uint8Array(got), data);
      await r.idle();
      assert.equal(r.core.console.pendingBytes, 0);
      assert.equal(port.stats.rxBytes, data.length);
    } finally {
      await r.close();
    }
  });

  it('writes wait for transmit buffers while the remote is busy, and complete when it catches up', async () => {
    const received: Uint8Array[] = [];
    const r = dualRig({
      setup: (core) => {
        core.console.onData((d) => received.push(d.slice()));
      },
    });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      r.pause();
      const data = pattern(20_000, 3);
      let done = false;
      const written = writeAsync(port, data).then(() => {
        done = true;
      });
      await r.idle();
      assert.equal(done, false, 'the write must wait: 16 × 256 bytes of buffers cannot hold 20 000');
      assert.equal(port.stats.txBuffers, 16);
      r.resume();
      await written;
      await r.idle();
      assert.deepEqual(new Uint8Array(Buffer.concat(received)), data);
      assert.ok(received.every((c) => c.length <= 256));
    } finally {
      await r.close();
    }
  });

  it('an echo firmware throttles its input while its output is stuck; nothing is lost', async () => {
    const r = dualRig({ device: { txQueueLimit: 8192 }, setup: echoSetup });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const data = pattern(60_000, 11);
      let done = false;
      const written = writeAsync(port, data).then(() => {
        done = true;
      });
      await r.idle();
      // Nobody reads the echo: the remote's queue reached its throttle, it stopped taking input,
      // so our write is still waiting for transmit buffers.
      assert.equal(done, false);
      assert.ok(r.core.console.pendingBytes >= r.core.console.rxThrottle);
      const sink = new Sink(port);
      const got = await sink.take(data.length);
      await written;
      assert.deepEqual(new Uint8Array(got), data);
      assert.deepEqual(r.core.errors, []);
    } finally {
      await r.close();
    }
  });

  it('queues output the firmware writes before DRIVER_OK and sends it after the handshake', async () => {
    const states: string[] = [];
    const r = dualRig({
      device: { onStateChange: (s) => states.push(s) },
      setup: (core) => {
        assert.equal(core.console.state, 'wait-driver-ok');
        assert.equal(core.console.write('boot banner\n'), 12);
      },
    });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const sink = new Sink(port);
      assert.equal((await sink.take(12)).toString(), 'boot banner\n');
      assert.deepEqual(states, ['ready']);
    } finally {
      await r.close();
    }
  });

  it('stop ends the port with EPIPE, fails the pending write and reports the removal', async () => {
    const r = dualRig();
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      r.pause();
      const errors: unknown[] = [];
      port.on('error', (e) => errors.push(e));
      const write = writeAsync(port, pattern(10_000)).then(
        () => undefined,
        (e: unknown) => e,
      );
      await r.idle();
      const removed = r.console.next('port', (e) => e.action === 'remove');
      await r.rproc.shutdown();
      const e = await removed;
      assert.equal(e.port, port);
      assert.equal(e.parentName, 'm0');
      const writeError = await write;
      assert.ok(isRprocError(writeError, 'EPIPE'), String(writeError));
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(errors.length, 1);
      assert.ok(isRprocError(errors[0], 'EPIPE'));
      assert.match(String(errors[0]), /vport1p0 \(m0\): the remote processor stopped/);
      assert.ok(port.detached && port.destroyed);
      assert.equal(r.console.ports.length, 0);
      assert.equal(r.platform.pool.outstanding, 0, 'every vring and buffer is freed');
    } finally {
      await r.close();
    }
  });

  it('a port nobody listens to closes quietly on stop, with the reason in endError', async () => {
    const r = dualRig();
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const closed = new Promise<void>((resolve) => port.once('close', () => resolve()));
      await r.rproc.shutdown();
      await closed;
      assert.ok(isRprocError(port.endError, 'EPIPE'));
    } finally {
      await r.close();
    }
  });

  it('a crash ends the stream with EPIPE; after recovery a new port works', async () => {
    const r = dualRig({ setup: echoSetup });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const ended = new Promise<unknown>((resolve) => port.once('error', resolve));
      const again = r.console.next('port', (e) => e.action === 'add');
      r.crash();
      assert.ok(isRprocError(await ended, 'EPIPE'));
      const fresh = (await again).port;
      assert.notEqual(fresh, port);
      await r.idle();
      const sink = new Sink(fresh);
      fresh.write('after recovery');
      assert.equal((await sink.take(14)).toString(), 'after recovery');
      assert.equal(await rpmsgEcho(r, 'still here'), 'still here');
      assert.equal(r.rproc.crash.count, 1);
    } finally {
      await r.close();
    }
  });

  it('a console vdev with one vring fails its probe (FAILED); the processor and rpmsg keep running', async () => {
    const r = new ConsoleRig<RemoteCore & { readonly rpmsg: RpmsgVirtioDevice }>({
      firmware: { consoleVrings: 1 },
      core: (ctx) => {
        const rpmsg = new RpmsgVirtioDevice({
          table: ctx.table,
          translate: ctx.translate,
          notify: (id) => ctx.notify(id),
        });
        rpmsg.createEndpoint({ name: 'rpmsg-echo', cb: (d, src, ept) => ept.trySendTo(src, d) });
        return {
          rpmsg,
          service: () => {
            while (rpmsg.service() > 0);
          },
          stop: () => rpmsg.close(),
        };
      },
    });
    try {
      await r.boot();
      const cons = vdevs(r.rproc.resources.table)[1];
      assert.equal(cons?.status, 0x83);
      assert.equal(r.console.ports.length, 0);
      assert.ok(r.rig.logs.some((l) => /virtio_rproc_serial probe failed/.test(l)));
      assert.equal(r.rproc.state, 'running');
      const ch = await r.rpmsg.waitForChannel('rpmsg-echo', { rproc: r.rproc });
      const reply = new Promise<string>((resolve) => ch.open((d) => resolve(new TextDecoder().decode(d))));
      await ch.ept?.send(new TextEncoder().encode('one vring is not enough'));
      assert.equal(await reply, 'one vring is not enough');
    } finally {
      await r.close();
    }
  });

  it('clamps a used length beyond the buffer, counts it and re-posts the buffer', async () => {
    let done = false;
    const hostile = (ctx: CoreContext): RemoteCore => {
      const loc = findVdev(ctx.table, { ids: [VIRTIO_ID_RPROC_SERIAL] });
      const live = new LiveVdevFields(ctx.table, loc);
      return {
        service: () => {
          if (done || (live.status() & 4) === 0) return;
          done = true;
          const v = live.vring(0);
          const mem = ctx.translate(v.da, vringSize(v.num, v.align));
          assert.ok(mem !== undefined);
          const raw = new RawVring(mem, v.num, v.align);
          const head = raw.availRing(0);
          const d = raw.desc(head);
          const buf = ctx.translate(d.addr, d.len);
          assert.ok(buf !== undefined);
          buf.fill(0x41);
          raw.pushUsedRaw(head, 0x10000);
          ctx.notify(v.notifyId);
        },
        stop: () => undefined,
      };
    };
    const r = new ConsoleRig({ firmware: { rpmsg: false }, core: hostile });
    try {
      await r.boot();
      const port = await r.console.waitForPort('m0');
      const sink = new Sink(port);
      const got = await sink.take(256);
      assert.ok(got.every((b) => b === 0x41));
      assert.equal(port.stats.rxMalformed, 1);
      assert.equal(port.stats.rxBytes, 256);
      assert.equal(port.broken, undefined);
      assert.ok(r.rig.logs.some((l) => /reports 0x10000 bytes written .* clamped/.test(l)));
      // 16 posted at probe, then the clamped one again.
      const v = vdevs(r.rproc.resources.table)[0]?.vrings[0];
      assert.ok(v !== undefined);
      const mem = r.translate(v.da, vringSize(v.num, v.align));
      assert.ok(mem !== undefined);
      assert.equal(new RawVring(mem, v.num, v.align).availIdx, 17);
    } finally {
      await r.close();
    }
  });

  it('a used id the host never posted breaks the port with EIO and an error event; the processor crashes (virtio) and recovers', async () => {
    let done = false;
    const hostile = (ctx: CoreContext): RemoteCore => {
      const loc = findVdev(ctx.table, { ids: [VIRTIO_ID_RPROC_SERIAL] });
      const live = new LiveVdevFields(ctx.table, loc);
      return {
        service: () => {
          if (done || (live.status() & 4) === 0) return;
          done = true;
          const v = live.vring(0);
          const mem = ctx.translate(v.da, vringSize(v.num, v.align));
          assert.ok(mem !== undefined);
          new RawVring(mem, v.num, v.align).pushUsedRaw(0x99, 4);
          ctx.notify(v.notifyId);
        },
        stop: () => undefined,
      };
    };
    const r = new ConsoleRig({ firmware: { rpmsg: false }, core: hostile });
    try {
      const broken = r.console.next('error');
      const crash = r.rproc.next('crash');
      const recovered = r.rproc.next('recovery', (e) => e.phase === 'done');
      const added = r.console.next('port', (e) => e.action === 'add');
      await r.boot();
      const { port } = await added;
      const e = await broken;
      assert.ok(e.port === port, 'the error names the port');
      assert.match(e.reason, /descriptor 0x99/);
      assert.ok(isRprocError(port.endError, 'EIO'));
      assert.ok(port.destroyed);
      const c = await crash;
      assert.equal(c.typeName, 'fatal error');
      assert.equal(c.detail?.source, 'virtio');
      assert.match(c.detail.message, /virtio0: .*descriptor 0x99/);
      await recovered;
      const again = r.console.port('m0');
      assert.ok(again !== undefined && again !== port && !again.destroyed, 'a new port after recovery');
    } finally {
      await r.close();
    }
  });
});
