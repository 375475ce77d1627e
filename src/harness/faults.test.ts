// Fault injection against the C echo firmware on the rv32 core (deterministic mode): lost kicks
// either way leave messages waiting until the next kick, delayed kicks delay the echo by that much
// virtual time, seeded random losses repeat run after run, an exhausted host TX pool makes sends
// time out until healed, a stalled host endpoint holds the remote's buffers (the firmware's reply
// then times out, and it carries on once healed), and crashes fire after N messages, after a time
// and on a matching line.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoardSession, type BoardSessionOptions } from './board-session.ts';
import { parseLinePattern } from './line-pattern.ts';
import { HarnessError } from './harness-error.ts';

async function echoBoard<T>(
  body: (b: BoardSession) => Promise<T>,
  options: BoardSessionOptions = {},
): Promise<T> {
  const b = await BoardSession.open({
    firmware: { rproc0: 'echo.elf' },
    recovery: { rproc0: false },
    ...options,
  });
  try {
    await b.boot('rproc0');
    await b.send('rpmsg-echo', 'warm-up');
    await b.expect('rpmsg-echo:^warm-up$');
    return await body(b);
  } finally {
    await b.close();
  }
}

const timesOut = (e: unknown): boolean => e instanceof HarnessError && e.kind === 'expect-timeout';

