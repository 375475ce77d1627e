// Life cycle of one processor (remoteproc_core.c: rproc_alloc and its ops defaults, rproc_add, rproc_boot ...): allocation
// defaults, add validation and auto-boot, the power refcount of boot/shutdown, serialisation of
// concurrent callers, setFirmware, and registry references (getByPhandle/put, index reuse).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FirmwareStore } from './firmware-store.ts';
import { RprocRegistry } from './rproc-registry.ts';
import { rprocAlloc, type Rproc } from './rproc.ts';
import type { RprocOps } from './rproc-ops.ts';
import { RPROC_WATCHDOG, type RprocState } from './rproc-state.ts';
import { FakePlatform } from '../testing/fake-platform.ts';
import { helloElf, installLiveTable, rejectsWith, rig, settle } from '../../test/support/rproc-fixtures.ts';
import { buildRscTable } from '../rsc/rsc-build.ts';

const ELF_OPS = ['sanityCheck', 'getBootAddr', 'parseFw', 'findLoadedRscTable', 'load'] as const;

/** An op as a plain value (comparing ops by identity, never calling them). */
function opOf(ops: RprocOps, name: keyof RprocOps): unknown {
  const record: Partial<Record<keyof RprocOps, unknown>> = ops;
  return record[name];
}

function alloc(registry: RprocRegistry, name = 'm0', extra: Partial<RprocOps> = {}): Rproc {
  return rprocAlloc({ name, ops: new FakePlatform().ops(extra), registry, autoBoot: false });
}

/** A processor found running: a small live table in RAM, allocated as detached. */
function detachedRig(): ReturnType<typeof rig> {
  const r = rig({ alloc: { detached: true } });
  installLiveTable(r.platform, buildRscTable([{ kind: 'carveout', len: 0x1000, name: 'shm' }]));
  return r;
}

describe('rprocAlloc', () => {
  it('hands out the lowest free index and names the device remoteproc<N>', () => {
    const registry = new RprocRegistry();
    const [a, b, c] = [alloc(registry, 'a'), alloc(registry, 'b'), alloc(registry, 'c')];
    assert.deepEqual(
      [a, b, c].map((r) => [r.index, r.devName]),
      [
        [0, 'remoteproc0'],
        [1, 'remoteproc1'],
        [2, 'remoteproc2'],
      ],
    );
    b.free();
    assert.equal(alloc(registry, 'd').index, 1);
    assert.equal(alloc(registry, 'e').index, 3);
  });

  it('starts offline (or detached) with power 0, auto-boot on and the default firmware name', () => {
    const registry = new RprocRegistry();
    const r = rprocAlloc({ name: 'dsp', ops: new FakePlatform().ops(), registry });
    assert.equal(r.state, 'offline');
    assert.equal(r.power, 0);
    assert.equal(r.autoBoot, true);
    assert.equal(r.firmware, 'rproc-dsp-fw');
    assert.equal(r.crash.recoveryDisabled, false);
    assert.equal(r.coredump.mode, 'disabled');
    assert.equal(r.added, false);
    const d = rprocAlloc({
      name: 'm4',
      ops: new FakePlatform().ops(),
      registry,
      firmware: 'x.elf',
      detached: true,
    });
    assert.equal(d.state, 'detached');
    assert.equal(d.firmware, 'x.elf');
  });

  it('refuses an empty name', () => {
    assert.throws(
      () => rprocAlloc({ name: '', ops: {}, registry: new RprocRegistry() }),
      (e: unknown) => e instanceof Error && /EINVAL/.test(e.message),
    );
  });

  const load = (): void => undefined;
  const parseFw = (): undefined => undefined;
  const table: readonly {
    readonly title: string;
    readonly ops: Partial<RprocOps>;
    readonly expect: Record<(typeof ELF_OPS)[number], 'elf' | 'platform' | 'absent'>;
  }[] = [
    {
      title: 'no load op: every ELF helper is installed',
      ops: {},
      expect: {
        sanityCheck: 'elf',
        getBootAddr: 'elf',
        parseFw: 'elf',
        findLoadedRscTable: 'elf',
        load: 'elf',
      },
    },
    {
      title: 'own load op: none of them is',
      ops: { load },
      expect: {
        sanityCheck: 'absent',
        getBootAddr: 'absent',
        parseFw: 'absent',
        findLoadedRscTable: 'absent',
        load: 'platform',
      },
    },
    {
      title: 'no load op but an own parseFw: the platform op is kept, the rest defaulted',
      ops: { parseFw },
      expect: {
        sanityCheck: 'elf',
        getBootAddr: 'elf',
        parseFw: 'platform',
        findLoadedRscTable: 'elf',
        load: 'elf',
      },
    },
  ];
  for (const t of table) {
    it(`ops defaults — ${t.title}`, () => {
      const platformOps = new FakePlatform().ops(t.ops);
      const r = rprocAlloc({ name: 'm0', ops: platformOps, registry: new RprocRegistry() });
      const reference = rprocAlloc({ name: 'ref', ops: {}, registry: new RprocRegistry() });
      for (const op of ELF_OPS) {
        const got = opOf(r.ops, op);
        const expected = t.expect[op];
        if (expected === 'absent') assert.equal(got, undefined, op);
        else if (expected === 'platform') assert.equal(got, opOf(platformOps, op), op);
        else assert.equal(got, opOf(reference.ops, op), op);
        if (expected === 'elf') assert.equal(typeof got, 'function', op);
      }
    });
  }

  it('copies the ops: changing the platform object afterwards changes nothing', () => {
    const platform = new FakePlatform();
    const ops = platform.ops();
    const r = rprocAlloc({ name: 'm0', ops, registry: new RprocRegistry() });
    const start = opOf(r.ops, 'start');
    ops.start = () => undefined;
    assert.equal(opOf(r.ops, 'start'), start);
  });
});

