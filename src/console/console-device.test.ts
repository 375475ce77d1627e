// The console device side against a host scripted by hand (one memory, no processor): the
// handshake and its refusals, unusable host buffers, the write queue, host resets, feature masking
// and callbacks that throw. The well-behaved host is exercised in virtio-console.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO } from '../util/errors.ts';
import { RscTableWriter } from '../rsc/rsc-writer.ts';
import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';
import { VirtqueueDriver } from '../virtio/vring-driver.ts';
import { vringSize } from '../virtio/vring-layout.ts';
import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC } from '../virtio/vring-constants.ts';
import { VirtioConsoleDevice, type ConsoleDeviceOptions } from './console-device.ts';
import { consoleTable } from '../../test/support/console-rig.ts';
import { findVdev } from '../remoteproc/virtio/vdev-locate.ts';

const BASE = 0x1000;
const RQ_DA = 0x4000;
const TQ_DA = 0x7000;
const BUF_DA = 0xa000;
const NUM = 16;
const ALIGN = 0x1000;

/** One memory [BASE, BASE + 64 KiB): the table at BASE, the rings and buffers above it. */
class Bench {
  readonly memory = new Uint8Array(0x1_0000);
  readonly tableView: Uint8Array;
  readonly writer: RscTableWriter;
  readonly body: number;
  readonly layout: { bodyOffset: number; numOfVrings: number; configLen: number };
  readonly notified: number[] = [];
  readonly errors: string[] = [];
  rq: VirtqueueDriver<number> | undefined;
  tq: VirtqueueDriver<number> | undefined;

  constructor(dfeatures = 0) {
    const table = consoleTable({ rpmsg: false, consoleFeatures: dfeatures });
    this.tableView = this.memory.subarray(0, table.length);
    this.tableView.set(table);
    this.writer = new RscTableWriter(this.tableView);
    const loc = findVdev(this.tableView, { ids: [11] });
    this.body = loc.bodyOffset;
    this.layout = { bodyOffset: loc.bodyOffset, numOfVrings: 2, configLen: 0 };
    this.writer.setVringNotifyId(this.layout, 0, 2);
    this.writer.setVringNotifyId(this.layout, 1, 3);
  }

  readonly translate = (addr: bigint | number, len: number): Uint8Array | undefined => {
    const a = Number(addr);
    if (a < BASE || a + len > BASE + this.memory.length) return undefined;
    return this.memory.subarray(a - BASE, a - BASE + len);
  };

  view(da: number, len: number): Uint8Array {
    const v = this.translate(da, len);
    assert.ok(v !== undefined);
    return v;
  }

  device(options: Partial<ConsoleDeviceOptions> = {}): VirtioConsoleDevice {
    return new VirtioConsoleDevice({
      table: { da: BASE, size: this.tableView.length },
      translate: this.translate,
      notify: (id) => this.notified.push(id),
      onError: (e) => this.errors.push(e),
      ...options,
    });
  }

  /** What the host's probe does: rings at RQ_DA/TQ_DA, gfeatures, status 7. */
  up(gfeatures = 0): void {
    this.rq = new VirtqueueDriver<number>({
      memory: this.view(RQ_DA, vringSize(NUM, ALIGN)),
      num: NUM,
      align: ALIGN,
      features: gfeatures,
      zero: true,
    });
    this.tq = new VirtqueueDriver<number>({
      memory: this.view(TQ_DA, vringSize(NUM, ALIGN)),
      num: NUM,
      align: ALIGN,
      features: gfeatures,
      zero: true,
    });
    this.writer.setVringDa(this.layout, 0, RQ_DA);
    this.writer.setVringDa(this.layout, 1, TQ_DA);
    this.writer.setVdevGfeatures(this.body, gfeatures);
    this.writer.setVdevStatus(this.body, 7);
  }

  status(s: number): void {
    this.writer.setVdevStatus(this.body, s);
  }

  get rxq(): VirtqueueDriver<number> {
    assert.ok(this.rq !== undefined);
    return this.rq;
  }

  get txq(): VirtqueueDriver<number> {
    assert.ok(this.tq !== undefined);
    return this.tq;
  }

  /** Post receive buffer i (64 bytes at BUF_DA + 64 i) on receiveq. */
  postRx(i: number, len = 64): void {
    assert.equal(this.rxq.addInbuf(BigInt(BUF_DA + 64 * i), len, i), 0);
    this.rxq.flush();
  }

