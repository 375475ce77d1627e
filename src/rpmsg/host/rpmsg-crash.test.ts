// The remote going away mid-transfer: shutdown or a crash while sends are queued in the ring and
// senders are blocked on TX buffers. Pending sends reject with EPIPE, streams end with an error,
// channels are removed; after recovery the remote announces again and traffic resumes on fresh
// channels; nothing (buffers, timers, listeners) is left behind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError, type RprocError } from '../../util/errors.ts';
import { RPROC_WATCHDOG } from '../../remoteproc/rproc-state.ts';
import { createLoopback, echoCore, type Loopback, type RpmsgCore } from '../../testing/loopback.ts';
import { endpointStream } from './endpoint-stream.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';

const enc = new TextEncoder();

/** Settle a promise into its error (or undefined), so a rejection is never unhandled. */
function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

function assertEpipe(e: unknown, what: string): asserts e is RprocError {
  assert.ok(isRprocError(e, 'EPIPE'), `${what}: expected EPIPE, got ${String(e)}`);
}

/** Fill the ring of a paused remote and block three more senders; returns their outcomes. */
function jam(lb: Loopback<RpmsgCore>, ept: RpmsgEndpoint): Promise<unknown>[] {
  lb.pause();
  for (let i = 0; i < 8; i++) assert.equal(ept.trySend(enc.encode(`queued ${i}`)), 0);
  return [0, 1, 2].map((i) => outcome(ept.send(enc.encode(`blocked ${i}`), { timeoutMs: 60_000 })));
}

function noTimers(): void {
  assert.deepEqual(
    process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate'),
    [],
    'no timer or immediate left behind',
  );
}

describe('rpmsg when the remote stops or crashes', () => {
  it('shutdown with sends queued and blocked: EPIPE for the senders, streams end, channels removed', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    const ch = lb.host.channels[0];
    assert.ok(ch !== undefined);
    const stream = endpointStream(ch);
    const streamEnd = new Promise<unknown>((resolve) => stream.on('error', resolve));
    const ept = ch.ept;
    assert.ok(ept !== undefined);
    const blocked = jam(lb, ept);
    const events: string[] = [];
    lb.host.on('channel', (e) => events.push(`${e.action} ${e.channel.name}`));
    lb.host.on('device', (e) => events.push(`${e.action} ${e.device.deviceName}`));
    await lb.rproc.shutdown();
    for (const [i, p] of blocked.entries()) {
      const e = await p;
      assertEpipe(e, `blocked sender ${i}`);
      assert.match(e.message, /virtio0: the remote processor stopped/);
    }
    assertEpipe(await streamEnd, 'stream');
    assert.deepEqual(events, ['remove rpmsg-echo', 'remove virtio0']);
    assert.ok(ch.removed && ept.destroyed);
    assert.equal(lb.host.channels.length, 0);
    assertEpipe(await outcome(ept.send(enc.encode('late'))), 'send after stop');
    assert.equal(ept.trySend(enc.encode('late')), -32);
    assert.equal(ept.getTxBuffer(), undefined);
    // Everything the host allocated for the device is back.
    assert.ok(lb.rproc.resources.idle);
    assert.equal(lb.platform.pool.outstanding, 0);
    await lb.close();
    noTimers();
  });

  it('a crash with sends blocked: EPIPE, then recovery brings fresh channels and traffic resumes', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    const old = lb.host.channels[0];
    assert.ok(old !== undefined);
    const oldEpt = old.open();
    const blocked = jam(lb, oldEpt);
    const added = new Promise<RpmsgChannel>((resolve) =>
      lb.host.on('channel', (e) => {
        if (e.action === 'add') resolve(e.channel);
      }),
    );
    const recovered = lb.rproc.next('recovery', (e) => e.phase === 'done');
    lb.crash(RPROC_WATCHDOG);
    for (const p of blocked) assertEpipe(await p, 'blocked sender');
    await recovered;
    const fresh = await added;
    await lb.idle();
    assert.notEqual(fresh, old);
    assert.ok(old.removed);
    assert.equal(lb.device?.deviceName, 'virtio1');
    assert.equal(fresh.deviceName, 'virtio1.rpmsg-echo.-1.1024');
    const got: string[] = [];
    const ept = fresh.open((d) => got.push(new TextDecoder().decode(d)));
    for (let i = 0; i < 20; i++) await ept.send(enc.encode(`after ${i}`));
    await lb.idle();
    assert.equal(got.length, 20);
    assert.equal(got[19], 'after 19');
    assertEpipe(await outcome(oldEpt.send(enc.encode('stale'))), 'the old endpoint');
    assert.equal(lb.rproc.crash.count, 1);
    await lb.close();
    assert.equal(lb.platform.pool.outstanding, 0);
    noTimers();
  });

  it('crash, recovery, crash again: no growth of buffers or devices', async () => {
    const lb = await createLoopback({ core: echoCore('a', 'b'), firmware: { num: 16 } });
    const baseline = lb.platform.pool.outstanding;
    for (let round = 0; round < 5; round++) {
      const chans = lb.host.channels;
      assert.equal(chans.length, 2, `round ${round}: both services announced`);
      const epts = chans.map((c) => c.open());
      const sends = epts.flatMap((e) =>
        Array.from({ length: 40 }, (_, i) =>
          outcome(e.send(enc.encode(`r${round} ${i}`), { timeoutMs: 60_000 })),
        ),
      );
      const recovered = lb.rproc.next('recovery', (e) => e.phase === 'done');
      // Crash mid-transfer: some sends went through, the rest fail with EPIPE.
      lb.drain();
      lb.crash();
      await recovered;
      await lb.idle();
      const results = await Promise.all(sends);
      assert.ok(results.every((r) => r === undefined || isRprocError(r, 'EPIPE')));
      assert.ok(
        results.some((r) => r !== undefined),
        `round ${round}: some sends were cut off`,
      );
      assert.equal(lb.platform.pool.outstanding, baseline, `round ${round}: buffers`);
      assert.equal(lb.host.buses.length, 1);
    }
    await lb.close();
    noTimers();
  });

  it('recovery disabled: the crashed core keeps its channels until shutdown, which fails the senders', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    lb.rproc.crash.recoveryDisabled = true;
    const ept = lb.host.channels[0]?.open();
    assert.ok(ept !== undefined);
    const blocked = jam(lb, ept);
    lb.crash();
    await lb.rproc.next('crash');
    await lb.idle();
    assert.equal(lb.rproc.state, 'crashed');
    // As in Linux the transport only goes when the processor is stopped.
    await lb.rproc.shutdown();
    for (const p of blocked) assertEpipe(await p, 'blocked sender');
    assert.equal(lb.host.channels.length, 0);
    await lb.close();
    noTimers();
  });

  it('a send timeout pending at shutdown leaves no timer: the process can exit', async () => {
    const lb = await createLoopback({ core: echoCore(), firmware: { num: 8 } });
    const ept = lb.host.channels[0]?.open();
    assert.ok(ept !== undefined);
    lb.pause();
    while (ept.trySend(new Uint8Array(1)) === 0);
    const p = outcome(ept.send(new Uint8Array(1), { timeoutMs: 3_600_000 }));
    assert.ok(process.getActiveResourcesInfo().includes('Timeout'));
    await lb.rproc.shutdown();
    assertEpipe(await p, 'blocked sender');
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'the send timer went with the send');
    await lb.close();
    noTimers();
  });
});