describe('add', () => {
  const cases: readonly {
    readonly title: string;
    readonly detached: boolean;
    readonly without: readonly (keyof RprocOps)[];
    readonly ok: boolean;
  }[] = [
    { title: 'offline with a start op', detached: false, without: [], ok: true },
    { title: 'offline without a start op', detached: false, without: ['start'], ok: false },
    { title: 'detached with an attach op', detached: true, without: [], ok: true },
    { title: 'detached without an attach op', detached: true, without: ['attach'], ok: false },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'refuses (EINVAL)'} a processor ${c.title}`, async () => {
      const { rproc, registry } = rig({ without: c.without, alloc: { detached: c.detached } });
      if (c.ok) {
        await rproc.add();
        assert.equal(rproc.added, true);
        assert.deepEqual(registry.list, [rproc]);
      } else {
        await rejectsWith(rproc.add(), 'EINVAL');
        assert.equal(rproc.added, false);
        assert.deepEqual(registry.list, []);
      }
    });
  }

  it('refuses a deleted processor (EINVAL) and a second add (EBUSY)', async () => {
    const { rproc } = rig();
    await rproc.add();
    await rejectsWith(rproc.add(), 'EBUSY');
    await rproc.del();
    await rejectsWith(rproc.add(), 'EINVAL');
  });

  it('auto-boots an offline processor after add returns', async () => {
    const { rproc, platform } = rig({ alloc: { autoBoot: true } });
    await rproc.add();
    assert.equal(rproc.state, 'offline');
    assert.equal(platform.calls.length, 0);
    await rproc.autoBootDone;
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
    assert.ok(platform.calls.includes('start'));
  });

  it('a failed auto-boot leaves add successful, the processor offline with power 0, and logs', async () => {
    const { rproc, logs } = rig({ firmware: null, alloc: { autoBoot: true } });
    await rproc.add();
    await rproc.autoBootDone;
    assert.equal(rproc.added, true);
    assert.equal(rproc.state, 'offline');
    assert.equal(rproc.power, 0);
    assert.ok(
      logs.some((l) => l.startsWith('error: Boot failed') && l.includes('ENOENT')),
      logs.join('\n'),
    );
  });

  it('auto-attaches a detached processor before add returns', async () => {
    const { rproc, platform } = detachedRig();
    rproc.autoBoot = true;
    await rproc.add();
    assert.equal(rproc.state, 'attached');
    assert.equal(rproc.power, 1);
    assert.ok(platform.calls.includes('attach'));
  });

  it('a failed auto-attach fails add and leaves nothing registered or held', async () => {
    const { rproc, platform, registry } = detachedRig();
    rproc.autoBoot = true;
    platform.failOn({ op: 'attach' });
    await rejectsWith(rproc.add(), 'EIO');
    assert.equal(rproc.added, false);
    assert.deepEqual(registry.list, []);
    assert.equal(rproc.state, 'detached');
    assert.equal(rproc.power, 0);
    assert.ok(rproc.resources.idle);
    assert.equal(platform.pool.outstanding, 0);
  });
});

describe('power refcount', () => {
  it('boots on 0→1 only and stops on 1→0 only', async () => {
    const { rproc, platform } = rig();
    await rproc.boot();
    await rproc.boot();
    assert.equal(rproc.power, 2);
    assert.equal(platform.calls.filter((c) => c === 'start').length, 1);
    await rproc.shutdown();
    assert.equal(rproc.power, 1);
    assert.equal(rproc.state, 'running');
    assert.ok(!platform.calls.includes('stop'));
    await rproc.shutdown();
    assert.equal(rproc.power, 0);
    assert.equal(rproc.state, 'offline');
    assert.equal(platform.calls.filter((c) => c === 'stop').length, 1);
    assert.ok(rproc.resources.idle);
  });

  it('a boot with power ≥ 1 does not even look for the firmware', async () => {
    const { rproc, store } = rig();
    await rproc.boot();
    store.remove('fw');
    await rproc.boot();
    assert.equal(rproc.power, 2);
  });

  it('a failed boot gives its power reference back', async () => {
    const { rproc } = rig({ firmware: null });
    await rejectsWith(rproc.boot(), 'ENOENT');
    assert.equal(rproc.power, 0);
    assert.equal(rproc.state, 'offline');
  });

  const refusing: readonly { readonly state: RprocState; readonly make: () => Promise<Rproc> }[] = [
    { state: 'offline', make: () => Promise.resolve(rig().rproc) },
    { state: 'detached', make: () => Promise.resolve(detachedRig().rproc) },
  ];
  for (const c of refusing) {
    it(`shutdown of a ${c.state} processor is EINVAL and leaves power alone`, async () => {
      const rproc = await c.make();
      await rejectsWith(rproc.shutdown(), 'EINVAL');
      assert.equal(rproc.power, 0);
      assert.equal(rproc.state, c.state);
    });
  }

  it('TC-C13: boot of a deleted processor is ENODEV', async () => {
    const { rproc, platform } = rig();
    await rproc.add();
    await rproc.del();
    await rejectsWith(rproc.boot(), 'ENODEV');
    assert.equal(rproc.power, 0);
    assert.equal(rproc.state, 'deleted');
    assert.deepEqual(platform.calls, []);
  });

  it('boot of a crashed processor only takes a power reference', async () => {
    const { rproc, platform } = rig();
    await rproc.boot();
    rproc.crash.recoveryDisabled = true;
    rproc.reportCrash(RPROC_WATCHDOG);
    await rproc.next('crash');
    const before = platform.calls.length;
    await rproc.boot();
    assert.equal(rproc.power, 2);
    assert.equal(rproc.state, 'crashed');
    assert.equal(platform.calls.length, before);
  });

  it('detach with power 2 only drops a reference', async () => {
    const { rproc, platform } = detachedRig();
    await rproc.boot();
    await rproc.boot();
    await rproc.detach();
    assert.equal(rproc.power, 1);
    assert.equal(rproc.state, 'attached');
    assert.ok(!platform.calls.includes('detach'));
    await rproc.detach();
    assert.equal(rproc.power, 0);
    assert.equal(rproc.state, 'detached');
  });
});

describe('concurrent callers', () => {
  it('two boot() calls at once boot once and hold power 2', async () => {
    const { rproc, platform } = rig();
    await Promise.all([rproc.boot(), rproc.boot()]);
    assert.equal(rproc.power, 2);
    assert.equal(platform.calls.filter((c) => c === 'start').length, 1);
    assert.equal(platform.calls.filter((c) => c === 'prepare').length, 1);
  });

  it('boot and shutdown calls run one at a time, in call order', async () => {
    const { rproc, platform } = rig({
      ops: (p) => ({
        // A slow start: a shutdown issued meanwhile must wait for the boot to finish.
        start: async () => {
          p.record('start');
          await new Promise((resolve) => setTimeout(resolve, 5));
          p.record('start:done');
        },
      }),
    });
    const results = await Promise.allSettled([
      rproc.boot(),
      rproc.shutdown(),
      rproc.boot(),
      rproc.shutdown(),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    const ops = platform.calls.filter((c) => ['start', 'start:done', 'stop'].includes(c));
    assert.deepEqual(ops, ['start', 'start:done', 'stop', 'start', 'start:done', 'stop']);
    assert.equal(rproc.state, 'offline');
    assert.equal(rproc.power, 0);
  });

  it('a shutdown issued before a boot is refused even if the boot is already queued', async () => {
    const { rproc } = rig();
    const [s, b] = await Promise.allSettled([rproc.shutdown(), rproc.boot()]);
    assert.equal(s.status, 'rejected');
    assert.equal(b.status, 'fulfilled');
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
  });

  it('one caller failing does not block the next', async () => {
    const { rproc, platform } = rig();
    platform.failOn({ op: 'start', nth: 1 });
    const [first, second] = await Promise.allSettled([rproc.boot(), rproc.boot()]);
    assert.equal(first.status, 'rejected');
    assert.equal(second.status, 'fulfilled');
    assert.equal(rproc.power, 1);
    assert.equal(rproc.state, 'running');
  });
});

describe('setFirmware', () => {
  const names: readonly { readonly input: string; readonly result: string }[] = [
    { input: 'other.elf', result: 'other.elf' },
    { input: 'other.elf\n', result: 'other.elf' },
    { input: 'name\nmore', result: 'name' },
    { input: '', result: 'EINVAL' },
    { input: '\n', result: 'EINVAL' },
    { input: '\nname', result: 'EINVAL' },
  ];
  for (const n of names) {
    it(`${JSON.stringify(n.input)} → ${n.result}`, async () => {
      const { rproc } = rig();
      if (n.result === 'EINVAL') {
        await rejectsWith(rproc.setFirmware(n.input), 'EINVAL');
        assert.equal(rproc.firmware, 'fw');
      } else {
        await rproc.setFirmware(n.input);
        assert.equal(rproc.firmware, n.result);
      }
    });
  }

  it('the next boot loads the new name', async () => {
    const { rproc, store } = rig({ firmware: null });
    store.add('b.elf', helloElf());
    await rproc.setFirmware('b.elf\n');
    await rproc.boot();
    assert.equal(rproc.state, 'running');
  });

  const busy: readonly { readonly state: RprocState; readonly make: () => Promise<Rproc> }[] = [
    {
      state: 'running',
      make: async () => {
        const { rproc } = rig();
        await rproc.boot();
        return rproc;
      },
    },
    {
      state: 'attached',
      make: async () => {
        const { rproc } = detachedRig();
        await rproc.boot();
        return rproc;
      },
    },
    { state: 'detached', make: () => Promise.resolve(detachedRig().rproc) },
    {
      state: 'crashed',
      make: async () => {
        const { rproc } = rig();
        await rproc.boot();
        rproc.crash.recoveryDisabled = true;
        rproc.reportCrash(RPROC_WATCHDOG);
        await rproc.next('crash');
        return rproc;
      },
    },
    {
      state: 'deleted',
      make: async () => {
        const { rproc } = rig();
        await rproc.del();
        return rproc;
      },
    },
  ];
  for (const b of busy) {
    it(`is EBUSY while ${b.state}`, async () => {
      const rproc = await b.make();
      assert.equal(rproc.state, b.state);
      await rejectsWith(rproc.setFirmware('other.elf'), 'EBUSY');
      assert.equal(rproc.firmware, 'fw');
    });
  }
});

describe('registry references', () => {
  it('getByPhandle finds added processors only and takes a reference', async () => {
    const registry = new RprocRegistry();
    const store = new FirmwareStore();
    const r = rprocAlloc({
      name: 'm0',
      ops: new FakePlatform().ops(),
      registry,
      phandle: 7,
      autoBoot: false,
      firmwareStore: store,
    });
    assert.equal(registry.getByPhandle(7), undefined);
    await r.add();
    assert.equal(registry.getByPhandle(8), undefined);
    const h = registry.getByPhandle(7);
    assert.equal(h, r);
    assert.equal(registry.byName('m0'), r);
    assert.equal(registry.byIndex(r.index), r);
    // The allocation reference goes; the handle keeps the index taken.
    await r.del();
    assert.equal(registry.getByPhandle(7), undefined);
    assert.equal(registry.byName('m0'), undefined);
    r.free();
    const other = alloc(registry, 'other');
    assert.notEqual(other.index, r.index);
    // The last reference goes: the index is free again.
    h.put();
    assert.equal(alloc(registry, 'again').index, r.index);
  });

  it('each getByPhandle needs its own put', async () => {
    const registry = new RprocRegistry();
    const r = rprocAlloc({
      name: 'm0',
      ops: new FakePlatform().ops(),
      registry,
      phandle: 3,
      autoBoot: false,
    });
    await r.add();
    const h1 = registry.getByPhandle(3);
    const h2 = registry.getByPhandle(3);
    r.free();
    h1?.put();
    assert.equal(alloc(registry, 'x').index, 1);
    h2?.put();
    assert.equal(alloc(registry, 'y').index, 0);
  });
});

describe('del', () => {
  it('stops a running processor, releases everything and unregisters it', async () => {
    const { rproc, platform, registry } = rig();
    await rproc.add();
    await rproc.boot();
    await rproc.del();
    assert.equal(rproc.state, 'deleted');
    assert.equal(rproc.power, 0);
    assert.equal(rproc.added, false);
    assert.deepEqual(registry.list, []);
    assert.ok(platform.calls.includes('stop'));
    assert.equal(platform.calls.at(-1), 'unprepare');
    assert.ok(rproc.resources.idle);
    assert.equal(platform.pool.outstanding, 0);
  });

  it('a crash reported after del changes nothing', async () => {
    const { rproc } = rig();
    await rproc.boot();
    await rproc.del();
    rproc.reportCrash(RPROC_WATCHDOG);
    await settle();
    assert.equal(rproc.state, 'deleted');
    assert.equal(rproc.crash.count, 0);
  });

  it('del of a detached processor leaves the core alone', async () => {
    const { rproc, platform } = detachedRig();
    await rproc.add();
    await rproc.del();
    assert.equal(rproc.state, 'deleted');
    assert.deepEqual(platform.calls, []);
  });
});
