// Crash reporting and recovery (rproc_report_crash, rproc_crash_handler_work, rproc_trigger_recovery): report semantics, the
// order of boot recovery and what it reuses, disabled recovery, attach recovery, and the lifecycle
// cases TC-C03, C07..C12 with our documented deviations (docs/decisions.md).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRscTable } from '../rsc/rsc-build.ts';
import type { RscEntrySpec } from '../rsc/rsc-types.ts';
import { ELF_DEFAULT_OPS } from './elf-defaults.ts';
import type { RprocOps } from './rproc-ops.ts';
import { FirmwareStore, type Firmware } from './firmware-store.ts';
import type { RprocCoredump } from './coredump.ts';
import type { RprocEvents } from './rproc.ts';
import { RPROC_FATAL_ERROR, RPROC_MMUFAULT, RPROC_WATCHDOG } from './rproc-state.ts';
import type { FakePlatform } from '../testing/fake-platform.ts';
import {
  helloElf,
  helloTable,
  installLiveTable,
  rejectsWith,
  rig,
  settle,
  type Rig,
  type RigOptions,
} from '../../test/support/rproc-fixtures.ts';

/** A store that records each request as `request:<name>` on the platform. */
class RecordingStore extends FirmwareStore {
  private readonly platform: FakePlatform;
  constructor(platform: FakePlatform) {
    super();
    this.platform = platform;
  }
  override request(name: string): Promise<Firmware> {
    this.platform.record(`request:${name}`);
    return super.request(name);
  }
}

/** Ops that record load and coredump too (a platform load op means supplying the ELF helpers). */
function recordingOps(p: FakePlatform): Partial<RprocOps> {
  return {
    ...ELF_DEFAULT_OPS,
    load: (rproc, fw) => {
      p.record('load');
      ELF_DEFAULT_OPS.load(rproc, fw);
    },
    coredump: () => p.record('coredump'),
  };
}

/** A rig whose calls also show firmware requests, loads and coredumps. */
function recordingRig(options: RigOptions = {}): Rig {
  return rig({ ops: recordingOps, store: (p) => new RecordingStore(p), ...options });
}

/** A core found running hello.elf: its table live in RAM where hello keeps it. */
function attachedHelloRig(options: RigOptions = {}): Rig & { live: Uint8Array } {
  const r = recordingRig({ ...options, alloc: { detached: true, ...options.alloc } });
  const table = helloTable();
  const live = installLiveTable(r.platform, table.bytes, table.da);
  return { ...r, live };
}

const STOP_ALL_CRASHED = ['vdev0:stop(crashed)', 'sd:b:stop(crashed)', 'sd:a:stop(crashed)', 'stop'];
const UNPREPARE_SUBDEVS = ['sd:b:unprepare', 'sd:a:unprepare'];
const RESTART = ['load', 'sd:a:prepare', 'sd:b:prepare', 'start', 'sd:a:start', 'sd:b:start', 'vdev0:start'];

function recoveryDone(r: Rig): Promise<RprocEvents['recovery']> {
  return r.rproc.next('recovery', (e) => e.phase !== 'start');
}

async function crashed(r: Rig, type = RPROC_WATCHDOG): Promise<void> {
  r.rproc.crash.recoveryDisabled = true;
  const crash = r.rproc.next('crash');
  r.rproc.reportCrash(type);
  await crash;
  assert.equal(r.rproc.state, 'crashed');
}

