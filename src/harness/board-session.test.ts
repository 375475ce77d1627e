// The board session's steps on real firmware (the C echo on the rv32 core, deterministic unless
// said): expectations on UART, trace, channel and state lines; a timeout that names the pattern,
// where it looked and the last line, in virtual time; --fail-on ending the run; crash and manual
// recovery; a coredump gdb can read; the same expectations with the cores in worker threads.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoardSession } from './board-session.ts';
import { HarnessError } from './harness-error.ts';

async function withBoard<T>(
  body: (b: BoardSession) => Promise<T>,
  options: Parameters<typeof BoardSession.open>[0] = {},
): Promise<T> {
  const board = await BoardSession.open({ firmware: { rproc0: 'echo.elf' }, ...options });
  try {
    return await body(board);
  } finally {
    await board.close();
  }
}

function rejectsWith(kind: HarnessError['kind'], message: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof HarnessError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  };
}

describe('BoardSession', () => {
  it('boots, and expects UART, trace, channel and state lines in order', async () => {
    await withBoard(async (b) => {
      await b.boot('rproc0');
      // The state changes when the boot completes, before the firmware gets to print.
      const [running, up] = await b.expect(['rproc0/state:^running$', 'uart:^echo: firmware up$']);
      assert.equal(up?.line.core, 'rproc0');
      assert.equal(running?.line.source, 'state');
      await b.send('rpmsg-echo', 'hello');
      await b.expect(['rpmsg-echo:^hello$', 'trace:echo: first message, 5 bytes']);
      await b.send('rpmsg-echo', 'two\nlines', { core: 'rproc0' });
      const m = await b.expect(['rproc0/rpmsg-echo:^two$', 'rpmsg-echo:^lines$']);
      assert.equal(m.length, 2);
    });
  });

  it('times out in virtual time, naming the pattern, where it looked and the last line there', async () => {
    await withBoard(async (b) => {
      await b.boot('rproc0');
      const before = b.clock.now();
      const t0 = performance.now();
      await assert.rejects(
        b.expect('uart:never printed', { timeoutMs: 10_000 }),
        rejectsWith(
          'expect-timeout',
          /^ETIMEDOUT: expected "uart:never printed" \(UART of any core\) within 10000 ms \(virtual time\); last line on UART of any core: rproc0 uart: echo: firmware up$/,
        ),
      );
      assert.ok(b.clock.now() - before >= 10_000, 'the timeout counted virtual time');
      assert.ok(performance.now() - t0 < 8_000, '10 virtual seconds of an idle core take far less host time');
    });
  });

  it('ends the run when a --fail-on pattern matches, and refuses later steps', async () => {
    await withBoard(
      async (b) => {
        await b.boot('rproc0');
        await assert.rejects(
          b.expect('rpmsg-echo:never'),
          rejectsWith('fail-on', /^ECANCELED: --fail-on "trace:host up" matched rproc0 trace: echo: host up/),
        );
        await assert.rejects(b.wait(1), rejectsWith('fail-on', /host up/));
      },
      { failOn: ['trace:host up'] },
    );
  });

  it('crashes a core, leaves it crashed without auto recovery, and recovers it on demand', async () => {
    await withBoard(
      async (b) => {
        await b.boot('rproc0');
        await b.crash('rproc0');
        await b.expect('state:^crashed$');
        assert.equal(b.rproc('rproc0').state, 'crashed');
        await b.recover('rproc0');
        await b.send('rpmsg-echo', 'after');
        await b.expect(['state:^running$', 'rpmsg-echo:^after$']);
        await assert.rejects(
          b.crash('rproc1'),
          rejectsWith('step', /rproc1 is offline: there is nothing to crash/),
        );
      },
      { recovery: { rproc0: false }, keepCoredumps: true },
    );
  });

  it('writes a coredump of a running core as an ELF core file', async () => {
    await withBoard(async (b) => {
      await b.boot('rproc0');
      await b.expect('uart:firmware up');
      const dump = await b.coredump('rproc0');
      assert.deepEqual([...dump.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
      assert.equal(dump[16], 4, 'e_type ET_CORE');
      assert.equal(b.coredumps.length, 1);
    });
  });

  it('says which channels exist when the one named is never announced', async () => {
    await withBoard(async (b) => {
      await b.boot('rproc0');
      await assert.rejects(
        b.send('nope', 'x', { timeoutMs: 50 }),
        rejectsWith(
          'step',
          /no channel "nope" announced by any core within 50 ms \(virtual time\) \(channels now: rproc0\/rpmsg-echo\)/,
        ),
      );
    });
  });

  it('refuses a pattern naming a core the board does not have', async () => {
    await withBoard(async (b) => {
      await assert.rejects(
        b.expect('rproc7/uart:x'),
        /ENODEV: no core "rproc7" on this board \(cores: rproc0, rproc1\)/,
      );
    });
  });

  it('runs the same expectations with the cores in worker threads, on host time', async () => {
    await withBoard(
      async (b) => {
        assert.equal(b.clock.virtual, false);
        await b.boot('rproc1');
        await b.expect('rproc1/uart:rpmsg-echo firmware up', { timeoutMs: 20_000 });
        await b.send('rpmsg-echo', 'threaded', { core: 'rproc1', timeoutMs: 20_000 });
        await b.expect('rproc1/rpmsg-echo:^threaded$', { timeoutMs: 20_000 });
        b.lines.pollTraces();
        assert.ok(
          b.lines.lines.some((l) => l.source === 'trace' && l.text === 'rpmsg-echo: ready'),
          'the trace buffer is read on host time too',
        );
      },
      { deterministic: false, firmware: { rproc1: 'rpmsg-echo' } },
    );
  });
});
