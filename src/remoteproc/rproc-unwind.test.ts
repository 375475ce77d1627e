// Every multi-step operation unwinds in reverse (rproc_fw_boot, rproc_start, rproc_attach, subdevices): a failure
// is injected at every recorded step of a firmware boot and of an attach in turn, plus the resource
// steps that record nothing (DMA pool exhausted, carveout not fitting its region, bad table), and
// the exact call sequence, the state, the power count and what stays allocated are checked.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRscTable } from '../rsc/rsc-build.ts';
import type { RscEntrySpec } from '../rsc/rsc-types.ts';
import { MemEntry } from './carveouts.ts';
import type { Rproc } from './rproc.ts';
import type { FakePlatform } from '../testing/fake-platform.ts';
import {
  firmwareWithTable,
  installLiveTable,
  rejectsWith,
  rig,
  type Rig,
  type RigOptions,
} from '../../test/support/rproc-fixtures.ts';
import type { ErrnoName } from '../util/errors.ts';

const PREPARES = ['prepare', 'sd:a:prepare', 'sd:b:prepare'];

/** Calls of a successful boot of hello.elf with subdevs a, b and its one vdev. */
const BOOT_CALLS = [...PREPARES, 'start', 'sd:a:start', 'sd:b:start', 'vdev0:start'];

/** calls[N-1] fails → the whole recorded sequence. */
const BOOT_FAILURES: readonly (readonly string[])[] = [
  ['prepare'],
  ['prepare', 'sd:a:prepare', 'unprepare'],
  [...PREPARES, 'sd:a:unprepare', 'unprepare'],
  [...PREPARES, 'start', 'sd:b:unprepare', 'sd:a:unprepare', 'unprepare'],
  [...PREPARES, 'start', 'sd:a:start', 'stop', 'sd:b:unprepare', 'sd:a:unprepare', 'unprepare'],
  [
    ...PREPARES,
    'start',
    'sd:a:start',
    'sd:b:start',
    'sd:a:stop(crashed)',
    'stop',
    'sd:b:unprepare',
    'sd:a:unprepare',
    'unprepare',
  ],
  [
    ...PREPARES,
    'start',
    'sd:a:start',
    'sd:b:start',
    'vdev0:start',
    'sd:b:stop(crashed)',
    'sd:a:stop(crashed)',
    'stop',
    'sd:b:unprepare',
    'sd:a:unprepare',
    'unprepare',
  ],
];

const ATTACH_PREPARES = ['prepare', 'getLoadedRscTable', 'sd:a:prepare', 'sd:b:prepare'];
const ATTACH_CALLS = [...ATTACH_PREPARES, 'attach', 'sd:a:start', 'sd:b:start', 'vdev0:start'];
const ATTACH_FAILURES: readonly (readonly string[])[] = [
  ['prepare'],
  ['prepare', 'getLoadedRscTable', 'unprepare'],
  ['prepare', 'getLoadedRscTable', 'sd:a:prepare', 'unprepare'],
  [...ATTACH_PREPARES, 'sd:a:unprepare', 'unprepare'],
  [...ATTACH_PREPARES, 'attach', 'sd:b:unprepare', 'sd:a:unprepare', 'unprepare'],
  // Linux's __rproc_attach unwinds a subdevice start failure with ops->stop, as rproc_start does.
  [...ATTACH_PREPARES, 'attach', 'sd:a:start', 'stop', 'sd:b:unprepare', 'sd:a:unprepare', 'unprepare'],
  [
    ...ATTACH_PREPARES,
    'attach',
    'sd:a:start',
    'sd:b:start',
    'sd:a:stop(crashed)',
    'stop',
    'sd:b:unprepare',
    'sd:a:unprepare',
    'unprepare',
  ],
  [
    ...ATTACH_PREPARES,
    'attach',
    'sd:a:start',
    'sd:b:start',
    'vdev0:start',
    'sd:b:stop(crashed)',
    'sd:a:stop(crashed)',
    'stop',
    'sd:b:unprepare',
    'sd:a:unprepare',
    'unprepare',
  ],
];

/** The table of a core found running: a carveout, a trace buffer and an rpmsg-like vdev. */
const LIVE_TABLE_SPEC: readonly RscEntrySpec[] = [
  { kind: 'carveout', len: 0x2000, name: 'shm' },
  { kind: 'trace', da: 0x8000_3000, len: 0x100, name: 'trace0' },
  {
    kind: 'vdev',
    id: 7,
    dfeatures: 1,
    vrings: [
      { align: 16, num: 16, notifyId: 9 },
      { align: 16, num: 16, notifyId: 9 },
    ],
  },
];

