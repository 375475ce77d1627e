// The rpmsg host's blocking send against a remote on another thread (a js core running 'sink', which
// answers nothing): a send that finds no TX buffer watches the TX queue's used ring for one coming
// back (txPollMaxUs, adapted by SpinBudget) before it sleeps on the TX-complete interrupt, and
// finds buffers that way while the core drains the ring; with polling off every such send sleeps.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RpmsgHostOptions } from '../rpmsg/host/rpmsg-host.ts';
import type { RpmsgDeviceStats } from '../rpmsg/host/virtio-rpmsg-bus.ts';
import '../cpu/core-kinds.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { VirtualSoc } from './virtual-soc.ts';

/** Stream `count` 496-byte messages to the js 'sink' firmware (it answers nothing) with blocking sends. */
async function stream(rpmsg: RpmsgHostOptions | undefined, count: number): Promise<RpmsgDeviceStats> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc1: 'sink' },
    ...(rpmsg === undefined ? {} : { rpmsg }),
  });
  try {
    await soc.start();
    await soc.rproc('rproc1').boot();
    const ch = await soc.rpmsg.waitForChannel('rpmsg-sink', { rproc: 'rproc1', timeoutMs: 20_000 });
    let reply = (_: string): void => undefined;
    const ept = ch.open((data) => reply(new TextDecoder().decode(data)));
    const payload = new Uint8Array(496).fill(0x5a);
    for (let i = 0; i < count; i++) await ept.send(payload, { timeoutMs: 10_000 });
    const report = new Promise<string>((resolve) => (reply = resolve));
    await ept.send(new TextEncoder().encode('report'));
    assert.equal((JSON.parse(await report) as { messages: number }).messages, count, 'every message came');
    const dev = soc.rpmsg.devicesOf('rproc1')[0];
    assert.ok(dev !== undefined);
    return { ...dev.stats };
  } finally {
    await soc.close();
  }
}

describe('rpmsg host: a blocking send polls before it sleeps', () => {
  it('with the remote on another thread, a send that ran out finds buffers coming back by polling', async () => {
    // Longer than the default (50 µs): on a loaded machine the core's thread may take that long
    // to get a CPU, and the default poll rightly gives up there.
    const s = await stream({ txPollMaxUs: 5000 }, 20_000);
    assert.ok(s.txPollHits > 0, `polls that found a buffer: ${s.txPollHits} (sleeps ${s.txSleeps})`);
  });

  it('txPollMaxUs 0: every send that runs out sleeps on the interrupt, none polls', async () => {
    const s = await stream({ txPollMaxUs: 0 }, 5000);
    assert.equal(s.txPollHits, 0);
    assert.ok(s.txSleeps > 0, `sleeps: ${s.txSleeps}`);
  });
});
