// Core groups: cores sharing a worker thread. 16 js cores in 2 threads echoing on all 64
// endpoints; one core of a group crashing and recovering, or shut down and booted again, while its
// group mates keep echoing; an rv32 and a js core in one thread; nothing left behind after close.

import { describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import assert from 'node:assert/strict';
import { VirtualSoc } from '../virtual-soc.ts';
import { manyCoreBoard } from '../boards/many-cores.ts';
import { defaultFirmwareStore } from '../default-firmware.ts';
import type { RpmsgChannel } from '../../rpmsg/host/rpmsg-channel.ts';
import '../../cpu/core-kinds.ts';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Send `count` tagged messages (a window of 8 in flight) and check every echo, in order. */
async function echoMany(ch: RpmsgChannel, tag: string, count: number): Promise<void> {
  const ept = ch.open();
  const got: string[] = [];
  try {
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${tag}: ${got.length}/${count} echoes`)), 30_000);
      ept.setCallback((data) => {
        got.push(decode(data));
        if (got.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (let i = 0; i < count; i++) {
      while (i - got.length >= 8) await new Promise((r) => setImmediate(r));
      await ept.send(encode(`${tag}:${i}`));
    }
    await done;
    assert.deepEqual(
      got,
      Array.from({ length: count }, (_, i) => `${tag}:${i}`),
    );
  } finally {
    ept.destroy();
  }
}

/** The channels of core `core`'s rpmsg device. */
function channelsOf(soc: VirtualSoc, core: string): RpmsgChannel[] {
  const dev = soc.rpmsg.buses.find((d) => d.vdev.parentName === core);
  return dev === undefined ? [] : [...dev.channelList];
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Keep echoing on every channel of `cores` until `stop()`; resolves with the echo count. */
function keepEchoing(soc: VirtualSoc, cores: readonly string[]): { stop: () => Promise<number> } {
  let running = true;
  let total = 0;
  const loops = cores.flatMap((c) =>
    channelsOf(soc, c).map(async (ch, k) => {
      for (let round = 0; running; round++) {
        await echoMany(ch, `${c}/${k}/${round}`, 20);
        total += 20;
      }
    }),
  );
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return total;
    },
  };
}

function workerPorts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
}

function manyCoreSoc(
  cores: number,
  coreThreads: number | undefined,
  firmware: Record<string, string> = {},
): VirtualSoc {
  return new VirtualSoc({
    board: manyCoreBoard(cores, 'multi-echo'),
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    ...(coreThreads === undefined ? {} : { coreThreads }),
    firmware,
  });
}

describe('core groups', () => {
  it('runs 16 js cores in 2 threads, echoing on all 64 endpoints at once', async () => {
    const ports = workerPorts();
    const soc = manyCoreSoc(16, 2);
    try {
      await soc.start();
      await Promise.all(soc.cores.map((c) => c.rproc.boot()));
      await waitFor('64 channels', () => soc.rpmsg.channels.length === 64);
      // One port per worker thread: two threads, not sixteen.
      assert.equal(workerPorts() - ports, 2);
      await Promise.all(
        soc.cores.flatMap((c) => channelsOf(soc, c.name).map((ch, k) => echoMany(ch, `${c.name}/${k}`, 50))),
      );
      for (const c of soc.cores) await c.rproc.shutdown();
      assert.ok(soc.cores.every((c) => !c.running && c.rproc.resources.idle));
    } finally {
      await soc.close();
    }
  });

  for (const cores of [Math.max(1, availableParallelism() - 1), availableParallelism()]) {
    const want = cores + 1 <= availableParallelism() ? cores : Math.max(1, availableParallelism() - 1);
    it(`by default runs ${cores} core${cores === 1 ? '' : 's'} in ${want} thread${want === 1 ? '' : 's'} (${availableParallelism()} CPUs)`, async () => {
      const ports = workerPorts();
      const soc = manyCoreSoc(cores, undefined);
      try {
        await soc.start();
        await Promise.all(soc.cores.map((c) => c.rproc.boot()));
        await waitFor(`${cores * 4} channels`, () => soc.rpmsg.channels.length === cores * 4);
        assert.equal(workerPorts() - ports, want);
      } finally {
        await soc.close();
      }
    });
  }

  it('crashes and recovers one core while the others of its group keep echoing', async () => {
    // One thread for all three: rproc1 crashes, rproc0 and rproc2 share its thread.
    const soc = manyCoreSoc(3, 1, { rproc1: 'crasher' });
    const others = ['rproc0', 'rproc2'];
    try {
      await soc.start();
      await Promise.all(soc.cores.map((c) => c.rproc.boot()));
      const ch = await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc1' });
      await waitFor('8 echo channels', () => others.every((c) => channelsOf(soc, c).length === 4));
      const load = keepEchoing(soc, others);
      const victim = soc.rproc('rproc1');
      const crash = victim.next('crash');
      const recovered = victim.next('recovery', (e) => e.phase !== 'start');
      await ch.open().send(encode('mmu'));
      assert.equal((await crash).typeName, 'mmufault');
      assert.equal((await recovered).phase, 'done');
      const again = await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc1' });
      await echoMany(again, 'after', 10);
      assert.ok((await load.stop()) > 0);
      // Only the victim crashed.
      assert.equal(victim.crash.count, 1);
      for (const c of others) assert.equal(soc.rproc(c).crash.count, 0);
    } finally {
      await soc.close();
    }
  });

  it('shuts down one core of a group and boots it again while the others run', async () => {
    const soc = manyCoreSoc(3, 1);
    try {
      await soc.start();
      await Promise.all(soc.cores.map((c) => c.rproc.boot()));
      await waitFor('12 channels', () => soc.rpmsg.channels.length === 12);
      const [a, b, c] = soc.cores.map((x) => x.name);
      assert.ok(a !== undefined && b !== undefined && c !== undefined);
      const load = keepEchoing(soc, [a, c]);
      await soc.rproc(b).shutdown();
      assert.equal(soc.core(b).running, false);
      assert.ok(soc.core(a).running && soc.core(c).running);
      await soc.rproc(b).boot();
      await waitFor('the channels back', () => channelsOf(soc, b).length === 4);
      await echoMany(channelsOf(soc, b)[0] ?? assert.fail('no channel'), 'back', 10);
      assert.ok((await load.stop()) > 0);
    } finally {
      await soc.close();
    }
  });

  it('terminates a group stuck in a core that never yields, and its other cores crash and recover', async () => {
    // rproc1 spins until its own RUN word says halt, so halting rproc0 (same thread) cannot get
    // through: after the grace period the thread goes, and rproc1 and rproc2 with it.
    const soc = manyCoreSoc(3, 1, { rproc1: 'crasher' });
    try {
      await soc.start();
      await Promise.all(soc.cores.map((c) => c.rproc.boot()));
      const ch = await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc1' });
      await waitFor('rproc2 channels', () => channelsOf(soc, 'rproc2').length === 4);
      const crashes = ['rproc1', 'rproc2'].map((n) => soc.rproc(n).next('crash'));
      const recoveries = ['rproc1', 'rproc2'].map((n) =>
        soc.rproc(n).next('recovery', (e) => e.phase !== 'start'),
      );
      await ch.open().send(encode('hang'));
      await new Promise((r) => setTimeout(r, 50));
      await soc.rproc('rproc0').shutdown();
      assert.equal(soc.rproc('rproc0').state, 'offline');
      for (const c of await Promise.all(crashes)) {
        assert.equal(c.typeName, 'fatal error');
        assert.match(c.detail?.message ?? '', /core thread died: rproc0 did not halt within 500 ms/);
      }
      for (const r of await Promise.all(recoveries)) assert.equal(r.phase, 'done');
      await echoMany(await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc1' }), 'crasher-again', 10);
      await waitFor('rproc2 channels again', () => channelsOf(soc, 'rproc2').length === 4);
      await echoMany(channelsOf(soc, 'rproc2')[0] ?? assert.fail('no channel'), 'rproc2-again', 10);
    } finally {
      await soc.close();
    }
  });

  it('runs an rv32 and a js core in one thread (default board, coreThreads 1)', async () => {
    const ports = workerPorts();
    const soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      coreThreads: 1,
      firmware: { rproc0: 'echo.elf', rproc1: 'rpmsg-echo' },
    });
    try {
      await soc.start();
      await soc.rproc('rproc0').boot();
      await soc.rproc('rproc1').boot();
      await waitFor(
        'both channels',
        () => channelsOf(soc, 'rproc0').length + channelsOf(soc, 'rproc1').length === 2,
      );
      assert.equal(workerPorts() - ports, 1);
      const [rv] = channelsOf(soc, 'rproc0');
      const [js] = channelsOf(soc, 'rproc1');
      assert.ok(rv !== undefined && js !== undefined);
      await Promise.all([echoMany(rv, 'rv32', 200), echoMany(js, 'js', 200)]);
      await soc.rproc('rproc1').shutdown();
      await echoMany(rv, 'rv32-alone', 50);
      await soc.rproc('rproc0').shutdown();
    } finally {
      await soc.close();
    }
  });

  it('leaves no worker, port or timer behind after close', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const soc = manyCoreSoc(4, 2);
    await soc.start();
    await Promise.all(soc.cores.map((c) => c.rproc.boot()));
    await waitFor('16 channels', () => soc.rpmsg.channels.length === 16);
    assert.ok(process.getActiveResourcesInfo().includes('MessagePort'), 'the group threads run');
    await soc.close();
    await new Promise((r) => setImmediate(r));
    const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    assert.deepEqual(after, before);
  });
});