function attachRig(options: RigOptions = {}): Rig & { live: Uint8Array; pristine: Uint8Array } {
  const r = rig({ ...options, alloc: { detached: true, ...options.alloc } });
  const pristine = buildRscTable(LIVE_TABLE_SPEC);
  const live = installLiveTable(r.platform, pristine);
  return { ...r, live, pristine };
}

/** Nothing held after a failed operation: power 0, no resources, no tables, the pool empty. */
function assertNothingHeld(rproc: Rproc, platform: FakePlatform, state: 'offline' | 'detached'): void {
  assert.equal(rproc.state, state);
  assert.equal(rproc.power, 0);
  assert.ok(rproc.resources.idle, 'carveouts, traces, vdevs, notify ids and tables are all released');
  assert.equal(rproc.resources.table, undefined);
  assert.equal(platform.pool.outstanding, 0);
}

describe('boot unwinding', () => {
  it('a successful boot makes exactly the calls the failure table covers', async () => {
    const { rproc, platform } = rig();
    await rproc.boot();
    assert.deepEqual(platform.calls, BOOT_CALLS);
    assert.equal(BOOT_FAILURES.length, BOOT_CALLS.length);
  });

  BOOT_FAILURES.forEach((expected, i) => {
    const n = i + 1;
    it(`failure at call ${n} (${BOOT_CALLS[i]}) unwinds in reverse`, async () => {
      const { rproc, platform } = rig();
      platform.failOn({ call: n });
      await rejectsWith(rproc.boot(), 'EIO');
      assert.deepEqual(platform.calls, expected);
      assertNothingHeld(rproc, platform, 'offline');
      // Nothing stale stays behind: the same processor boots once the fault is gone.
      platform.clearFailures();
      platform.calls.length = 0;
      await rproc.boot();
      assert.deepEqual(platform.calls, BOOT_CALLS);
      assert.equal(rproc.state, 'running');
    });
  });

  const resourceFailures: readonly {
    readonly title: string;
    readonly code: ErrnoName;
    readonly calls: readonly string[];
    readonly options?: RigOptions;
    readonly arrange?: (r: Rig) => void;
  }[] = [
    {
      title: 'firmware not in the store',
      code: 'ENOENT',
      calls: [],
      options: { firmware: null },
    },
    {
      title: 'not an ELF image (sanity check)',
      code: 'EINVAL',
      calls: [],
      options: { firmware: new TextEncoder().encode('#!/bin/sh\necho not firmware\n'.repeat(4)) },
    },
    {
      title: 'DMA pool exhausted',
      code: 'ENOMEM',
      calls: ['prepare', 'unprepare'],
      arrange: ({ platform }) => {
        platform.pool.exhausted = true;
      },
    },
    {
      title: 'the pool has room for the carveout but not for the vrings',
      code: 'ENOMEM',
      calls: ['prepare', 'unprepare'],
      arrange: ({ platform }) => {
        // Leave 0x9000 bytes of the pool: the 0x8000-byte heap fits, the first 0x2000 vring does not.
        const hog = platform.pool.alloc(platform.map.poolSize - 0x9000, 0x9000_9000);
        assert.ok(hog !== undefined);
      },
    },
    {
      title: 'carveout larger than the region the platform registered under its name',
      code: 'ENOMEM',
      calls: ['prepare', 'unprepare'],
      options: {
        ops: (p) => ({
          prepare: (r) => {
            p.record('prepare');
            r.resources.carveouts.add(new MemEntry({ name: 'hello-heap', da: 0x9008_0000, len: 0x1000 }));
          },
        }),
      },
    },
    {
      title: 'bad table header (ver 2)',
      code: 'EINVAL',
      calls: ['prepare', 'unprepare'],
      options: {
        firmware: firmwareWithTable(
          (() => {
            const t = buildRscTable([]);
            t[0] = 2;
            return t;
          })(),
        ),
      },
    },
    {
      title: 'bad entry (vdev with 3 vrings)',
      code: 'EINVAL',
      calls: ['prepare', 'unprepare'],
      options: {
        firmware: firmwareWithTable(
          buildRscTable([
            { kind: 'carveout', len: 0x1000, name: 'first' },
            {
              kind: 'vdev',
              id: 7,
              vrings: [
                { align: 16, num: 16 },
                { align: 16, num: 16 },
                { align: 16, num: 16 },
              ],
            },
          ]),
        ),
      },
    },
    {
      title: 'devmem entry after carveouts and vrings were registered (no IOMMU)',
      code: 'EINVAL',
      calls: ['prepare', 'unprepare'],
      options: {
        firmware: firmwareWithTable(
          buildRscTable([
            { kind: 'carveout', len: 0x1000, name: 'first' },
            { kind: 'vdev', id: 7, vrings: [{ align: 16, num: 16 }] },
            { kind: 'trace', da: 0x8000_3000, len: 0x100 },
            { kind: 'devmem', da: 0x4000_0000, pa: 0x4000_0000, len: 0x1000, name: 'uart' },
          ]),
        ),
      },
    },
    {
      title: 'a segment outside every memory (load fails after the carveouts were allocated)',
      code: 'EINVAL',
      calls: ['prepare', 'unprepare'],
      options: {
        firmware: firmwareWithTable(
          buildRscTable([
            { kind: 'carveout', len: 0x1000, name: 'first' },
            { kind: 'vdev', id: 7, vrings: [{ align: 16, num: 16 }] },
          ]),
          { segments: [{ paddr: 0x7000_0000, data: new Uint8Array(16) }] },
        ),
      },
    },
  ];
  for (const f of resourceFailures) {
    it(`${f.title} → ${f.code}, unwound`, async () => {
      const r = rig(f.options);
      const outstandingBefore = r.platform.pool.outstanding;
      f.arrange?.(r);
      const arranged = r.platform.pool.outstanding;
      await rejectsWith(r.rproc.boot(), f.code);
      assert.deepEqual(r.platform.calls, f.calls);
      assert.equal(r.rproc.state, 'offline');
      assert.equal(r.rproc.power, 0);
      assert.ok(r.rproc.resources.idle);
      assert.equal(r.platform.pool.outstanding, arranged, 'only what the test itself took stays allocated');
      assert.equal(outstandingBefore, 0);
    });
  }

  it('a stop that fails while unwinding is logged; subdevices are still unprepared, the first error wins', async () => {
    const { rproc, platform, logs } = rig();
    platform.failOn({ op: 'sd:b:start' });
    platform.failOn({ op: 'stop' });
    const error = await rejectsWith(rproc.boot(), 'EIO');
    assert.match(error.message, /sd:b:start/);
    assert.deepEqual(platform.calls, BOOT_FAILURES[5]);
    assertNothingHeld(rproc, platform, 'offline');
    assert.ok(
      logs.some((l) => l.startsWith('error: stop while unwinding failed')),
      logs.join('\n'),
    );
  });

  it('errors of unwinding steps are logged, not thrown, and every step still runs', async () => {
    const { rproc, platform, logs } = rig();
    platform.failOn({ op: 'start' });
    platform.failOn({ op: 'sd:b:unprepare' });
    platform.failOn({ op: 'unprepare' });
    const error = await rejectsWith(rproc.boot(), 'EIO');
    assert.match(error.message, /at start/);
    assert.deepEqual(platform.calls, BOOT_FAILURES[3]);
    assertNothingHeld(rproc, platform, 'offline');
    assert.ok(
      logs.some((l) => l.includes('subdevice b unprepare failed')),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => l.includes('unprepare failed') && !l.includes('subdevice')),
      logs.join('\n'),
    );
  });
});