describe('fault injection', () => {
  it('loses the kicks to the core: the message waits for the next kick', async () => {
    await echoBoard(async (b) => {
      const fault = b.fault({ kind: 'lose-kicks', core: 'rproc0', direction: 'to-remote' });
      await b.send('rpmsg-echo', 'x');
      await assert.rejects(b.expect('rpmsg-echo:^x$', { timeoutMs: 100 }), timesOut);
      fault.heal();
      assert.equal(fault.active, false);
      await b.send('rpmsg-echo', 'y');
      await b.expect(['rpmsg-echo:^x$', 'rpmsg-echo:^y$']);
    });
  });

  it('loses the core notifications to the host: the echo is seen at the next one', async () => {
    await echoBoard(async (b) => {
      b.fault({ kind: 'lose-kicks', core: 'rproc0', direction: 'to-host', count: 1 });
      await b.send('rpmsg-echo', 'x');
      await assert.rejects(b.expect('rpmsg-echo:^x$', { timeoutMs: 100 }), timesOut);
      // One lost: the fault healed itself.
      await b.send('rpmsg-echo', 'y');
      await b.expect(['rpmsg-echo:^x$', 'rpmsg-echo:^y$']);
    });
  });

  it('delays kicks by the given virtual time', async () => {
    await echoBoard(async (b) => {
      b.fault({ kind: 'delay-kicks', core: 'rproc0', direction: 'to-remote', delayMs: 20 });
      const sent = b.clock.now();
      await b.send('rpmsg-echo', 'late');
      const [m] = await b.expect('rpmsg-echo:^late$');
      const took = (m?.line.at ?? 0) - sent;
      assert.ok(took >= 20 && took < 25, `echo after ${took} ms`);
    });
  });

  it('loses the same kicks on every run for the same seed', async () => {
    const fates = async (): Promise<string[]> =>
      echoBoard(
        async (b) => {
          b.fault({ kind: 'lose-kicks', core: 'rproc0', direction: 'both', probability: 0.3, seed: 7 });
          for (let i = 0; i < 12; i++) {
            await b.send('rpmsg-echo', `m${i}`);
            await b.wait(1);
          }
          b.heal();
          await b.send('rpmsg-echo', 'last');
          await b.expect('rpmsg-echo:^last$');
          const file = b.recorder?.file();
          return (file?.traceEvents ?? []).flatMap((e) =>
            e.ph === 'i' && /^(kick|notify) vq/.test(e.name) ? [`${e.ts} ${e.name}`] : [],
          );
        },
        { traceRpmsg: true },
      );
    const first = await fates();
    assert.ok(
      first.some((f) => f.endsWith('(lost)')) && first.some((f) => !f.endsWith('(lost)')),
      first.join('\n'),
    );
    assert.deepEqual(await fates(), first);
  });

  it('exhausts the host TX buffers: sends time out until healed', async () => {
    await echoBoard(async (b) => {
      const fault = b.fault({ kind: 'exhaust-tx-buffers', core: 'rproc0' });
      await assert.rejects(
        b.send('rpmsg-echo', 'blocked', { timeoutMs: 50 }),
        /ETIMEDOUT: no TX buffer for rproc0\/rpmsg-echo within 50 ms \(virtual time\)/,
      );
      fault.heal();
      await b.send('rpmsg-echo', 'free');
      await b.expect('rpmsg-echo:^free$');
    });
  });

  it('stalls the host side of an endpoint: the remote buffers stay held until it heals', async () => {
    await echoBoard(async (b) => {
      const device = b.soc.rpmsg.buses[0];
      assert.ok(device !== undefined);
      const posted = device.ringUse.rx;
      const stall = b.fault({ kind: 'stall', channel: 'rpmsg-echo' });
      for (const t of ['a', 'b', 'c']) await b.send('rpmsg-echo', t);
      await assert.rejects(b.expect('rpmsg-echo:^a$', { timeoutMs: 50 }), timesOut);
      assert.equal(device.ringUse.rx, posted - 3, 'three RX buffers held by the stalled endpoint');
      stall.heal();
      await b.expect(['rpmsg-echo:^a$', 'rpmsg-echo:^b$', 'rpmsg-echo:^c$']);
      assert.equal(device.ringUse.rx, posted);
    });
  });

  it('a firmware whose replies find no buffer during a long stall carries on once it heals', async () => {
    await echoBoard(async (b) => {
      b.fault({ kind: 'stall', channel: 'rpmsg-echo' }, 20_000);
      // 256 RX buffers: the 257th reply waits for one (RPMSG_SEND_TIMEOUT_MS, 15 s) and gives up (-ETIMEDOUT, 116 in picolibc).
      for (let i = 0; i < 258; i++) await b.send('rpmsg-echo', `s${i}`);
      await b.expect('trace:echo: reply to 0x400 failed: -116', { timeoutMs: 20_000 });
      await b.wait(5_000);
      await b.send('rpmsg-echo', 'alive');
      await b.expect('rpmsg-echo:^alive$');
    });
  });

  it('crashes the core after N messages to the host', async () => {
    await echoBoard(async (b) => {
      b.fault({
        kind: 'crash',
        core: 'rproc0',
        crashType: 'watchdog',
        trigger: { afterMessages: 2, direction: 'to-host' },
      });
      await b.send('rpmsg-echo', 'one');
      await b.expect('rpmsg-echo:^one$');
      assert.equal(b.rproc('rproc0').state, 'running');
      await b.send('rpmsg-echo', 'two');
      await b.expect(['rpmsg-echo:^two$', 'state:^crashed$']);
      assert.equal(b.rproc('rproc0').crash.count, 1);
    });
  });

  it('crashes the core a given time after the fault is armed', async () => {
    await echoBoard(async (b) => {
      const armed = b.clock.now();
      b.fault({ kind: 'crash', core: 'rproc0', crashType: 'fatal', trigger: { afterMs: 30 } });
      const [m] = await b.expect('state:^crashed$');
      const at = (m?.line.at ?? 0) - armed;
      assert.ok(at >= 30 && at < 31, `crashed ${at} ms after arming`);
    });
  });

  it('crashes the core on a matching line', async () => {
    const b = await BoardSession.open({ firmware: { rproc0: 'echo.elf' }, recovery: { rproc0: false } });
    try {
      b.fault({
        kind: 'crash',
        core: 'rproc0',
        crashType: 'mmu',
        trigger: { onLine: parseLinePattern('uart:firmware up', 'x') },
      });
      await b.boot('rproc0');
      await b.expect(['uart:firmware up', 'state:^crashed$']);
    } finally {
      await b.close();
    }
  });
});