describe('reportCrash', () => {
  it('TC-C07: two reports in a row are handled once; the count goes up by one', async () => {
    const r = rig();
    await r.rproc.boot();
    r.rproc.crash.recoveryDisabled = true;
    const crashes: RprocEvents['crash'][] = [];
    r.rproc.on('crash', (e) => crashes.push(e));
    r.rproc.reportCrash(RPROC_WATCHDOG);
    r.rproc.reportCrash(RPROC_MMUFAULT);
    await settle();
    assert.deepEqual(crashes, [{ type: RPROC_WATCHDOG, typeName: 'watchdog', count: 1, detail: undefined }]);
    assert.equal(r.rproc.crash.count, 1);
    // Another report while crashed is not a new crash either.
    r.rproc.reportCrash(RPROC_FATAL_ERROR);
    await settle();
    assert.equal(crashes.length, 1);
    assert.equal(r.rproc.crash.count, 1);
    // Both reports are logged, each with its type.
    assert.deepEqual(
      r.logs.filter((l) => l.includes('crash detected')),
      [
        'error: crash detected in m0: type watchdog',
        'error: crash detected in m0: type mmufault',
        'error: crash detected in m0: type fatal error',
      ],
    );
  });

  it('TC-C07: a crash reported while offline is ignored', async () => {
    const r = rig();
    const crashes: unknown[] = [];
    r.rproc.on('crash', (e) => crashes.push(e));
    r.rproc.reportCrash(RPROC_WATCHDOG);
    await settle();
    assert.deepEqual(crashes, []);
    assert.equal(r.rproc.state, 'offline');
    assert.equal(r.rproc.crash.count, 0);
  });

  it('TC-C07: an unknown crash type is handled and named "unknown"', async () => {
    const r = rig();
    await r.rproc.boot();
    r.rproc.crash.recoveryDisabled = true;
    const crash = r.rproc.next('crash');
    r.rproc.reportCrash(999);
    assert.deepEqual(await crash, { type: 999, typeName: 'unknown', count: 1, detail: undefined });
  });

  it('a crash reported while detached is ignored (the host holds nothing on that core)', async () => {
    const r = rig({ alloc: { detached: true } });
    installLiveTable(r.platform, buildRscTable([]));
    r.rproc.reportCrash(RPROC_WATCHDOG);
    await settle();
    assert.equal(r.rproc.state, 'detached');
    assert.equal(r.rproc.crash.count, 0);
    assert.deepEqual(r.platform.calls, []);
  });

  it('a crash reported during boot is handled once the boot is done', async () => {
    const r = rig({
      ops: (p) => ({
        start: (rproc) => {
          p.record('start');
          rproc.reportCrash(RPROC_WATCHDOG);
        },
      }),
    });
    r.rproc.crash.recoveryDisabled = true;
    const crash = r.rproc.next('crash');
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'running');
    await crash;
    assert.equal(r.rproc.state, 'crashed');
  });

  it('the crash count keeps counting across recoveries', async () => {
    const r = rig();
    await r.rproc.boot();
    for (let i = 1; i <= 3; i++) {
      const done = recoveryDone(r);
      r.rproc.reportCrash(RPROC_WATCHDOG);
      assert.equal((await done).phase, 'done');
      assert.equal(r.rproc.crash.count, i);
    }
  });
});