  /** Put `text` in buffer 100 + i and post it on transmitq. */
  postTx(i: number, text: string): void {
    const bytes = new TextEncoder().encode(text);
    const da = BUF_DA + 64 * (100 + i);
    this.view(da, bytes.length).set(bytes);
    assert.equal(this.txq.addOutbuf(BigInt(da), bytes.length, 100 + i), 0);
    this.txq.flush();
  }

  /** Everything the device returned on receiveq, decoded. */
  received(): string[] {
    const out: string[] = [];
    for (let u = this.rxq.getBuf(); u !== undefined; u = this.rxq.getBuf()) {
      out.push(new TextDecoder().decode(this.view(BUF_DA + 64 * u.token, u.len)));
    }
    return out;
  }
}

function serviceAll(dev: VirtioConsoleDevice): void {
  for (let i = 0; i < 100 && dev.service() > 0; i++);
}

describe('console device side (scripted host)', () => {
  it('waits for DRIVER_OK, then moves bytes both ways; chunks follow the host buffers', () => {
    const b = new Bench();
    const dev = b.device();
    const got: string[] = [];
    dev.onData((d) => got.push(new TextDecoder().decode(d)));
    assert.equal(dev.write('early '), 6);
    serviceAll(dev);
    assert.equal(dev.state, 'wait-driver-ok');
    b.up();
    b.postRx(0);
    b.postRx(1, 8);
    b.postTx(0, 'from host');
    serviceAll(dev);
    assert.equal(dev.state, 'ready');
    assert.deepEqual(got, ['from host']);
    assert.equal(dev.write('and some more bytes'), 19);
    serviceAll(dev);
    // Buffer 0 took everything queued at the handshake; then an 8-byte buffer and the rest waits.
    assert.deepEqual(b.received(), ['early ', 'and some']);
    assert.equal(dev.pendingBytes, 11);
    b.postRx(2);
    serviceAll(dev);
    assert.deepEqual(b.received(), [' more bytes']);
    assert.ok(b.notified.includes(2) && b.notified.includes(3));
    assert.deepEqual(b.errors, []);
  });

  it('refuses a DRIVER_OK whose vrings were not placed, and retries after a reset', () => {
    const b = new Bench();
    const dev = b.device();
    b.writer.setVringDa(b.layout, 0, FW_RSC_ADDR_ANY);
    b.status(7);
    serviceAll(dev);
    assert.equal(dev.state, 'invalid');
    assert.equal(dev.stats.configErrors, 1);
    assert.match(b.errors[0] ?? '', /vring0 da is still FW_RSC_ADDR_ANY/);
    b.status(0);
    serviceAll(dev);
    assert.equal(dev.state, 'wait-driver-ok');
    b.up();
    serviceAll(dev);
    assert.equal(dev.state, 'ready');
  });

  it('refuses vrings outside its memory, sharing a notify id, or over the table', () => {
    for (const [tamper, why] of [
      [(b: Bench) => b.writer.setVringDa(b.layout, 1, 0x20_0000), /outside the core's memory/],
      [(b: Bench) => b.writer.setVringNotifyId(b.layout, 1, 2), /same notify id 0x2/],
      [(b: Bench) => b.writer.setVringDa(b.layout, 0, BASE), /overlaps the resource table/],
      [(b: Bench) => b.writer.setVringDa(b.layout, 1, RQ_DA), /overlap/],
    ] as const) {
      const b = new Bench();
      const dev = b.device();
      b.up();
      tamper(b);
      serviceAll(dev);
      assert.equal(dev.state, 'invalid');
      assert.match(b.errors.join('\n'), why);
    }
  });

  it('returns an unusable receive buffer empty (device-readable, or over the rings) and uses the next', () => {
    const b = new Bench();
    const dev = b.device();
    b.up();
    // A device-readable buffer where the device should write.
    assert.equal(b.rxq.addOutbuf(BigInt(BUF_DA), 64, 50), 0);
    // A writable buffer lying over transmitq's ring.
    assert.equal(b.rxq.addInbuf(BigInt(TQ_DA), 64, 51), 0);
    b.postRx(0);
    dev.write('survives');
    serviceAll(dev);
    const used: [number, number][] = [];
    for (let u = b.rxq.getBuf(); u !== undefined; u = b.rxq.getBuf()) used.push([u.token, u.len]);
    assert.deepEqual(used, [
      [50, 0],
      [51, 0],
      [0, 8],
    ]);
    assert.equal(dev.stats.txBadBuffers, 2);
    assert.equal(new TextDecoder().decode(b.view(BUF_DA, 8)), 'survives');
    // The ring under transmitq was not written: the host's queue still works.
    assert.equal(b.txq.broken, undefined);
    b.postTx(0, 'x');
    serviceAll(dev);
    assert.equal(b.txq.getBuf()?.token, 100);
  });

  it('stops a queue whose avail ring the host corrupts, without throwing', () => {
    const b = new Bench();
    const dev = b.device();
    b.up();
    serviceAll(dev);
    // avail.idx jumps by more than the ring holds.
    const avail = new DataView(b.view(TQ_DA, vringSize(NUM, ALIGN)).buffer, TQ_DA - BASE);
    avail.setUint16(NUM * 16 + 2, 0x4000, true);
    assert.doesNotThrow(() => serviceAll(dev));
    assert.match(dev.queueErrors.transmitq?.message ?? '', /avail.idx 0x4000/);
    assert.equal(dev.stats.queueErrors, 1);
    // The other direction still works.
    b.postRx(0);
    dev.write('ok');
    serviceAll(dev);
    assert.deepEqual(b.received(), ['ok']);
  });

  it('write queues up to its limit, reports partial writes, and refuses after close', () => {
    const b = new Bench();
    const dev = b.device({ txQueueLimit: 10 });
    assert.equal(dev.write('0123456'), 7);
    assert.equal(dev.write('789abc'), 3);
    assert.equal(dev.write('d'), 0);
    assert.equal(dev.stats.txQueueFull, 2);
    assert.equal(dev.writable, 0);
    dev.close();
    assert.equal(dev.write('x'), -ERRNO.ESHUTDOWN);
    assert.equal(dev.service(), 0);
  });

  it('a host reset sends it back to waiting; queued bytes go out after the next handshake', () => {
    const b = new Bench();
    const dev = b.device();
    b.up();
    serviceAll(dev);
    dev.write('across the reset');
    b.status(0);
    serviceAll(dev);
    assert.equal(dev.state, 'wait-driver-ok');
    assert.equal(dev.stats.resets, 1);
    b.up();
    b.postRx(0);
    serviceAll(dev);
    assert.equal(dev.stats.handshakes, 2);
    assert.deepEqual(b.received(), ['across the reset']);
  });

  it('uses only features both offered and implemented, whatever gfeatures says', () => {
    const offered = 1 << VIRTIO_RING_F_EVENT_IDX;
    const b = new Bench(offered);
    const dev = b.device();
    b.up(0xffff_ffff);
    // The host's rings must agree with what the device will use.
    b.rq = new VirtqueueDriver<number>({
      memory: b.view(RQ_DA, vringSize(NUM, ALIGN)),
      num: NUM,
      align: ALIGN,
      features: offered,
      zero: true,
    });
    b.tq = new VirtqueueDriver<number>({
      memory: b.view(TQ_DA, vringSize(NUM, ALIGN)),
      num: NUM,
      align: ALIGN,
      features: offered,
      zero: true,
    });
    serviceAll(dev);
    assert.equal(dev.features, offered);
    assert.equal(dev.features & (1 << VIRTIO_RING_F_INDIRECT_DESC), 0);
    b.postTx(0, 'event idx');
    const got: string[] = [];
    dev.onData((d) => got.push(new TextDecoder().decode(d)));
    serviceAll(dev);
    assert.deepEqual(got, ['event idx']);
  });

  it('catches a throwing onData callback and keeps going', () => {
    const b = new Bench();
    const dev = b.device();
    const got: string[] = [];
    dev.onData(() => {
      throw new Error('firmware bug');
    });
    const off = dev.onData((d) => got.push(new TextDecoder().decode(d)));
    b.up();
    b.postTx(0, 'a');
    serviceAll(dev);
    off();
    b.postTx(1, 'b');
    serviceAll(dev);
    assert.deepEqual(got, ['a']);
    assert.equal(dev.stats.callbackErrors, 2);
    assert.match(b.errors[0] ?? '', /onData callback threw: firmware bug/);
    assert.equal(b.txq.getBuf()?.token, 100);
  });

  it('finds only console vdevs: a table without one is ENODEV', () => {
    const table = consoleTable({ rpmsg: false, consoleId: 7 });
    assert.throws(
      () => new VirtioConsoleDevice({ table, translate: () => undefined, notify: () => undefined }),
      /ENODEV: .*0 console vdev entries/,
    );
  });
});
