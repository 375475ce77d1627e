// Scale: a generated board with 16 js cores, each with its own vdev and four endpoints, all
// echoing at once; every reply checked, then everything shut down with no worker left behind.
// The same in deterministic mode (every core in the host thread under the SoC scheduler).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from './virtual-soc.ts';
import { manyCoreBoard } from './boards/many-cores.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import '../cpu/core-kinds.ts';

const CORES = 16;
const ENDPOINTS = 4;
const MESSAGES = 50;

async function echoMany(ch: RpmsgChannel, tag: string): Promise<void> {
  const ept = ch.open();
  const expected = Array.from({ length: MESSAGES }, (_, i) => `${tag}:${i}`);
  const got: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${tag}: ${got.length}/${MESSAGES} echoes`)), 30_000);
    ept.setCallback((data) => {
      got.push(new TextDecoder().decode(data));
      if (got.length === MESSAGES) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  for (const m of expected) await ept.send(new TextEncoder().encode(m));
  await done;
  assert.deepEqual(got, expected);
}

async function bootAndEchoAll(soc: VirtualSoc): Promise<void> {
  try {
    await soc.start();
    await Promise.all(soc.cores.map((c) => c.rproc.boot()));
    assert.ok(soc.cores.every((c) => c.rproc.state === 'running'));
    const deadline = Date.now() + 60_000;
    while (soc.rpmsg.channels.length < CORES * ENDPOINTS && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const channels = soc.rpmsg.channels;
    assert.equal(channels.length, CORES * ENDPOINTS);
    // Each core's device carries its own four channels.
    const perDevice = new Map<string, number>();
    for (const d of soc.rpmsg.buses) perDevice.set(d.vdev.parentName, d.channelList.length);
    assert.equal(perDevice.size, CORES);
    assert.ok([...perDevice.values()].every((n) => n === ENDPOINTS));
    await Promise.all(
      soc.rpmsg.buses.flatMap((d) =>
        d.channelList.map((ch) => echoMany(ch, `${d.vdev.parentName}/${ch.name}`)),
      ),
    );
    for (const c of soc.cores) await c.rproc.shutdown();
    assert.ok(soc.cores.every((c) => !c.running && c.rproc.resources.idle));
  } finally {
    await soc.close();
  }
}

describe('a 16-core board', () => {
  it('boots every core and echoes on all 64 endpoints at once', async () => {
    await bootAndEchoAll(
      new VirtualSoc({
        board: manyCoreBoard(CORES, 'multi-echo'),
        firmwareStore: defaultFirmwareStore(),
        autoBoot: false,
      }),
    );
  });

  it('does the same with every core in the host thread under the deterministic scheduler', async () => {
    const soc = new VirtualSoc({
      board: manyCoreBoard(CORES, 'multi-echo'),
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      scheduler: true,
    });
    await bootAndEchoAll(soc);
    // Every core ran on the one clock: 16 cores' quanta, many per tick.
    const stats = soc.scheduler?.stats;
    assert.ok(stats !== undefined && stats.quanta > stats.ticks, JSON.stringify(stats));
  });
});
