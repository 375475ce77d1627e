// Hostile firmware against the vrings (firmware/hostile, docs/threat-model.md "Rings"): a used ring
// that breaks the protocol (used.idx running past what the remote holds, a used entry naming a
// descriptor beyond the ring) crashes the processor — fatal error, found by virtio — and recovery
// restarts it (the restarted firmware then serves "hostile-echo"); descriptors the remote scribbles
// over are never read back by the host (nothing happens to it); used lengths of 0 and 0xffffffff
// are dropped and counted. The healthy core keeps echoing throughout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RprocEvents } from '../../src/remoteproc/rproc.ts';
import { ATTACK_MS, EchoLoad, HostileRig, SC, sleep, until, within } from './hostile-rig.ts';

describe('hostile firmware: rings', { timeout: 120_000 + 20 * ATTACK_MS }, () => {
  let rig: HostileRig;
  before(async () => {
    rig = await HostileRig.start();
  });
  after(async () => {
    await rig.close();
  });

  const broken: readonly (readonly [string, number, RegExp])[] = [
    [
      'used.idx jumps 1000 past what the remote holds',
      SC.USED_IDX_JUMP,
      /vdev0vring0: used\.idx 0x[0-9a-f]+ runs \d+ entries ahead of the last consumed 0x[0-9a-f]+, more than the ring's 256/,
    ],
    [
      'a used entry names descriptor num + 5',
      SC.USED_ID_RANGE,
      /vdev0vring0: used ring entry \d+ names descriptor 0x105, but the ring has 256/,
    ],
  ];
  for (const [what, scenario, reason] of broken) {
    it(`${what}: the processor crashes (fatal error, virtio), recovery restarts it, it serves again`, async () => {
      const crashes: RprocEvents['crash'][] = [];
      const onCrash = (e: RprocEvents['crash']): void => void crashes.push(e);
      rig.hostile.on('crash', onCrash);
      const before = rig.hostile.crash.count;
      const recovered = rig.hostile.next('recovery', (e) => e.phase !== 'start');
      const a = await rig.attack(scenario);
      await rig.echoing(async () => {
        assert.equal((await within(recovered, 20_000, 'recovery')).phase, 'done');
      });
      assert.equal(crashes.length, 1);
      const crash = crashes[0];
      assert.ok(crash !== undefined);
      assert.equal(crash.typeName, 'fatal error');
      assert.equal(crash.detail?.source, 'virtio');
      assert.match(crash.detail.message, reason);
      // The restarted firmware remembers it attacked this run, and behaves.
      const ch = await rig.soc.rpmsg.waitForChannel('hostile-echo', { rproc: a.rproc, timeoutMs: 10_000 });
      const load = new EchoLoad(ch);
      await until('an echo from the recovered core', () => load.replies > 0);
      await load.stop();
      assert.equal(a.rproc.crash.count, before + 1);
      rig.hostile.off('crash', onCrash);
      rig.assertHeapBounded(a);
      await rig.end();
    });
  }

  const ignored: readonly (readonly [string, number])[] = [
    ['every descriptor made a loop', SC.DESC_LOOP],
    ['every descriptor pointed out of range, length 0xffffffff', SC.DESC_ADDR],
  ];
  for (const [what, scenario] of ignored) {
    it(`${what}: the host never reads descriptors back, nothing happens to it`, async () => {
      const before = rig.hostile.crash.count;
      const a = await rig.attack(scenario);
      await rig.echoing(() => sleep(ATTACK_MS));
      const dev = a.device();
      assert.ok(dev !== undefined);
      assert.equal(dev.broken, undefined);
      assert.equal(a.rproc.state, 'running');
      assert.equal(a.rproc.crash.count, before);
      // The host still posts: a send to the remote goes out (whatever its own SDK makes of its rings).
      const ch = rig.soc.rpmsg.channel('hostile-echo', { rproc: a.rproc });
      assert.ok(ch !== undefined);
      assert.equal(ch.open().trySend(new Uint8Array(8)), 0);
      rig.assertHeapBounded(a);
      await rig.end();
    });
  }

  const lengths: readonly (readonly [string, number])[] = [
    ['0', SC.LEN_ZERO],
    ['0xffffffff', SC.LEN_MAX],
  ];
  for (const [len, scenario] of lengths) {
    it(`100 messages returned with used.len ${len}: dropped and counted, buffers re-posted, no crash`, async () => {
      const before = rig.hostile.crash.count;
      const a = await rig.attack(scenario);
      await rig.echoing(() => until('100 malformed', () => (a.device()?.stats.rxMalformed ?? 0) >= 100));
      const dev = a.device();
      assert.ok(dev !== undefined);
      assert.equal(dev.stats.rxMalformed, 100);
      assert.equal(dev.broken, undefined);
      assert.equal(a.rproc.crash.count, before);
      await until('the trace', () => /lengths sent/.test(a.rproc.resources.readTrace(0) ?? ''));
      rig.assertHeapBounded(a);
      await rig.end();
    });
  }
});