describe('attach unwinding', () => {
  it('a successful attach makes exactly the calls the failure table covers', async () => {
    const { rproc, platform } = attachRig();
    await rproc.boot();
    assert.deepEqual(platform.calls, ATTACH_CALLS);
    assert.equal(ATTACH_FAILURES.length, ATTACH_CALLS.length);
    assert.equal(rproc.state, 'attached');
  });

  ATTACH_FAILURES.forEach((expected, i) => {
    const n = i + 1;
    it(`failure at call ${n} (${ATTACH_CALLS[i]}) unwinds in reverse and leaves the live table as found`, async () => {
      const { rproc, platform, live, pristine } = attachRig();
      platform.failOn({ call: n });
      await rejectsWith(rproc.boot(), 'EIO');
      assert.deepEqual(platform.calls, expected);
      assertNothingHeld(rproc, platform, 'detached');
      assert.deepEqual(live, pristine, "the remote's table is not left edited");
      platform.clearFailures();
      platform.calls.length = 0;
      await rproc.boot();
      assert.deepEqual(platform.calls, ATTACH_CALLS);
      assert.equal(rproc.state, 'attached');
    });
  });

  const resourceFailures: readonly {
    readonly title: string;
    readonly code: ErrnoName;
    readonly arrange: (r: Rig & { live: Uint8Array }) => void;
  }[] = [
    {
      title: 'DMA pool exhausted',
      code: 'ENOMEM',
      arrange: ({ platform }) => {
        platform.pool.exhausted = true;
      },
    },
    {
      title: 'bad live table (ver 2)',
      code: 'EINVAL',
      arrange: ({ live }) => {
        live[0] = 2;
      },
    },
    {
      title: 'carveout that does not fit the region registered under its name',
      code: 'ENOMEM',
      arrange: ({ rproc }) => {
        rproc.resources.carveouts.add(new MemEntry({ name: 'shm', da: 0x9000_0000, len: 0x1000 }));
      },
    },
  ];
  for (const f of resourceFailures) {
    it(`${f.title} → ${f.code}, unwound`, async () => {
      const r = attachRig();
      f.arrange(r);
      const expectedLive = r.live.slice();
      await rejectsWith(r.rproc.boot(), f.code);
      assert.deepEqual(r.platform.calls, ['prepare', 'getLoadedRscTable', 'unprepare']);
      assertNothingHeld(r.rproc, r.platform, 'detached');
      assert.deepEqual(r.live, expectedLive);
    });
  }
});

