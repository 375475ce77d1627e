// The host bus's bookkeeping, each figure exactly (virtio_rpmsg_bus.c's virtproc_info): the endpoint
// address table (idr_alloc's lowest free address ≥ 1024, reused once freed), the checks of
// rpmsg_send_offchannel_raw on every argument, the RX budget of one interrupt (NAPI's weight),
// and the statistics a pass leaves. A scripted remote (hostile-remote.ts) drives the rings by
// hand, so that each figure is the host's own doing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRNO, isRprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY } from '../rpmsg-wire.ts';
import { createLoopback, type Loopback } from '../../testing/loopback.ts';
import { hostileCore, type HostileRemote } from '../../testing/hostile-remote.ts';
import type { RpmsgFirmwareOptions } from '../../testing/rpmsg-firmware.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

interface Bare {
  readonly lb: Loopback<HostileRemote>;
  readonly r: HostileRemote;
  readonly dev: VirtioRpmsgBus;
}

/** A booted bus with no channel and no endpoint but the name service's. */
async function bare(firmware?: RpmsgFirmwareOptions): Promise<Bare> {
  const lb = await createLoopback({ core: hostileCore(), ...(firmware === undefined ? {} : { firmware }) });
  const dev = lb.device;
  assert.ok(dev !== undefined);
  return { lb, r: lb.c, dev };
}

describe('rpmsg bus: the endpoint address table', () => {
  // Each step creates a dynamic endpoint (expecting its address) or destroys the one at an address.
  type Step = readonly ['new', number] | readonly ['free', number] | readonly ['fixed', number];
  const SCRIPTS: readonly (readonly [string, readonly Step[]])[] = [
    [
      'dynamic addresses count up from 1024',
      [
        ['new', 1024],
        ['new', 1025],
        ['new', 1026],
      ],
    ],
    [
      'the first dynamic address, freed, is the next one given',
      [
        ['new', 1024],
        ['new', 1025],
        ['free', 1024],
        ['new', 1024],
        ['new', 1026],
      ],
    ],
    [
      'the lowest of several freed addresses comes first, then the others',
      [
        ['new', 1024],
        ['new', 1025],
        ['new', 1026],
        ['new', 1027],
        ['free', 1025],
        ['free', 1027],
        ['new', 1025],
        ['new', 1027],
        ['new', 1028],
      ],
    ],
    [
      'a freed address above a lower free one does not hide it',
      [
        ['new', 1024],
        ['new', 1025],
        ['new', 1026],
        ['free', 1024],
        ['free', 1026],
        ['new', 1024],
        ['new', 1026],
      ],
    ],
    [
      'a fixed address below 1024, freed, is never given dynamically',
      [
        ['fixed', 100],
        ['new', 1024],
        ['free', 100],
        ['new', 1025],
      ],
    ],
    [
      'a fixed address in the dynamic range is skipped, and given once freed',
      [
        ['fixed', 1025],
        ['new', 1024],
        ['new', 1026],
        ['free', 1025],
        ['new', 1025],
        ['new', 1027],
      ],
    ],
  ];
  for (const [what, steps] of SCRIPTS) {
    it(what, async () => {
      const { lb, dev } = await bare();
      const live = new Map<number, ReturnType<VirtioRpmsgBus['createEndpoint']>>();
      for (const [op, addr] of steps) {
        if (op === 'free') {
          live.get(addr)?.destroy();
          live.delete(addr);
          continue;
        }
        const ept = dev.createEndpoint(undefined, op === 'fixed' ? addr : undefined);
        assert.equal(ept.addr, addr, `${op} ${addr}`);
        live.set(addr, ept);
      }
      await lb.close();
    });
  }

  it('an endpoint destroyed twice, its address taken again meanwhile, leaves the new one alone', async () => {
    const { lb, r, dev } = await bare();
    const old = dev.createEndpoint(undefined, 0x600);
    old.destroy();
    const got: number[] = [];
    const now = dev.createEndpoint((d) => got.push(d.length), 0x600);
    old.destroy();
    assert.equal(now.destroyed, false);
    assert.throws(
      () => dev.createEndpoint(undefined, 0x600),
      (e) => isRprocError(e, 'EBUSY'),
    );
    r.send(0x600, new Uint8Array(3));
    await lb.idle();
    assert.deepEqual(got, [3], 'the new endpoint still receives');
    assert.equal(dev.stats.rxNoRecipient, 0);
    await lb.close();
  });

  it('the highest fixed address is 0xfffffffe; ANY asks for a dynamic one; a gone bus makes none', async () => {
    const { lb, dev } = await bare();
    assert.equal(dev.createEndpoint(undefined, RPMSG_ADDR_ANY - 1).addr, RPMSG_ADDR_ANY - 1);
    assert.equal(dev.createEndpoint(undefined, RPMSG_ADDR_ANY).addr, 1024);
    dev.remove('test');
    assert.throws(
      () => dev.createEndpoint(undefined),
      (e) => isRprocError(e, 'ENODEV'),
    );
    assert.throws(
      () => dev.createEndpoint(undefined, 0x700),
      (e) => isRprocError(e, 'ENODEV'),
    );
    await lb.close();
  });
});

