// `rproc run --gdb/--gdb-wait/--monitor`, spawned as a user runs it: the gdb event names the port
// chosen (--gdb 0), gdb-multiarch debugs the echo firmware's debug build and ends the run with kill,
// the --timeout does not count the time gdb holds the core, the monitor answers commands piped to
// stdin, and bad option values are one line with exit status 2 (1 for a js core under --gdb).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { needTools } from '../../test/support/cross-tools.ts';
import { RspClient } from '../../test/support/rsp-client.ts';
import { parseGdbAddress } from './gdb-options.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const RPROC = join(ROOT, 'bin', 'rproc.mjs');
const gdb = needTools({ gdb: ['gdb-multiarch'] });

interface Spawned {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first JSON event of this type. */
  event(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function rproc(args: readonly string[], stdin?: string): Spawned {
  const child = spawn(process.execPath, [RPROC, ...args], { cwd: ROOT });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  if (stdin !== undefined) child.stdin.end(stdin);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    out: () => out,
    exited,
    async event(type, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          const e = JSON.parse(line) as Record<string, unknown>;
          if (e['event'] === type) return e;
        }
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no ${type} event; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe('rproc run --gdb, --gdb-wait, --monitor', () => {
  it('parses the gdb address forms QEMU and users write', () => {
    const table: readonly (readonly [string, string, number])[] = [
      ['1234', '127.0.0.1', 1234],
      [':1234', '127.0.0.1', 1234],
      ['tcp::1234', '127.0.0.1', 1234],
      ['0', '127.0.0.1', 0],
      ['0.0.0.0:1234', '0.0.0.0', 1234],
      ['tcp:localhost:77', 'localhost', 77],
      ['[::1]:5000', '::1', 5000],
    ];
    for (const [text, host, port] of table) assert.deepEqual(parseGdbAddress(text), { host, port }, text);
    for (const bad of ['', 'abc', '1234x', '70000', 'tcp:', 'host:', '-1', '[::1]'])
      assert.throws(() => parseGdbAddress(bad), /--gdb takes PORT, tcp::PORT or HOST:PORT/, bad);
  });

  it('refuses bad option combinations with one line and status 2, a js core under --gdb with status 1', () => {
    const cases: readonly (readonly [readonly string[], number, RegExp])[] = [
      [['--gdb-wait'], 2, /--gdb-wait needs --gdb PORT/],
      [['--gdb', 'nope'], 2, /--gdb takes PORT, tcp::PORT or HOST:PORT .*"nope"/],
      [['--monitor', '--console', 'x'], 2, /--monitor and --console both want stdin/],
      [['--monitor', '--uart-stdin'], 2, /--monitor and --uart-stdin both want stdin/],
    ];
    for (const [extra, status, message] of cases) {
      const r = spawnSync(process.execPath, [RPROC, 'run', 'echo.elf', ...extra], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(r.status, status, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const js = spawnSync(process.execPath, [RPROC, 'run', 'rpmsg-echo', '--gdb', '0', '--timeout', '1'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(js.status, 1, js.stderr);
    assert.match(js.stderr, /EINVAL: --gdb: rproc1 is a js core, which gdb cannot debug/);
  });

  it(
    'serves gdb-multiarch, which breaks in echo_cb when --send talks to the core, and ends the run with kill',
    {
      skip: gdb.skip,
    },
    async () => {
      const run = rproc([
        'run',
        'firmware/prebuilt/echo-debug.elf',
        '--gdb',
        '0',
        '--gdb-wait',
        '--send',
        'rpmsg-echo=hi',
        '--json',
      ]);
      try {
        const ev = await run.event('gdb');
        assert.equal(ev['host'], '127.0.0.1');
        assert.deepEqual(ev['held'], ['rproc0']);
        const port = Number(ev['port']);
        assert.ok(port > 0);
        const tool = gdb.get('gdb');
        const g = spawnSync(
          tool,
          [
            '-nx',
            '-batch',
            '-ex',
            'file firmware/prebuilt/echo-debug.elf',
            '-ex',
            `target remote :${port}`,
            '-ex',
            'break echo_cb',
            '-ex',
            'continue',
            '-ex',
            'bt 2',
            '-ex',
            'kill',
          ],
          { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
        );
        assert.match(g.stdout, /Breakpoint 1, echo_cb \(.*len=2/, g.stdout + g.stderr);
        assert.match(g.stdout, /#1 +.* in deliver \(/);
        assert.equal(await run.exited, 0, run.out());
        assert.match(run.out(), /"event":"gdb-connect"/);
        assert.match(run.out(), /"event":"gdb-kill"/);
      } finally {
        run.child.kill();
      }
    },
  );

  it('does not count the time gdb holds the core against --timeout', async () => {
    const spawnedAt = Date.now();
    const run = rproc(['run', 'echo.elf', '--gdb', '0', '--gdb-wait', '--timeout', '1', '--json']);
    try {
      const port = Number((await run.event('gdb'))['port']);
      // Everything up to here (start, boot) may count against the timeout: at most this much.
      const beforeHoldMs = Date.now() - spawnedAt;
      const c = await RspClient.connect(port);
      await c.request('qSupported:swbreak+');
      // Held at the entry point well past the timeout: the run goes on.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(run.child.exitCode, null, `the run ended while gdb held the core:\n${run.out()}`);
      const detachedAt = Date.now();
      assert.equal(await c.request('D'), 'OK');
      assert.equal(await run.exited, 0, run.out());
      // --timeout counts from the command's start (boot included) but not the time gdb held the
      // core: what the boot did not use of the second is left after the detach.
      const after = Date.now() - detachedAt;
      const left = 1000 - beforeHoldMs - 100;
      assert.ok(after >= left, `ended ${after} ms after the detach; ${beforeHoldMs} ms went before the hold`);
      assert.match(run.out(), /echo: firmware up/);
    } finally {
      run.child.kill();
    }
  });

  it('answers monitor commands piped to stdin; quit ends the run', async () => {
    const run = rproc(
      ['run', 'echo.elf', '--monitor', '--timeout', '60'],
      'info cores\nx/2w 0x80000000\nstop rproc0\ncont rproc0\nbogus\nquit\n',
    );
    try {
      assert.equal(await run.exited, 0, run.out());
      const out = run.out();
      assert.match(out, /^\* rproc0 +rv32 +running/m);
      assert.match(out, /^80000000: 0x[0-9a-f]{8} 0x[0-9a-f]{8}$/m);
      assert.match(out, /^rproc0: stopped \(halt, pc 0x8/m);
      assert.match(out, /^rproc0: running$/m);
      assert.match(out, /^error: EINVAL: unknown command "bogus"/m);
    } finally {
      run.child.kill();
    }
  });
});
