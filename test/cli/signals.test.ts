// How the real process ends on a signal and when its reader goes away (docs/cli.md): SIGTERM,
// SIGINT and SIGHUP shut every core down in order and exit 128 + the signal number; a second
// signal forces the exit; stdout closed (rproc demo | head -1) ends quietly with 141; and no
// temporary folder is left behind on any of these paths.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import {
  entries,
  removeScratch,
  RprocProcess,
  rproc,
  scratchDir,
  STACK_FRAME,
  type CliEvent,
} from './cli-process.ts';

const tmp = scratchDir('signals-tmp');
after(() => removeScratch(tmp));
/** The CLI's own temporary folders go to `tmp`, so that a leak shows there (and only ours counts). */
const env = { TMPDIR: tmp };
const ours = (): string[] => entries(tmp).filter((n) => n.startsWith('rproc-'));

const isEvent =
  (event: string, fields: Record<string, unknown> = {}) =>
  (e: CliEvent): boolean =>
    e.event === event && Object.entries(fields).every(([k, v]) => e[k] === v);

describe('signals end a run in order', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const status = 128 + constants.signals[signal];
    it(`${signal}: every core shut down, then exit ${status}`, async () => {
      const p = new RprocProcess(['run', 'echo.elf', '--json'], { env });
      await p.waitFor(isEvent('ready'));
      p.child.kill(signal);
      const r = await p.done;
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stderr, '');
      const evs = p.events();
      const at = evs.findIndex(isEvent('signal', { signal }));
      assert.ok(at > 0, 'a signal event');
      const after = evs.slice(at);
      assert.ok(
        after.some(isEvent('state', { core: 'rproc0', from: 'running', to: 'offline' })),
        'rproc0 stopped',
      );
      assert.ok(after.some(isEvent('state', { core: 'rproc0', to: 'deleted' })));
      assert.deepEqual(evs.at(-1), { event: 'end', t: evs.at(-1)?.t, status, reason: `ended by ${signal}` });
    });
  }

  it('a second signal forces the exit, with its own status and one line saying so', async () => {
    const p = new RprocProcess(['run', 'echo.elf', '--json'], { env });
    await p.waitFor(isEvent('ready'));
    p.child.kill('SIGTERM');
    p.child.kill('SIGINT');
    const r = await p.done;
    // Both are pending at once: the kernel may deliver SIGINT (2) before SIGTERM (15); whichever
    // comes second forces the exit and names itself.
    const forced = /^rproc: (SIGINT|SIGTERM) again: leaving without an orderly shutdown\n$/.exec(r.stderr);
    assert.ok(forced !== null, r.stderr);
    assert.equal(r.status, forced[1] === 'SIGINT' ? 130 : 143);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  });

  it('--console: Ctrl-C (SIGINT) ends the run like anywhere else', async () => {
    const p = new RprocProcess(['run', 'echo.elf', '--console', 'rpmsg-echo', '--json'], {
      env,
      keepStdinOpen: true,
    });
    await p.waitFor(isEvent('channel', { action: 'add', channel: 'rpmsg-echo' }));
    p.child.stdin?.write('ping\n');
    await p.waitFor(isEvent('rx', { text: 'ping' }));
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.status, 130, r.stderr);
    assert.ok(p.events().some(isEvent('state', { core: 'rproc0', to: 'offline' })));
  });

  it('demo: SIGINT mid-story shuts the cores down, exits 130 and removes its temporary folder', async () => {
    const p = new RprocProcess(['demo', '--json'], { env });
    await p.waitFor(isEvent('state', { core: 'rproc1', to: 'running' }));
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.status, 130, r.stderr);
    assert.ok(p.events().some(isEvent('state', { core: 'rproc1', to: 'deleted' })));
    assert.deepEqual(ours(), []);
  });
});

describe('stdout closed by its reader', () => {
  it('rproc demo | head -1: ends quietly with 141, no stack trace, no temporary folder left', async () => {
    const p = new RprocProcess(['demo'], { env });
    await new Promise<void>((resolve) => p.child.stdout?.once('data', () => resolve()));
    p.child.stdout?.destroy();
    const r = await p.done;
    assert.equal(r.status, 141, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(ours(), []);
  });
});

describe('temporary folders', () => {
  it('the demo leaves none in the temporary directory, with or without --json', async () => {
    const before = ours();
    for (const args of [['demo'], ['demo', '--json'], ['demo', '--deterministic']]) {
      const r = await rproc(args, { env });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.deepEqual(ours(), before);
  });

  it('failures leave none either', async () => {
    const before = ours();
    for (const args of [
      ['demo', '--coredump', '/dev/null'],
      ['run', 'no/such.elf'],
      ['run', 'hello.elf', '--timeout', 'x'],
    ])
      assert.notEqual((await rproc(args, { env })).status, 0);
    assert.deepEqual(ours(), before);
  });
});
