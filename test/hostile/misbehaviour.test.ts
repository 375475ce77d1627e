// Hostile firmware that neither floods nor breaks a ring (firmware/hostile, docs/threat-model.md):
// a doorbell storm (coalesced, then backed off; its warnings rate-limited per processor), a trace
// buffer full of escape sequences without a NUL (read bounded, printed escaped), garbage written
// over the loaded resource table after boot (never believed), and a remote that never services its
// rings (sends fail in bounded time, shutdown works). The healthy core keeps echoing throughout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRprocError } from '../../src/util/errors.ts';
import { escapeControl } from '../../src/util/escape-control.ts';
import { CORE_WORD } from '../../src/soc/core-block.ts';
import { ATTACK_MS, HostileRig, SC, sleep, until } from './hostile-rig.ts';

/**
 * During a doorbell storm the host backs off (moderation) and holds the core's doorbell (C2H_HOLD)
 * until a ring has work: the storming core stalls at its rings instead of running between them.
 * Sampled for 300 ms, the healthy core echoing throughout.
 */
async function assertStormStalls(rig: HostileRig): Promise<void> {
  const core = rig.soc.core('rproc0');
  const block = core.block;
  const instret = (): number =>
    (block.load(CORE_WORD.INSTRET_HI) >>> 0) * 2 ** 32 + (block.load(CORE_WORD.INSTRET_LO) >>> 0);
  let heldShare = 0;
  let ran = 0;
  await rig.echoing(async () => {
    // The backoff starts once the storm has rung often enough, which takes longer when the
    // storming thread gets little CPU (a loaded machine): wait for it rather than a fixed time.
    await until('the host to back off the storm', () => (core.moderation?.backoffs ?? 0) > 0);
    const i0 = instret();
    let held = 0;
    let samples = 0;
    for (const end = performance.now() + 300; performance.now() < end; await sleep(1)) {
      samples++;
      if (block.load(CORE_WORD.C2H_HOLD) !== 0) held++;
    }
    ran = instret() - i0;
    heldShare = held / samples;
    await sleep(ATTACK_MS);
  });
  assert.ok(core.moderation !== undefined && core.moderation.backoffs > 0, 'the storm was backed off');
  // The storm loop ringing freely runs at 7–18 MIPS here (its rings are device stores): millions of
  // instructions in 300 ms. Stalled, it runs only from one hold generation to its next ring (~200
  // instructions in 300 ms measured). When the hold was let go between two backoffs instead, a
  // loaded machine let it run for milliseconds each time: 2 million in 300 ms once.
  assert.ok(ran < 100_000, `the stalled core retired ${ran} instructions in 300 ms`);
  // No ring of a storm has work: the hold lasts from the first backoff to the end of the storm.
  assert.ok(
    heldShare >= 0.9,
    `the host held the storming core's doorbell ${(heldShare * 100).toFixed(0)} % of the time`,
  );
}

describe('hostile firmware: storms, garbage and silence', { timeout: 120_000 + 20 * ATTACK_MS }, () => {
  let rig: HostileRig;
  before(async () => {
    rig = await HostileRig.start();
  });
  after(async () => {
    await rig.close();
  });

  it('a doorbell storm: rings coalesced and backed off, the core stalled meanwhile, unknown-id warnings rate-limited per processor, no crash', async () => {
    const logs: string[] = [];
    const onLog = (e: { message: string }): void => void logs.push(e.message);
    rig.hostile.on('log', onLog);
    const before = rig.hostile.crash.count;
    const a = await rig.attack(SC.DOORBELL_STORM);
    await assertStormStalls(rig);
    rig.hostile.off('log', onLog);
    const unknown = logs.filter((l) => /interrupt for unknown notify id 0x11/.test(l));
    assert.ok(unknown.length >= 1 && unknown.length <= 10, `${unknown.length} warnings`);
    assert.equal(a.rproc.state, 'running');
    assert.equal(a.rproc.crash.count, before);
    // The other processor's warnings have their own budget: the storm used up rproc0's only.
    const healthy = rig.soc.rproc('rproc1');
    const heard = healthy.next('log', (e) => e.message === 'rproc1 still heard');
    rig.soc.virtio.warn(healthy, 'unknown-notify-id', 'rproc1 still heard');
    await heard;
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('a trace buffer of escape sequences without a NUL: read up to its length, printed escaped', async () => {
    const a = await rig.attack(SC.TRACE_NO_NUL);
    await rig.echoing(() =>
      until('the trace filled', () => (a.rproc.resources.readTrace(0) ?? '').length === 4096),
    );
    const text = a.rproc.resources.readTrace(0) ?? '';
    assert.equal(text.length, 4096, 'bounded by the trace entry, no NUL needed');
    assert.ok(!text.includes('\0'));
    const printed = escapeControl(text);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(printed, /[\x00-\x08\x0a-\x1f\x7f]/);
    assert.match(printed, /^\\x1b\[2J\\x1b\[31mHOSTILE\\r\\x07/);
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('garbage over the loaded table after boot (status, features, config_len, vrings, trace): never believed', async () => {
    const before = rig.hostile.crash.count;
    const a = await rig.attack(SC.RSC_GARBAGE);
    const dev = await (async () => {
      await until('the device', () => a.device() !== undefined);
      return a.device();
    })();
    assert.ok(dev !== undefined);
    await rig.echoing(() => sleep(ATTACK_MS));
    assert.equal(dev.broken, undefined);
    assert.equal(a.rproc.state, 'running');
    assert.equal(a.rproc.crash.count, before);
    // The host's own view is unchanged: features as negotiated, config refused beyond the parsed 0 bytes.
    assert.equal(dev.vdev.features, 1);
    assert.equal(dev.vdev.configGet(0, 4), undefined);
    // The trace entry as parsed at boot: its da and len, not the 0 / 0xffffffff written since.
    assert.equal((a.rproc.resources.readTrace(0) ?? '').length <= 4096, true);
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('a remote that never services its rings: trySend ENOMEM once the TX buffers are out, send ETIMEDOUT, shutdown works', async () => {
    const before = rig.hostile.crash.count;
    const a = await rig.attack(SC.NEVER_SERVICE);
    const ch = await rig.soc.rpmsg.waitForChannel('svc-dead', { rproc: a.rproc, timeoutMs: 10_000 });
    const ept = ch.open();
    await rig.echoing(async () => {
      let sent = 0;
      while (ept.trySend(new Uint8Array(16)) === 0) sent++;
      assert.equal(sent, 256, 'every TX buffer went, none came back');
      const e = await ept.send(new Uint8Array(16), { timeoutMs: 200 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(isRprocError(e, 'ETIMEDOUT'), String(e));
    });
    assert.equal(a.rproc.crash.count, before);
    rig.assertHeapBounded(a);
    const t0 = performance.now();
    await rig.end();
    assert.ok(performance.now() - t0 < 10_000);
  });
});

describe(
  'hostile firmware: a doorbell storm on a core with a thread of its own',
  { timeout: 60_000 + 4 * ATTACK_MS },
  () => {
    it('stalls the storming core: its thread sleeps while the host backs off', async () => {
      const rig = await HostileRig.start({ coreThreads: 2 });
      try {
        await rig.attack(SC.DOORBELL_STORM);
        await assertStormStalls(rig);
        await rig.end();
      } finally {
        await rig.close();
      }
    });
  },
);