describe('rpmsg bus: the checks of rpmsg_send_offchannel_raw', () => {
  // [what, src, dst, status]; the payload is 1 byte.
  const ADDRESSES: readonly (readonly [string, number, number, number])[] = [
    ['src 0', 0, 0x400, 0],
    ['src 0xfffffffe', 0xffff_fffe, 0x400, 0],
    ['src ANY', RPMSG_ADDR_ANY, 0x400, -ERRNO.EINVAL],
    ['src −1', -1, 0x400, -ERRNO.EINVAL],
    ['src 2^32', 2 ** 32, 0x400, -ERRNO.EINVAL],
    ['src 1.5', 1.5, 0x400, -ERRNO.EINVAL],
    ['src NaN', Number.NaN, 0x400, -ERRNO.EINVAL],
    ['dst 0', 0x400, 0, 0],
    ['dst 0xfffffffe', 0x400, 0xffff_fffe, 0],
    ['dst ANY', 0x400, RPMSG_ADDR_ANY, -ERRNO.EINVAL],
    ['dst −1', 0x400, -1, -ERRNO.EINVAL],
    ['dst 2^32', 0x400, 2 ** 32, -ERRNO.EINVAL],
    ['dst 1.5', 0x400, 1.5, -ERRNO.EINVAL],
  ];
  for (const [what, src, dst, status] of ADDRESSES) {
    it(`${what}: ${status === 0 ? 'sent with that address in its header' : 'EINVAL, nothing sent'}`, async () => {
      const { lb, r, dev } = await bare();
      assert.equal(dev.trySendRaw(src, dst, new Uint8Array([7])), status);
      await lb.idle();
      assert.deepEqual(
        r.received.map((m) => [m.hdr.src, m.hdr.dst, m.hdr.len, [...m.payload]]),
        status === 0 ? [[src, dst, 1, [7]]] : [],
      );
      assert.equal(dev.stats.tx, status === 0 ? 1 : 0);
      await lb.close();
    });
  }

  // [what, len, status] for a zero-copy send, whose length is the caller's number.
  const LENGTHS: readonly (readonly [string, number, number])[] = [
    ['0 bytes', 0, 0],
    ['the MTU, 496', 496, 0],
    ['497', 497, -ERRNO.EMSGSIZE],
    ['−1', -1, -ERRNO.EINVAL],
    ['1.5', 1.5, -ERRNO.EINVAL],
    ['NaN', Number.NaN, -ERRNO.EINVAL],
  ];
  for (const [what, len, status] of LENGTHS) {
    it(`zero-copy length ${what}: ${status === 0 ? 'sent' : `${status}, the buffer back in the pool`}`, async () => {
      const { lb, r, dev } = await bare({ num: 1 });
      const buf = dev.getTxBuffer();
      assert.ok(buf !== undefined);
      assert.equal(dev.getTxBuffer(), undefined, 'the only TX buffer is lent');
      assert.equal(dev.sendNoCopy(buf, 0x400, 0x401, len), status);
      await lb.idle();
      assert.deepEqual(
        r.received.map((m) => m.hdr.len),
        status === 0 ? [len] : [],
      );
      const again = dev.getTxBuffer();
      assert.ok(again !== undefined, 'the buffer is free again (returned by the remote, or given back)');
      await lb.close();
    });
  }

  it('a bus that is gone refuses with EPIPE, a broken one with EIO naming the violation as cause', async () => {
    const gone = await bare();
    gone.dev.remove('test');
    assert.equal(gone.dev.trySendRaw(0x400, 0x401, new Uint8Array(1)), -ERRNO.EPIPE);
    await assert.rejects(
      gone.dev.sendRaw(0x400, 0x401, new Uint8Array(1), 100),
      (e) => isRprocError(e, 'EPIPE') && e.cause === undefined,
    );
    await gone.lb.close();

    const broken = await bare();
    // used.idx moved far past anything the host posted: a ring protocol violation.
    broken.r.bumpUsedIdx(0, 1000);
    // Synchronously: once the loop runs, the crash it reports restarts the remote and removes the bus.
    broken.lb.rproc.vqInterrupt(broken.r.notifyId(0));
    const why = broken.dev.broken;
    assert.ok(why !== undefined, 'the bus is broken');
    assert.equal(broken.dev.trySendRaw(0x400, 0x401, new Uint8Array(1)), -ERRNO.EIO);
    await assert.rejects(
      broken.dev.sendRaw(0x400, 0x401, new Uint8Array(1), 100),
      (e) =>
        isRprocError(e, 'EIO') &&
        e.cause === why &&
        e.message.includes('is broken until the remote restarts'),
    );
    await broken.lb.close();
  });
});

