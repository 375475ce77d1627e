// Hostile firmware against the name service (firmware/hostile, docs/threat-model.md "Name
// service"): a flood of distinct names stops at the per-device channel limit (refused, counted,
// one rate-limited warning), a CREATE/DESTROY churn leaves nothing behind, and a core squatting on
// another core's channel name gets none of that core's traffic — the healthy core echoing all along.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RPMSG_DEFAULT_MAX_CHANNELS } from '../../src/rpmsg/host/virtio-rpmsg-bus.ts';
import { RPMSG_DEFAULT_NS_REFUSED_PER_SEC } from '../../src/rpmsg/host/ns-pacer.ts';
import { ATTACK_MS, EchoLoad, HostileRig, SC, sleep, until } from './hostile-rig.ts';

describe('hostile firmware: name service', { timeout: 120_000 + 20 * ATTACK_MS }, () => {
  let rig: HostileRig;
  before(async () => {
    rig = await HostileRig.start();
  });
  after(async () => {
    await rig.close();
  });

  it(`an NS flood (100,000 names): ${RPMSG_DEFAULT_MAX_CHANNELS} channels, the rest refused and counted, paced to ${RPMSG_DEFAULT_NS_REFUSED_PER_SEC}/s, warnings rate-limited`, async () => {
    const logs: string[] = [];
    const a = await rig.attack(SC.NS_FLOOD);
    const started = performance.now();
    a.rproc.on('log', (e) => logs.push(e.message));
    let refusedIn = 0;
    let windowMs = 0;
    await rig.echoing(async () => {
      await until(
        '10,000 announcements refused',
        () => (a.device()?.stats.nsOverLimit ?? 0) >= 10_000,
        30_000,
      );
      // Paced: the refused buffers go back at the budget's rate, so the remote cannot announce
      // faster than that plus the burst and the buffers it already had.
      const r0 = a.device()?.stats.nsOverLimit ?? 0;
      const t0 = performance.now();
      await sleep(500);
      refusedIn = (a.device()?.stats.nsOverLimit ?? 0) - r0;
      windowMs = performance.now() - t0;
    });
    const dev = a.device();
    assert.ok(dev !== undefined);
    assert.equal(dev.channelCount, RPMSG_DEFAULT_MAX_CHANNELS);
    assert.ok(dev.stats.nsPaced > 0, 'buffers were held');
    const most =
      Math.ceil((RPMSG_DEFAULT_NS_REFUSED_PER_SEC * windowMs) / 1000) +
      RPMSG_DEFAULT_NS_REFUSED_PER_SEC / 10 +
      dev.rxBuffers;
    assert.ok(refusedIn <= most, `${refusedIn} refused in ${windowMs.toFixed(0)} ms (at most ${most})`);
    // 10 warnings per 5 s: the pacing makes the flood last several windows.
    const windows = Math.ceil((performance.now() - started) / 5000);
    const warned = logs.filter((l) => /its limit/.test(l)).length;
    assert.ok(warned <= 10 * windows, `${warned} warnings in ${windows} windows of 5 s`);
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('NS CREATE/DESTROY churn: at most one channel at a time, nothing refused, nothing growing', async () => {
    const a = await rig.attack(SC.NS_CHURN);
    let most = 0;
    await rig.echoing(async () => {
      await until('churn', () => (a.device()?.stats.rx ?? 0) > 2000, 20_000);
      for (const end = performance.now() + 300; performance.now() < end; await sleep(5)) {
        most = Math.max(most, a.device()?.channelCount ?? 0);
      }
    });
    const dev = a.device();
    assert.ok(dev !== undefined);
    // "hostile-echo" and at most one "churn".
    assert.ok(most <= 2, `${most} channels at once`);
    assert.equal(dev.stats.nsRefused, 0);
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('a core squatting on "rpmsg-echo": the scoped lookup finds the right core, the squatter gets nothing', async () => {
    // The squatter announces first: "the first channel of that name" would be its.
    const healthy = rig.soc.rproc('rproc1');
    await healthy.shutdown();
    const a = await rig.attack(SC.SQUAT);
    const squatted = await rig.soc.rpmsg.waitForChannel('rpmsg-echo', { anyDevice: true, timeoutMs: 10_000 });
    const ch = await rig.bootHealthy();
    assert.equal(
      rig.soc.rpmsg.channel('rpmsg-echo', { anyDevice: true }),
      squatted,
      'any device: the squatter',
    );
    assert.equal(rig.soc.rpmsg.channel('rpmsg-echo', { rproc: 'rproc0' }), squatted);
    assert.notEqual(ch, squatted);
    const load = new EchoLoad(ch);
    await until('100 echoes', () => load.replies >= 100);
    await load.stop();
    const dev = a.device();
    assert.ok(dev !== undefined);
    assert.equal(dev.stats.tx, 0, 'nothing was sent to the squatter');
    assert.doesNotMatch(a.rproc.resources.readTrace(0) ?? '', /squat: message/);
    await rig.end();
  });
});