describe('boot recovery', () => {
  it('stops subdevices (crashed) and the core, dumps, reloads and starts again', async () => {
    const r = recordingRig();
    await r.rproc.boot();
    await r.rproc.boot();
    const states: string[] = [];
    r.rproc.on('state', (e) => states.push(`${e.from}→${e.to}`));
    r.platform.calls.length = 0;
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.deepEqual(await done, { phase: 'done' });
    assert.deepEqual(r.platform.calls, [
      ...STOP_ALL_CRASHED,
      ...UNPREPARE_SUBDEVS,
      'coredump',
      'request:fw',
      ...RESTART,
    ]);
    assert.deepEqual(states, ['running→crashed', 'crashed→offline', 'offline→running']);
    assert.equal(r.rproc.power, 2, 'recovery leaves the power count alone');
  });

  it('reuses the carveouts, notify ids and cached table; the image and the table are published again', async () => {
    const r = rig();
    await r.rproc.boot();
    const carveouts = r.rproc.resources.carveouts.list.map((c) => [c, c.da] as const);
    const vdevs = [...r.rproc.resources.vdevs];
    const notifyIds = r.rproc.resources.vdevs.map((v) => v.vrings.map((x) => x.notifyId));
    const table = helloTable();
    const tableOff = table.da - 0x8000_0000;
    const published = r.platform.ram.slice(tableOff, tableOff + table.bytes.length);
    const text = r.platform.ram.slice(0, 0x78);
    // The crashed firmware scribbled over its code and its table.
    r.platform.ram.fill(0x5a, 0, tableOff + table.bytes.length);
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_FATAL_ERROR);
    await done;
    assert.deepEqual(
      r.rproc.resources.carveouts.list.map((c) => [c, c.da] as const),
      carveouts,
    );
    assert.deepEqual(r.rproc.resources.vdevs, vdevs);
    assert.deepEqual(
      r.rproc.resources.vdevs.map((v) => v.vrings.map((x) => x.notifyId)),
      notifyIds,
    );
    assert.equal(r.platform.pool.outstanding, 3);
    assert.deepEqual(r.platform.ram.subarray(0, 0x78), text);
    assert.deepEqual(r.platform.ram.subarray(tableOff, tableOff + table.bytes.length), published);
  });

  it('with recovery disabled the processor stays crashed until recover()', async () => {
    const r = recordingRig();
    await r.rproc.boot();
    r.platform.calls.length = 0;
    await crashed(r);
    await settle();
    assert.equal(r.rproc.state, 'crashed');
    assert.deepEqual(r.platform.calls, []);
    const events: string[] = [];
    r.rproc.on('recovery', (e) => events.push(e.phase));
    await r.rproc.crash.recover();
    assert.equal(r.rproc.state, 'running');
    assert.deepEqual(events, ['start', 'done']);
    assert.deepEqual(r.platform.calls, [
      ...STOP_ALL_CRASHED,
      ...UNPREPARE_SUBDEVS,
      'coredump',
      'request:fw',
      ...RESTART,
    ]);
  });

  it('recover() while not crashed does nothing', async () => {
    const r = recordingRig();
    const events: unknown[] = [];
    r.rproc.on('recovery', (e) => events.push(e));
    await r.rproc.crash.recover();
    await r.rproc.boot();
    r.platform.calls.length = 0;
    await r.rproc.crash.recover();
    assert.deepEqual(events, []);
    assert.deepEqual(r.platform.calls, []);
    assert.equal(r.rproc.state, 'running');
  });

  it('TC-C03 (deviation): shutdown of a crashed processor stops it, subdevices told it crashed', async () => {
    const r = rig();
    await r.rproc.boot();
    await crashed(r);
    r.platform.calls.length = 0;
    await r.rproc.shutdown();
    assert.deepEqual(r.platform.calls, [...STOP_ALL_CRASHED, ...UNPREPARE_SUBDEVS, 'unprepare']);
    assert.equal(r.rproc.state, 'offline');
    assert.equal(r.rproc.power, 0);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
    // Nothing left to recover; a boot starts afresh.
    await r.rproc.crash.recover();
    assert.equal(r.rproc.state, 'offline');
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'running');
  });

  it('shutdown of a crashed processor with power 2 only drops a reference', async () => {
    const r = rig();
    await r.rproc.boot();
    await r.rproc.boot();
    await crashed(r);
    await r.rproc.shutdown();
    assert.equal(r.rproc.state, 'crashed');
    assert.equal(r.rproc.power, 1);
    await r.rproc.shutdown();
    assert.equal(r.rproc.state, 'offline');
  });

  it('TC-C08 (deviation): firmware gone at recovery → failed event, offline, power 0, nothing held', async () => {
    const r = recordingRig();
    await r.rproc.boot();
    await r.rproc.boot();
    r.store.remove('fw');
    r.platform.calls.length = 0;
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    const event = await done;
    assert.equal(event.phase, 'failed');
    assert.equal(event.error?.code, 'ENOENT');
    assert.deepEqual(r.platform.calls, [
      ...STOP_ALL_CRASHED,
      ...UNPREPARE_SUBDEVS,
      'coredump',
      'request:fw',
      'unprepare',
    ]);
    assert.equal(r.rproc.state, 'offline');
    assert.equal(r.rproc.power, 0);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
    assert.ok(r.logs.some((l) => l.startsWith('error: recovery of m0 failed')));
    // Linux would answer this boot with 0 and do nothing; here it really boots once the image is back.
    await rejectsWith(r.rproc.boot(), 'ENOENT');
    r.store.add('fw', helloElf());
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'running');
    assert.equal(r.rproc.power, 1);
  });

  it('a restart that fails during recovery releases everything too', async () => {
    const r = rig();
    await r.rproc.boot();
    r.platform.failOn({ op: 'start', nth: 2 });
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    const event = await done;
    assert.equal(event.phase, 'failed');
    assert.equal(event.error?.code, 'EIO');
    assert.equal(r.rproc.state, 'offline');
    assert.equal(r.rproc.power, 0);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
    assert.equal(r.platform.calls.at(-1), 'unprepare');
  });

  it('a failing stop during recovery leaves the processor crashed and held; shutdown still works', async () => {
    const r = rig();
    await r.rproc.boot();
    r.platform.failOn({ op: 'stop', nth: 1 });
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.equal((await done).phase, 'failed');
    assert.equal(r.rproc.state, 'crashed');
    assert.equal(r.rproc.power, 1);
    await r.rproc.shutdown();
    assert.equal(r.rproc.state, 'offline');
    assert.ok(r.rproc.resources.idle);
  });

  it('a crash of an attached processor without attach-on-recovery reboots it from its firmware', async () => {
    const r = attachedHelloRig();
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'attached');
    r.platform.calls.length = 0;
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.equal((await done).phase, 'done');
    assert.equal(r.rproc.state, 'running');
    assert.equal(r.rproc.power, 1);
    assert.deepEqual(r.platform.calls, [
      ...STOP_ALL_CRASHED,
      ...UNPREPARE_SUBDEVS,
      'coredump',
      'request:fw',
      ...RESTART,
    ]);
    await r.rproc.shutdown();
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
  });
});

