// The SoC scheduler on scripted clients: lockstep ticks in board order, the clock moving by the
// longest run, idle time skipped to the earliest deadline, parking with no work, kicks during a
// tick deferred to the next one, holds, removal mid-tick, 'realtime' pacing, and bad options.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SocScheduler, type ScheduledClient } from './soc-scheduler.ts';
import { RprocError } from '../../util/errors.ts';

/** A client whose work is a list of run lengths (ns); it logs what the scheduler does with it. */
class Scripted implements ScheduledClient {
  readonly order: number;
  readonly log: string[];
  readonly sched: SocScheduler;
  runs: number[];
  deadline: number | undefined;
  onRun: (() => void) | undefined;
  onService: (() => void) | undefined;

  constructor(sched: SocScheduler, order: number, runs: number[], log: string[]) {
    this.sched = sched;
    this.order = order;
    this.runs = runs;
    this.log = log;
  }

  runnable(): boolean {
    return this.runs.length > 0 || (this.deadline !== undefined && this.deadline <= this.sched.now);
  }

  runFor(budgetNs: number): number {
    if (this.deadline !== undefined && this.deadline <= this.sched.now) this.deadline = undefined;
    const want = this.runs.shift() ?? 0;
    const used = Math.min(want, budgetNs);
    if (want > budgetNs) this.runs.unshift(want - budgetNs);
    this.log.push(`${this.order}@${this.sched.now}+${used}`);
    this.onRun?.();
    return used;
  }

  serviceHost(): void {
    this.log.push(`host${this.order}@${this.sched.now}`);
    this.onService?.();
  }

  nextDeadlineNs(): number | undefined {
    return this.deadline;
  }

  tickDone(nowNs: number): void {
    this.log.push(`done${this.order}@${nowNs}`);
  }
}

function withScheduler(options: ConstructorParameters<typeof SocScheduler>[0] = {}): {
  sched: SocScheduler;
  log: string[];
  client: (order: number, runs: number[]) => Scripted;
} {
  const sched = new SocScheduler({ quantumNs: 1000, ...options });
  const log: string[] = [];
  return { sched, log, client: (order, runs) => new Scripted(sched, order, runs, log) };
}