describe('rpmsg bus: the timeout of a blocking send', () => {
  const TIMEOUTS: readonly (readonly [string, unknown, boolean])[] = [
    ['0 ms (a free buffer: sent)', 0, true],
    ['1 ms', 1, true],
    ['Infinity', Number.POSITIVE_INFINITY, true],
    ['−1 ms', -1, false],
    ['−0.5 ms', -0.5, false],
    ['NaN', Number.NaN, false],
    ['a string', '5', false],
  ];
  for (const [what, timeoutMs, ok] of TIMEOUTS) {
    it(`timeoutMs ${what}: ${ok ? 'accepted' : 'EINVAL, nothing sent'}`, async () => {
      const { lb, r, dev } = await bare();
      const send = dev.sendRaw(0x400, 0x401, new Uint8Array(2), timeoutMs as number);
      if (ok) await send;
      else await assert.rejects(send, (e) => isRprocError(e, 'EINVAL') && e.message.includes('timeoutMs'));
      await lb.idle();
      assert.equal(r.received.length, ok ? 1 : 0);
      await lb.close();
    });
  }

  it('timeoutMs 0 with no buffer free: ETIMEDOUT at once, no waiter or timer left', async () => {
    const { lb, r, dev } = await bare({ num: 1 });
    r.autoReturn = false;
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array(1)), 0);
    await assert.rejects(dev.sendRaw(0x400, 0x401, new Uint8Array(1), 0), (e) =>
      isRprocError(e, 'ETIMEDOUT'),
    );
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
    // The next send is not queued behind a waiter that timed out: it is refused only for want of
    // a buffer.
    assert.equal(dev.trySendRaw(0x400, 0x401, new Uint8Array(1)), -ERRNO.ENOMEM);
    await lb.close();
  });
});

describe('rpmsg bus: the RX budget of one interrupt (NAPI weight 64)', () => {
  /** `n` messages on vring0 with no doorbell, numbered by their first byte. */
  function queue(r: HostileRemote, dst: number, n: number): void {
    for (let i = 0; i < n; i++)
      assert.notEqual(r.send(dst, new Uint8Array([i]), { notify: false }), undefined);
  }

  const BURSTS: readonly (readonly [number, number, boolean])[] = [
    // [messages used, delivered by the first pass, a later pass due]
    [1, 1, false],
    [63, 63, false],
    // The budget is spent before the ring is seen empty: a pass is due, and finds nothing.
    [64, 64, true],
    [65, 64, true],
    [200, 64, true],
  ];
  for (const [n, first, due] of BURSTS) {
    it(`${n} messages: the interrupt delivers ${first}${due ? '; a later pass is due, and takes the rest in order' : ''}`, async () => {
      const { lb, r, dev } = await bare();
      const got: number[] = [];
      dev.createEndpoint((d) => got.push(d[0] ?? -1), 0x600);
      const kicks = dev.stats.rxKicks;
      const rx = dev.stats.rx;
      queue(r, 0x600, n);
      lb.rproc.vqInterrupt(r.notifyId(0));
      assert.equal(got.length, first);
      assert.equal(dev.rxPassDue, due);
      assert.equal(dev.stats.rxKicks, kicks + 1, 'one kick for the buffers re-posted');
      // An interrupt while a pass is due leaves the messages to that pass.
      lb.rproc.vqInterrupt(r.notifyId(0));
      assert.equal(got.length, first);
      await lb.idle();
      assert.equal(dev.rxPassDue, false);
      assert.deepEqual(
        got,
        Array.from({ length: n }, (_, i) => i & 0xff),
      );
      assert.equal(dev.stats.rx, rx + n);
      assert.equal(dev.stats.rxKicks, kicks + Math.ceil(n / 64), 'one kick per pass');
      assert.equal(r.availCount(0), 256, 'every buffer is back');
      await lb.close();
    });
  }

  it('an interrupt with nothing used neither delivers nor kicks', async () => {
    const { lb, r, dev } = await bare();
    const before = { ...dev.stats };
    const kicks = r.kicks.length;
    lb.rproc.vqInterrupt(r.notifyId(0));
    await lb.idle();
    assert.deepEqual(dev.stats, before);
    assert.equal(r.kicks.length, kicks);
    await lb.close();
  });

  it('a bus removed while a pass is due takes no further message', async () => {
    const { lb, r, dev } = await bare();
    const got: number[] = [];
    dev.createEndpoint((d) => got.push(d[0] ?? -1), 0x600);
    queue(r, 0x600, 100);
    lb.rproc.vqInterrupt(r.notifyId(0));
    assert.equal(got.length, 64);
    const stats = { ...dev.stats };
    dev.remove('test');
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(got.length, 64);
    assert.deepEqual(dev.stats, stats);
    await lb.close();
  });
});
