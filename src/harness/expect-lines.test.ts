// Expectations in order over the line stream, on a clock the test moves by hand: each pattern
// matches a line after the previous match (lines from before the wait count from the cursor on),
// each has its own timeout, a timeout names the pattern and shows the last lines where it looked,
// an abort ends the wait, and --fail-on fires once on the first matching line.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import type { RunClock } from './run-clock.ts';
import { SocLines } from './soc-lines.ts';
import { parseLinePattern } from './line-pattern.ts';
import { expectLines, watchFailOn, type ExpectOutcome } from './expect-lines.ts';
import '../cpu/core-kinds.ts';

interface ManualClock extends RunClock {
  advance(ms: number): Promise<void>;
}

function manualClock(): ManualClock {
  let now = 0;
  let timers: { at: number; fire: () => void }[] = [];
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  return {
    virtual: true,
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted === true) return resolve();
        const t = { at: now + ms, fire: resolve };
        timers.push(t);
        signal?.addEventListener('abort', () => {
          timers = timers.filter((x) => x !== t);
          resolve();
        });
      }),
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        now = due.at;
        timers = timers.filter((t) => t !== due);
        due.fire();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

function rig(): {
  lines: SocLines;
  clock: ManualClock;
  say: (channel: string, text: string) => void;
  close: () => void;
} {
  const soc = new VirtualSoc({ autoBoot: false });
  const clock = manualClock();
  const lines = new SocLines(soc, clock);
  return {
    lines,
    clock,
    say: (channel, text) => lines.channelMessage('rproc0', channel, new TextEncoder().encode(text)),
    close: () => lines.close(),
  };
}

const p = (spec: string) => parseLinePattern(spec, 'test');

describe('expectLines', () => {
  it('matches the patterns in order, one line each, and says where the next wait starts', async () => {
    const r = rig();
    const pending = expectLines(r.lines, r.clock, [p('a:one'), p('a:two'), p('a:two')], {
      fromSeq: r.lines.nextSeq,
      timeoutMs: 100,
    });
    r.say('a', 'two'); // before "one": does not count for the second pattern
    r.say('a', 'one');
    r.say('a', 'two');
    await r.clock.advance(50);
    r.say('a', 'two');
    const out = await pending;
    assert.ok(out.status === 'matched');
    assert.deepEqual(
      out.matches.map((m) => m.line.seq),
      [2, 3, 4],
    );
    assert.equal(out.nextSeq, 5);
    r.close();
  });

  it('counts lines that came before the wait, from the cursor on', async () => {
    const r = rig();
    r.say('a', 'old reply');
    const cursor = r.lines.nextSeq;
    r.say('a', 'reply');
    const out = await expectLines(r.lines, r.clock, [p('reply')], { fromSeq: cursor, timeoutMs: 10 });
    assert.equal(out.status, 'matched');
    assert.equal(out.matches[0]?.line.text, 'reply');
    r.close();
  });

  it('gives each expectation its own timeout on the run clock', async () => {
    const r = rig();
    const got: { outcome?: ExpectOutcome } = {};
    const current = (): ExpectOutcome | undefined => got.outcome;
    void expectLines(r.lines, r.clock, [p('one'), p('two')], {
      fromSeq: r.lines.nextSeq,
      timeoutMs: 100,
    }).then((o) => (got.outcome = o));
    await r.clock.advance(90);
    r.say('a', 'one');
    await r.clock.advance(90); // 180 ms in all, 90 ms into the second expectation
    assert.equal(current(), undefined);
    r.say('a', 'two');
    await r.clock.advance(1);
    assert.equal(current()?.status, 'matched');
    r.close();
  });

  it('on timeout names the pattern and shows the last lines where it looked', async () => {
    const r = rig();
    const got: { outcome?: ExpectOutcome } = {};
    const current = (): ExpectOutcome | undefined => got.outcome;
    void expectLines(r.lines, r.clock, [p('one'), p('b:never')], {
      fromSeq: r.lines.nextSeq,
      timeoutMs: 100,
    }).then((o) => (got.outcome = o));
    r.say('a', 'one');
    for (let i = 0; i < 15; i++) r.say('b', `b line ${i}`);
    r.say('c', 'elsewhere');
    await r.clock.advance(99);
    assert.equal(current(), undefined);
    await r.clock.advance(1);
    const outcome = current();
    assert.ok(outcome?.status === 'timeout');
    assert.equal(outcome.index, 1);
    assert.equal(outcome.pattern.spec, 'b:never');
    assert.equal(outcome.lastLinesWhere, 'source');
    assert.deepEqual(
      outcome.lastLines.map((l) => l.text),
      Array.from({ length: 10 }, (_, i) => `b line ${i + 5}`),
    );
    r.close();
  });

  it('shows the last lines of any source when nothing came where it looked', async () => {
    const r = rig();
    r.say('a', 'something');
    const pending = expectLines(r.lines, r.clock, [p('uart:never')], {
      fromSeq: r.lines.nextSeq,
      timeoutMs: 5,
    });
    await r.clock.advance(5);
    const out = await pending;
    assert.ok(out.status === 'timeout');
    assert.equal(out.lastLinesWhere, 'anywhere');
    assert.deepEqual(
      out.lastLines.map((l) => l.text),
      ['something'],
    );
    r.close();
  });

  it('ends with aborted when its signal aborts', async () => {
    const r = rig();
    const ac = new AbortController();
    const pending = expectLines(r.lines, r.clock, [p('x')], {
      fromSeq: r.lines.nextSeq,
      timeoutMs: 1000,
      signal: ac.signal,
    });
    ac.abort();
    assert.equal((await pending).status, 'aborted');
    r.close();
  });
});

describe('watchFailOn', () => {
  it('fires once, on the first line matching any pattern', () => {
    const r = rig();
    const hits: string[] = [];
    watchFailOn(r.lines, [p('panic'), p('a:ASSERT')], (h) => hits.push(`${h.pattern.spec} ${h.line.text}`));
    r.say('b', 'ASSERT here'); // channel b: the second pattern looks at channel a only
    r.say('a', 'kernel panic');
    r.say('a', 'ASSERT failed');
    assert.deepEqual(hits, ['panic kernel panic']);
    r.close();
  });
});
