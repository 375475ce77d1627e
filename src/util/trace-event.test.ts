// The trace-event ring (newest events kept, metadata never dropped, flows with a dropped end left
// out) and the structural checker (each rule it enforces has a failing case).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TraceEventRing, type TimedTraceEvent } from './trace-event.ts';
import { checkTraceFile } from './trace-event-check.ts';

/** A message as the recorder writes one: each flow end pushed just before the slice that encloses it. */
function message(id: number, ts: number): TimedTraceEvent[] {
  return [
    { ph: 's', name: 'msg', cat: 'rpmsg', id, ts, pid: 1, tid: 2 },
    { ph: 'X', name: 'tx', cat: 'rpmsg', ts, dur: 1, pid: 1, tid: 2 },
    { ph: 'f', name: 'msg', cat: 'rpmsg', id, bp: 'e', ts: ts + 0.5, pid: 1, tid: 3 },
    { ph: 'X', name: 'rx', cat: 'rpmsg', ts: ts + 0.5, dur: 1, pid: 1, tid: 3 },
  ];
}

describe('TraceEventRing', () => {
  it('keeps the newest capacity events and counts the dropped ones', () => {
    const ring = new TraceEventRing(3);
    for (let i = 0; i < 5; i++)
      ring.push({ ph: 'i', s: 't', name: `e${i}`, cat: 'c', ts: i, pid: 1, tid: 1 });
    assert.deepEqual(
      ring.events().map((e) => e.name),
      ['e2', 'e3', 'e4'],
    );
    assert.equal(ring.dropped, 2);
    assert.equal(ring.toFile().otherData['droppedEvents'], 2);
  });

  it('keeps track names however many events are dropped', () => {
    const ring = new TraceEventRing(1);
    ring.name(1, undefined, 'rproc0');
    ring.name(1, 2, 'old');
    ring.name(1, 2, 'host ept 0x400');
    for (let i = 0; i < 10; i++)
      ring.push({ ph: 'C', name: 'vring0', cat: 'c', ts: i, pid: 1, tid: 1, args: { n: i } });
    const file = ring.toFile();
    const meta = file.traceEvents.filter((e) => e.ph === 'M');
    assert.deepEqual(
      meta.map((m) => m.args.name),
      ['rproc0', 'host ept 0x400'],
    );
    assert.deepEqual(checkTraceFile(file), []);
  });

  it('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new TraceEventRing(0), /EINVAL: trace capacity 0/);
  });

  it('writes a well-formed file whatever the capacity cuts off (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 30 }), (capacity, messages) => {
        const ring = new TraceEventRing(capacity);
        for (let m = 0; m < messages; m++) for (const e of message(m + 1, m * 10)) ring.push(e);
        const file = ring.toFile();
        assert.deepEqual(checkTraceFile(file), []);
        const flows = file.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f');
        assert.equal(flows.length % 2, 0);
        assert.equal(ring.size, Math.min(capacity, messages * 4));
      }),
    );
  });
});

describe('checkTraceFile', () => {
  const ok = (extra: object = {}): object => ({
    name: 'x',
    cat: 'c',
    ph: 'i',
    s: 't',
    ts: 1,
    pid: 1,
    tid: 1,
    ...extra,
  });
  const cases: readonly {
    readonly title: string;
    readonly events: readonly object[];
    readonly problem: RegExp;
  }[] = [
    { title: 'unknown ph', events: [ok({ ph: 'Q' })], problem: /no known ph/ },
    { title: 'missing ts', events: [ok({ ts: undefined })], problem: /ts undefined is not a time/ },
    { title: 'pid 0', events: [ok({ pid: 0 })], problem: /pid 0 is not a non-zero integer/ },
    { title: 'missing tid', events: [ok({ tid: undefined })], problem: /tid undefined/ },
    { title: 'X without dur', events: [ok({ ph: 'X' })], problem: /\(X\) has no duration/ },
    {
      title: 'counter of a string',
      events: [ok({ ph: 'C', args: { n: 'many' } })],
      problem: /series n is not a number/,
    },
    { title: 'E closing nothing', events: [ok({ ph: 'E' })], problem: /closes nothing/ },
    { title: 'B never closed', events: [ok({ ph: 'B' })], problem: /never closed/ },
    {
      title: 'flow without its end',
      events: [ok({ ph: 'X', dur: 5 }), ok({ ph: 's', id: 7 })],
      problem: /1 start\(s\) and 0 end\(s\)/,
    },
    {
      title: 'flow end before its start',
      events: [
        ok({ ph: 'X', dur: 5, ts: 10 }),
        ok({ ph: 's', id: 7, ts: 12 }),
        ok({ ph: 'X', dur: 5, ts: 0, tid: 2 }),
        ok({ ph: 'f', id: 7, ts: 1, tid: 2, bp: 'e' }),
      ],
      problem: /ends at 1 µs, before it starts at 12 µs/,
    },
    {
      title: 'flow end outside any slice',
      events: [ok({ ph: 'X', dur: 5 }), ok({ ph: 's', id: 7 }), ok({ ph: 'f', id: 7, tid: 2, bp: 'e' })],
      problem: /is not inside a slice on its thread/,
    },
    {
      title: 'thread name without tid',
      events: [{ ph: 'M', name: 'thread_name', pid: 1, args: { name: 'a' } }],
      problem: /without tid/,
    },
  ];
  for (const c of cases) {
    it(`finds: ${c.title}`, () => {
      const problems = checkTraceFile({ traceEvents: c.events });
      assert.ok(
        problems.some((p) => c.problem.test(p)),
        `expected ${String(c.problem)} among ${JSON.stringify(problems)}`,
      );
    });
  }

  it('accepts B/E pairs nested per thread and the array form', () => {
    const events = [
      ok({ ph: 'B', ts: 1 }),
      ok({ ph: 'B', ts: 2 }),
      ok({ ph: 'B', ts: 2, tid: 2 }),
      ok({ ph: 'E', ts: 3 }),
      ok({ ph: 'E', ts: 4, tid: 2 }),
      ok({ ph: 'E', ts: 5 }),
    ];
    assert.deepEqual(checkTraceFile(events), []);
  });
});