describe('SocScheduler', () => {
  it('runs due clients in board order from the tick start; the clock moves by the longest run', async () => {
    const { sched, log, client } = withScheduler();
    const b = client(1, [300]);
    const a = client(0, [700, 200]);
    sched.add(b);
    sched.add(a);
    await sched.settled();
    assert.deepEqual(log, [
      '0@0+700',
      'host0@700',
      '1@0+300',
      'host1@300',
      'done0@700',
      'done1@700',
      '0@700+200',
      'host0@900',
      'done0@900',
      'done1@900',
    ]);
    assert.equal(sched.now, 900);
    assert.deepEqual(sched.stats, { ticks: 2, quanta: 3, skips: 0 });
  });

  it('cuts a long run into quanta so that others get their turn', async () => {
    const { sched, log, client } = withScheduler();
    sched.add(client(0, [2500]));
    sched.add(client(1, [100, 100, 100]));
    await sched.settled();
    const runs = log.filter((l) => /^\d@/.test(l));
    assert.deepEqual(runs, ['0@0+1000', '1@0+100', '0@1000+1000', '1@1000+100', '0@2000+500', '1@2000+100']);
    assert.equal(sched.now, 2500);
  });

  it('skips idle time to the earliest deadline in the future, then parks with none', async () => {
    const { sched, log, client } = withScheduler();
    const a = client(0, []);
    const b = client(1, []);
    a.deadline = 5_000_000;
    b.deadline = 2_000_000;
    sched.add(a);
    sched.add(b);
    await sched.settled();
    assert.deepEqual(
      log.filter((l) => /^\d@/.test(l)),
      ['1@2000000+0', '0@5000000+0'],
    );
    assert.equal(sched.now, 5_000_000, 'a run that used no time does not move the clock');
    assert.equal(sched.stats.skips, 2);
    assert.ok(sched.parked);
  });

  it('ignores a deadline at or before now that made nothing runnable (no busy loop)', async () => {
    const { sched, client } = withScheduler();
    const a = client(0, []);
    a.runnable = () => false;
    a.deadline = 0;
    sched.add(a);
    await sched.settled();
    assert.equal(sched.now, 0);
    assert.deepEqual(sched.stats, { ticks: 0, quanta: 0, skips: 0 });
  });

  it('defers a client kicked during a tick to the next tick (nothing arrives before it was sent)', async () => {
    const { sched, log, client } = withScheduler();
    const a = client(0, [400]);
    const b = client(1, []);
    a.onService = () => {
      b.runs.push(50);
      sched.wake();
    };
    sched.add(a);
    sched.add(b);
    await sched.settled();
    const runs = log.filter((l) => /^\d@/.test(l));
    assert.deepEqual(runs, ['0@0+400', '1@400+50']);
  });

  it('nudges the clock when a client keeps running without using time', async () => {
    const { sched, client } = withScheduler();
    const a = client(0, new Array<number>(200).fill(0));
    sched.add(a);
    await sched.settled();
    assert.equal(sched.stats.quanta, 200);
    assert.equal(sched.now, 3, 'one ns every 64 empty ticks');
  });

  it('wakes from parked on a kick and parks again when the work is done', async () => {
    const { sched, client } = withScheduler();
    const a = client(0, []);
    sched.add(a);
    await sched.settled();
    assert.ok(sched.parked);
    a.runs.push(10);
    sched.wake();
    assert.ok(!sched.parked);
    await sched.settled();
    assert.equal(sched.now, 10);
  });

  it('runs nothing while a hold is on, then goes on where it was', async () => {
    const { sched, client } = withScheduler();
    let held = true;
    sched.addHold(() => held);
    const a = client(0, [10]);
    sched.add(a);
    await new Promise((r) => setTimeout(r, 15));
    assert.equal(sched.stats.quanta, 0);
    assert.equal(sched.now, 0);
    held = false;
    await sched.settled();
    assert.equal(sched.now, 10);
  });

  it('lets a client leave in the middle of a tick', async () => {
    const { sched, log, client } = withScheduler();
    const a = client(0, [100]);
    const b = client(1, [100, 100]);
    a.onRun = () => sched.remove(b);
    sched.add(a);
    sched.add(b);
    await sched.settled();
    assert.deepEqual(
      log.filter((l) => /^\d@/.test(l)),
      ['0@0+100'],
    );
  });

  it("in 'realtime' does not run virtual time ahead of host time", async () => {
    const { sched, client } = withScheduler({ pace: 'realtime' });
    const a = client(0, []);
    a.deadline = 30_000_000; // 30 ms
    sched.add(a);
    const t0 = performance.now();
    await sched.settled();
    const took = performance.now() - t0;
    assert.ok(took >= 25, `30 virtual ms took ${took.toFixed(1)} host ms`);
  });

  it("in 'asap' skips idle time without waiting", async () => {
    const { sched, client } = withScheduler();
    const a = client(0, []);
    a.deadline = 10_000_000_000; // 10 s
    sched.add(a);
    const t0 = performance.now();
    await sched.settled();
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(sched.now, 10_000_000_000);
  });

  it('runs the host timers of delay() on virtual time, in order, skipping idle time', async () => {
    const { sched, client } = withScheduler();
    const seen: string[] = [];
    const a = client(0, [300]);
    sched.add(a);
    const late = sched.delay(5000).then(() => seen.push(`late@${sched.now}`));
    const soon = sched.delay(0.0002).then(() => seen.push(`soon@${sched.now}`));
    await Promise.all([late, soon]);
    assert.deepEqual(seen, ['soon@300', 'late@5000000000']);
  });

  it('stops for good on close', async () => {
    const { sched, client } = withScheduler();
    const a = client(0, [1000, 1000, 1000]);
    sched.add(a);
    sched.close();
    await sched.settled();
    assert.equal(sched.stats.quanta, 0);
    assert.throws(
      () => sched.add(a),
      (e: unknown) => e instanceof RprocError && e.code === 'ESHUTDOWN',
    );
  });

  for (const [name, options] of [
    ['quantumNs 0', { quantumNs: 0 }],
    ['quantumNs NaN', { quantumNs: Number.NaN }],
    ['rv32Hz -1', { rv32Hz: -1 }],
    ['jsWorkNs Infinity', { jsWorkNs: Number.POSITIVE_INFINITY }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => new SocScheduler(options),
        (e: unknown) =>
          e instanceof RprocError && e.code === 'EINVAL' && e.message.includes(name.split(' ')[0] ?? ''),
      );
    });
  }
});