describe('shutdown, detach and subdevice failures', () => {
  it('a failing stop leaves the processor running with its power reference', async () => {
    const { rproc, platform } = rig();
    await rproc.boot();
    const carveouts = rproc.resources.carveouts.list.map((c) => c.da);
    platform.calls.length = 0;
    platform.failOn({ op: 'stop' });
    await rejectsWith(rproc.shutdown(), 'EIO');
    assert.deepEqual(platform.calls, ['vdev0:stop', 'sd:b:stop', 'sd:a:stop', 'stop']);
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
    assert.deepEqual(
      rproc.resources.carveouts.list.map((c) => c.da),
      carveouts,
    );
    assert.ok(!rproc.resources.idle);
    platform.clearFailures();
    platform.calls.length = 0;
    await rproc.shutdown();
    assert.deepEqual(platform.calls, [
      'vdev0:stop',
      'sd:b:stop',
      'sd:a:stop',
      'stop',
      'sd:b:unprepare',
      'sd:a:unprepare',
      'unprepare',
    ]);
    assertNothingHeld(rproc, platform, 'offline');
  });

  it('a failing detach leaves the processor attached with its power reference', async () => {
    const { rproc, platform } = attachRig();
    await rproc.boot();
    platform.calls.length = 0;
    platform.failOn({ op: 'detach' });
    await rejectsWith(rproc.detach(), 'EIO');
    assert.deepEqual(platform.calls, ['vdev0:stop', 'sd:b:stop', 'sd:a:stop', 'detach']);
    assert.equal(rproc.state, 'attached');
    assert.equal(rproc.power, 1);
    platform.clearFailures();
    platform.calls.length = 0;
    await rproc.detach();
    assert.deepEqual(platform.calls, [
      'vdev0:stop',
      'sd:b:stop',
      'sd:a:stop',
      'detach',
      'sd:b:unprepare',
      'sd:a:unprepare',
      'unprepare',
    ]);
    assertNothingHeld(rproc, platform, 'detached');
  });

  it('a subdevice start failure stops the started ones (crashed) in reverse, then the core, then unprepares all', async () => {
    const { rproc, platform } = rig({ subdevs: ['a', 'b', 'c'] });
    platform.failOn({ op: 'sd:c:start' });
    await rejectsWith(rproc.boot(), 'EIO');
    assert.deepEqual(platform.calls.slice(platform.calls.indexOf('sd:c:start')), [
      'sd:c:start',
      'sd:b:stop(crashed)',
      'sd:a:stop(crashed)',
      'stop',
      'sd:c:unprepare',
      'sd:b:unprepare',
      'sd:a:unprepare',
      'unprepare',
    ]);
    assertNothingHeld(rproc, platform, 'offline');
  });
});
