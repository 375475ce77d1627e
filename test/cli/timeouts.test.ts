// --timeout through the real process: it bounds every wait (a channel that never comes, the
// console), counts virtual time in deterministic mode, and accepts its documented maximum without
// overflowing; deterministic mode without it runs until the cores go idle instead of ending at once.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RprocProcess, eventsOf, rproc, type CliEvent } from './cli-process.ts';

const last = (evs: CliEvent[], event: string): CliEvent | undefined =>
  evs.filter((e) => e.event === event).at(-1);

describe('--deterministic without --timeout', () => {
  it('runs until the cores go idle, then shuts down and exits 0', async () => {
    const r = await rproc(['run', 'hello.elf', '--deterministic', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const evs = eventsOf(r.stdout);
    assert.ok(evs.some((e) => e.event === 'trace' && e['text'] === 'hello: firmware up'));
    assert.equal(last(evs, 'end')?.['reason'], 'the cores went idle');
  });

  it('with --timeout 5 runs five virtual seconds, skipped through while idle', async () => {
    const t0 = performance.now();
    const r = await rproc(['run', 'hello.elf', '--deterministic', '--timeout', '5', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const end = last(eventsOf(r.stdout), 'end');
    assert.equal(end?.['reason'], '--timeout 5 reached');
    assert.ok(end.t >= 5000 && end.t < 5001, String(end.t));
    assert.ok(performance.now() - t0 < 30_000);
  });
});

describe('waiting for a channel that never comes', () => {
  it('--timeout 2 bounds the wait, and the error lists the channels that did come', async () => {
    const r = await rproc(['run', 'echo.elf', '--send', 'nope=hi', '--timeout', '2', '--json']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /^rproc run: ETIMEDOUT: no channel "nope" announced within [\d.]+ m?s \(--timeout 2\); channels announced: rpmsg-echo \(rproc0\)\n$/,
    );
    const error = last(eventsOf(r.stdout), 'error');
    assert.ok(error !== undefined && error.t >= 1990 && error.t < 6000, String(error?.t));
  });

  it('without --timeout, deterministic mode waits 10 virtual seconds, not 10 host seconds', async () => {
    const t0 = performance.now();
    const r = await rproc(['run', 'echo.elf', '--send', 'nope=hi', '--deterministic', '--json']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /no channel "nope" announced within 10 s \(no --timeout: channels are waited for 10 s\); channels announced: rpmsg-echo \(rproc0\)/,
    );
    const error = last(eventsOf(r.stdout), 'error');
    assert.ok(error !== undefined && error.t >= 10_000 && error.t < 10_001, String(error?.t));
    assert.ok(performance.now() - t0 < 30_000);
  });
});

describe('--timeout bounds the console too', () => {
  it('--console with stdin left open ends at --timeout with status 0', async () => {
    const p = new RprocProcess(['run', 'echo.elf', '--console', 'rpmsg-echo', '--timeout', '2', '--json'], {
      keepStdinOpen: true,
    });
    const r = await p.done;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(last(p.events(), 'end')?.['reason'], '--timeout 2 reached');
  });
});

describe('the largest --timeout', () => {
  it('2147483 s is accepted and does not fire at once (a Node timer would overflow one second later)', async () => {
    const p = new RprocProcess(['run', 'hello.elf', '--timeout', '2147483', '--json']);
    await p.waitFor((e) => e.event === 'ready');
    // Still running a second later: the timer did not overflow into an immediate expiry.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(p.child.exitCode, null);
    p.child.kill('SIGTERM');
    assert.equal((await p.done).status, 143);
  });
});
