// The whole virtual SoC in deterministic mode (cores in the host thread under the scheduler, on
// virtual time): the same scenario twice gives the same timeline to the nanosecond and the same
// guest instruction counts, even when the host's own pace differs between the runs; timers,
// watchdogs and the CLINT run on virtual time (a 100 ms watchdog bites after 100 virtual ms, in
// far less host time); crash, coredump and recovery take no virtual time; close leaves nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from '../virtual-soc.ts';
import { defaultFirmwareStore } from '../default-firmware.ts';
import { CORE_WORD } from '../core-block.ts';
import type { RpmsgChannel } from '../../rpmsg/host/rpmsg-channel.ts';
import type { SocScheduler } from './soc-scheduler.ts';
import '../../cpu/core-kinds.ts';

function scheduledSoc(firmware: Record<string, string>, quantumNs?: number): VirtualSoc {
  return new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware,
    scheduler: quantumNs === undefined ? true : { quantumNs },
  });
}

function schedulerOf(soc: VirtualSoc): SocScheduler {
  const s = soc.scheduler;
  assert.ok(s !== undefined, 'the SoC runs under a scheduler');
  return s;
}

function instret(soc: VirtualSoc, core: string): number {
  const b = soc.core(core).block;
  return (b.load(CORE_WORD.INSTRET_HI) >>> 0) * 0x1_0000_0000 + (b.load(CORE_WORD.INSTRET_LO) >>> 0);
}

/** Send and wait for the answer on a fresh endpoint. */
async function request(ch: RpmsgChannel, payload: Uint8Array): Promise<Uint8Array> {
  const ept = ch.open();
  const reply = new Promise<Uint8Array>((resolve) => ept.setCallback((d) => resolve(d.slice())));
  await ept.send(payload);
  const got = await reply;
  ept.destroy();
  return got;
}

/**
 * Boot the rv32 echo firmware and the js crasher, echo 20 messages of assorted sizes through
 * each, and log every event with the virtual time and the rv32 core's retired instructions.
 * `hostJitter` makes the host sleep a pseudo-random number of host ms between messages.
 */
async function echoScenario(hostJitter: boolean): Promise<string[]> {
  const soc = scheduledSoc({ rproc0: 'echo.elf', rproc1: 'crasher' });
  const s = schedulerOf(soc);
  const log: string[] = [];
  const at = (): string => `${s.now}ns/${instret(soc, 'rproc0')}i`;
  soc.on('uart', (e) => log.push(`${at()} uart ${e.core} ${JSON.stringify(e.text)}`));
  soc.rpmsg.on('channel', (e) => log.push(`${at()} channel ${e.action} ${e.channel.name}`));
  let jitter = 7;
  try {
    await soc.start();
    await soc.rproc('rproc0').boot();
    await soc.rproc('rproc1').boot();
    const chs = [
      await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0' }),
      await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc1' }),
    ];
    for (let i = 0; i < 20; i++) {
      for (const ch of chs) {
        const payload = new Uint8Array(1 + ((i * 97) % 496)).map((_, j) => (i + j) & 0xff);
        const got = await request(ch, payload);
        assert.deepEqual(got, payload, `echo ${i} on ${ch.name}`);
        log.push(`${at()} echo ${ch.name} ${got.length}`);
        if (hostJitter) {
          jitter = (jitter * 1103515245 + 12345) & 0x7fffffff;
          await new Promise((r) => setTimeout(r, jitter % 4));
        }
      }
    }
    log.push(`${at()} trace ${JSON.stringify(soc.rproc('rproc0').resources.readTrace(0))}`);
  } finally {
    await soc.close();
  }
  return log;
}