describe('TC-C09: inline coredump', () => {
  it('recovery waits until the dump is released; the dump reads the stopped memory', async () => {
    const r = rig({ alloc: { coredumpInlineTimeoutMs: 60_000 } });
    r.rproc.coredump.mode = 'inline';
    await r.rproc.boot();
    const dumpEvent = r.rproc.next('coredump');
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    const dump: RprocCoredump = await dumpEvent;
    await settle(10);
    assert.equal(r.rproc.state, 'offline', 'stopped, not restarted while the dump is unread');
    assert.equal(r.platform.calls.filter((c) => c === 'start').length, 1);
    assert.equal(dump.mode, 'inline');
    assert.deepEqual([...dump.read(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    assert.equal(dump.bytes().length, dump.size);
    dump.release();
    assert.equal((await done).phase, 'done');
    assert.equal(r.rproc.state, 'running');
    assert.throws(
      () => dump.read(0, 4),
      (e: unknown) => e instanceof Error && e.message.startsWith('ENODATA'),
    );
  });

  it('nobody releases it: recovery goes on after coredumpInlineTimeoutMs and the dump is released', async () => {
    const r = rig({ alloc: { coredumpInlineTimeoutMs: 40 } });
    r.rproc.coredump.mode = 'inline';
    await r.rproc.boot();
    const dumpEvent = r.rproc.next('coredump');
    const done = recoveryDone(r);
    const t0 = performance.now();
    r.rproc.reportCrash(RPROC_WATCHDOG);
    const dump = await dumpEvent;
    assert.equal((await done).phase, 'done');
    assert.ok(performance.now() - t0 >= 35, 'recovery waited for the timeout');
    assert.equal(r.rproc.state, 'running');
    assert.throws(() => dump.bytes(), /ENODATA/);
  });
});

describe('del', () => {
  it('TC-C10 (deviation): del with power 2 stops the processor and releases everything', async () => {
    const r = rig();
    await r.rproc.add();
    await r.rproc.boot();
    await r.rproc.boot();
    await r.rproc.del();
    assert.equal(r.rproc.state, 'deleted');
    assert.equal(r.rproc.power, 0);
    assert.ok(r.platform.calls.includes('stop'));
    assert.equal(r.platform.running, false);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
  });

  it('del of a crashed processor stops it with the crashed flag', async () => {
    const r = rig();
    await r.rproc.boot();
    await crashed(r);
    r.platform.calls.length = 0;
    await r.rproc.del();
    assert.deepEqual(r.platform.calls, [...STOP_ALL_CRASHED, ...UNPREPARE_SUBDEVS, 'unprepare']);
    assert.equal(r.rproc.state, 'deleted');
    assert.ok(r.rproc.resources.idle);
  });

  it('del while a recovery is queued: the recovery finds nothing to do', async () => {
    const r = rig();
    await r.rproc.boot();
    const crash = r.rproc.next('crash');
    r.rproc.reportCrash(RPROC_WATCHDOG);
    await crash;
    await r.rproc.del();
    await settle();
    assert.equal(r.rproc.state, 'deleted');
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.calls.filter((c) => c === 'start').length, 1);
  });
});

describe('attach failures and detach refusals', () => {
  const badTables: readonly {
    readonly title: string;
    readonly code: 'ENOMEM' | 'EINVAL';
    readonly entries: readonly RscEntrySpec[];
  }[] = [
    {
      title: 'a carveout the pool cannot place, after the vrings were allocated',
      code: 'ENOMEM',
      entries: [
        {
          kind: 'vdev',
          id: 7,
          vrings: [
            { align: 16, num: 16 },
            { align: 16, num: 16 },
          ],
        },
        { kind: 'trace', da: 0x8000_3000, len: 0x100 },
        { kind: 'carveout', da: 0x7000_0000, len: 0x1000, name: 'nowhere' },
      ],
    },
    {
      title: 'a devmem entry without an IOMMU, after vrings and traces were registered',
      code: 'EINVAL',
      entries: [
        { kind: 'vdev', id: 7, vrings: [{ align: 16, num: 16 }] },
        { kind: 'trace', da: 0x8000_3000, len: 0x100 },
        { kind: 'devmem', da: 0x4000_0000, pa: 0x4000_0000, len: 0x1000 },
      ],
    },
  ];
  for (const t of badTables) {
    it(`TC-C11: attach with ${t.title} → ${t.code}, everything released incl. the clean copy`, async () => {
      const r = rig({ alloc: { detached: true } });
      const table = buildRscTable(t.entries);
      const live = installLiveTable(r.platform, table);
      await rejectsWith(r.rproc.boot(), t.code);
      assert.deepEqual(r.platform.calls, ['prepare', 'getLoadedRscTable', 'unprepare']);
      assert.equal(r.rproc.state, 'detached');
      assert.equal(r.rproc.power, 0);
      assert.ok(r.rproc.resources.idle, 'no carveout, notify id, trace, vdev, table or clean copy is held');
      assert.equal(r.platform.pool.outstanding, 0);
      assert.deepEqual(live, table);
    });
  }

  it('TC-C12: detach of a processor Linux booted is EINVAL', async () => {
    const r = rig();
    await r.rproc.boot();
    await rejectsWith(r.rproc.detach(), 'EINVAL');
    assert.equal(r.rproc.state, 'running');
    assert.equal(r.rproc.power, 1);
  });

  it('TC-C12: detach without a detach op is EINVAL and keeps the processor attached', async () => {
    const r = rig({ alloc: { detached: true }, without: ['detach'] });
    installLiveTable(r.platform, buildRscTable([{ kind: 'carveout', len: 0x1000, name: 'shm' }]));
    await r.rproc.boot();
    await rejectsWith(r.rproc.detach(), 'EINVAL');
    assert.equal(r.rproc.state, 'attached');
    assert.equal(r.rproc.power, 1);
    // It can still be shut down (which stops it).
    await r.rproc.shutdown();
    assert.equal(r.rproc.state, 'offline');
    assert.ok(r.rproc.resources.idle);
  });

  for (const state of ['offline', 'detached', 'crashed'] as const) {
    it(`detach while ${state} is EINVAL`, async () => {
      const r = rig({ alloc: { detached: state === 'detached' } });
      installLiveTable(r.platform, buildRscTable([]));
      if (state === 'crashed') {
        await r.rproc.boot();
        await crashed(r);
      }
      const power = r.rproc.power;
      await rejectsWith(r.rproc.detach(), 'EINVAL');
      assert.equal(r.rproc.state, state);
      assert.equal(r.rproc.power, power);
    });
  }
});

describe('attach recovery (attach-on-recovery)', () => {
  it('detaches and re-attaches: no coredump, no firmware, resources kept', async () => {
    const r = attachedHelloRig({ alloc: { features: ['attach-on-recovery'] } });
    r.rproc.coredump.mode = 'enabled';
    await r.rproc.boot();
    const carveouts = r.rproc.resources.carveouts.list.map((c) => [c, c.da] as const);
    const dumps: unknown[] = [];
    r.rproc.on('coredump', (d) => dumps.push(d));
    r.platform.calls.length = 0;
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.equal((await done).phase, 'done');
    assert.deepEqual(r.platform.calls, [
      // Linux's __rproc_detach stops subdevices with crashed = false.
      'vdev0:stop',
      'sd:b:stop',
      'sd:a:stop',
      'detach',
      ...UNPREPARE_SUBDEVS,
      'sd:a:prepare',
      'sd:b:prepare',
      'attach',
      'sd:a:start',
      'sd:b:start',
      'vdev0:start',
    ]);
    assert.deepEqual(dumps, []);
    assert.equal(r.rproc.state, 'attached');
    assert.equal(r.rproc.power, 1);
    assert.deepEqual(
      r.rproc.resources.carveouts.list.map((c) => [c, c.da] as const),
      carveouts,
    );
    // As in Linux, the detach step put the pristine table back into device memory and the host now
    // edits its own copy (see the report: the remote does not see the host's edits any more).
    assert.deepEqual(r.live, helloTable().bytes);
    await r.rproc.shutdown();
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
  });

  it('a failing re-attach (deviation) leaves the processor detached, power 0, nothing held; boot attaches again', async () => {
    const r = attachedHelloRig({ alloc: { features: ['attach-on-recovery'] } });
    await r.rproc.boot();
    r.platform.failOn({ op: 'attach', nth: 2 });
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    const event = await done;
    assert.equal(event.phase, 'failed');
    assert.equal(r.rproc.state, 'detached');
    assert.equal(r.rproc.power, 0);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
    assert.equal(r.platform.calls.at(-1), 'unprepare');
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'attached');
    assert.equal(r.rproc.power, 1);
  });

  it('a failing detach leaves it crashed and held; shutdown still stops it', async () => {
    const r = attachedHelloRig({ alloc: { features: ['attach-on-recovery'] } });
    await r.rproc.boot();
    r.platform.failOn({ op: 'detach', nth: 1 });
    const done = recoveryDone(r);
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.equal((await done).phase, 'failed');
    assert.equal(r.rproc.state, 'crashed');
    assert.equal(r.rproc.power, 1);
    await r.rproc.shutdown();
    assert.equal(r.rproc.state, 'offline');
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
  });
});