describe('deterministic SoC (cores in the host thread on virtual time)', () => {
  it('reproduces a whole run to the nanosecond and the instruction, whatever the host pace', async () => {
    const first = await echoScenario(false);
    const second = await echoScenario(true);
    assert.equal(first.filter((l) => / echo /.test(l)).length, 40);
    assert.deepEqual(second, first);
    // The timeline moves forward, and the rv32 core does real work for every echo.
    const echoes = first.filter((l) => / echo rpmsg-echo /.test(l)).map((l) => l.split(' ')[0] ?? '');
    const insns = echoes.map((t) => Number(t.split('/')[1]?.replace('i', '')));
    for (let i = 1; i < insns.length; i++) {
      const d = (insns[i] ?? 0) - (insns[i - 1] ?? 0);
      assert.ok(d > 100 && d < 20_000, `echo ${i} took ${d} guest instructions`);
    }
  });

  it('keeps the C watchdog sample alive on its CLINT timer, then bites 100 virtual ms after the last kick', async () => {
    const run = async (): Promise<{ starvedAt: number; bitAt: number; hostMs: number }> => {
      const soc = scheduledSoc({ rproc0: 'watchdog.elf' });
      const s = schedulerOf(soc);
      const rproc = soc.rproc('rproc0');
      rproc.crash.recoveryDisabled = true;
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('watchdog', { rproc });
        const t0 = performance.now();
        // A virtual second of kicking every 20 ms: no bite.
        await s.delay(1000);
        assert.equal(rproc.state, 'running');
        assert.ok(s.now >= 1e9);
        const crash = rproc.next('crash');
        const reply = await request(ch, new TextEncoder().encode('starve'));
        assert.equal(new TextDecoder().decode(reply), 'starving');
        const starvedAt = s.now;
        let bitAt = 0;
        const c = await crash.then((e) => {
          bitAt = s.now;
          return e;
        });
        assert.equal(c.typeName, 'watchdog');
        return { starvedAt, bitAt, hostMs: performance.now() - t0 };
      } finally {
        await soc.close();
      }
    };
    const a = await run();
    const b = await run();
    assert.deepEqual({ ...b, hostMs: 0 }, { ...a, hostMs: 0 });
    const waited = (a.bitAt - a.starvedAt) / 1e6;
    assert.ok(waited >= 80 && waited <= 101, `bit ${waited} virtual ms after the last reply`);
    assert.ok(a.hostMs < 1000, `1.1 virtual s took ${a.hostMs.toFixed(0)} host ms`);
  });

  it('streams js sensor readings at the period on the virtual clock', async () => {
    const soc = scheduledSoc({ rproc1: 'sensor' });
    const s = schedulerOf(soc);
    try {
      await soc.start();
      await soc.rproc('rproc1').boot();
      const ch = await soc.rpmsg.waitForChannel('sensor', { rproc: 'rproc1' });
      const ept = ch.open();
      const times: number[] = [];
      const ten = new Promise<void>((resolve) =>
        ept.setCallback((data) => {
          const r = JSON.parse(new TextDecoder().decode(data)) as { t: number };
          times.push(r.t);
          if (times.length === 10) resolve();
        }),
      );
      const t0 = performance.now();
      await ept.send(new TextEncoder().encode('250'));
      await ten;
      for (let i = 1; i < times.length; i++) {
        const d = (times[i] ?? 0) - (times[i - 1] ?? 0);
        assert.ok(d >= 250 && d < 250.01, `reading ${i} came ${d} virtual ms after the one before`);
      }
      assert.ok(s.now >= 2.25e9);
      assert.ok(performance.now() - t0 < 2000, '2.25 virtual s in less host time');
    } finally {
      await soc.close();
    }
  });

  it('crashes, dumps and recovers an rv32 core in no virtual time, then echoes again', async () => {
    const soc = scheduledSoc({ rproc0: 'crash.elf', rproc1: 'rpmsg-echo' });
    const s = schedulerOf(soc);
    const rproc = soc.rproc('rproc0');
    rproc.coredump.mode = 'enabled';
    try {
      await soc.start();
      await rproc.boot();
      await soc.rproc('rproc1').boot();
      const ch = await soc.rpmsg.waitForChannel('crasher', { rproc });
      const other = (await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1' })).open();
      const marks: Record<string, number> = {};
      rproc.on('crash', () => (marks['crash'] = s.now));
      rproc.on('coredump', () => (marks['dump'] = s.now));
      rproc.on('recovery', (e) => (marks[e.phase] = s.now));
      const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
      const crash = rproc.next('crash');
      await ch.open().send(new TextEncoder().encode('store'));
      const c = await crash;
      assert.equal(c.typeName, 'mmufault');
      assert.equal(c.detail?.tval, 0x1000);
      assert.match(c.detail.symbol ?? '', /crash_store/);
      // The other core keeps running meanwhile in worker mode; here it waits, as the clock does.
      await other.send(new TextEncoder().encode('during recovery'));
      assert.equal((await recovered).phase, 'done');
      assert.equal(marks['crash'], marks['done']);
      assert.equal(marks['dump'], marks['crash']);
      const again = await soc.rpmsg.waitForChannel('crasher', { rproc });
      const reply = await request(again, new TextEncoder().encode('hello again'));
      assert.equal(new TextDecoder().decode(reply), 'hello again');
      assert.equal(rproc.state, 'running');
    } finally {
      await soc.close();
    }
  });

  it('keeps the host responsive while an rv32 core computes without ever sleeping', async () => {
    const soc = scheduledSoc({ rproc0: 'bench.elf' });
    const s = schedulerOf(soc);
    const rproc = soc.rproc('rproc0');
    try {
      await soc.start();
      await rproc.boot();
      // The host's own macrotasks still run between quanta…
      let turns = 0;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(() => r(turns++)));
      assert.equal(turns, 20);
      // …its virtual timers fire on the core's time, 10 ns an instruction…
      const before = s.now;
      await s.delay(20);
      assert.ok(s.now >= before + 20e6 && s.now < before + 20e6 + s.quantumNs);
      assert.ok(s.stats.quanta >= 200, `${s.stats.quanta} quanta of 100 µs in 20 ms`);
      // …and the core stops when told.
      await rproc.shutdown();
      assert.equal(soc.core('rproc0').running, false);
    } finally {
      await soc.close();
    }
  });

  it('leaves no timer or immediate behind after close', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const soc = scheduledSoc({ rproc0: 'watchdog.elf', rproc1: 'sensor' });
    await soc.start();
    await soc.rproc('rproc0').boot();
    await soc.rproc('rproc1').boot();
    await soc.rpmsg.waitForChannel('sensor', { rproc: 'rproc1' });
    // The watchdog sample's 20 ms timer keeps the scheduler ticking until close.
    assert.ok(!schedulerOf(soc).parked);
    await soc.close();
    await new Promise((r) => setImmediate(r));
    const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    assert.deepEqual(after, before);
    assert.ok(schedulerOf(soc).parked);
  });
});
