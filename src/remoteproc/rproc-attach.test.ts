// Attach mode (rproc_attach/rproc_detach, the live table; TC-L01…L04): a core
// found running with its table in device memory. The live table is adopted and edited in place,
// detach puts the pristine table back (TC-L04), cleanup never trusts fields the remote can rewrite
// (TC-L01, TC-L02), and a live table smaller than its header claims is refused (TC-L03).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRscTable } from '../rsc/rsc-build.ts';
import { FW_RSC_ADDR_ANY } from '../rsc/rsc-constants.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../rsc/rsc-layout.ts';
import { parseRscTable } from '../rsc/rsc-parse.ts';
import type { RscCarveout, RscEntrySpec, RscVdev } from '../rsc/rsc-types.ts';
import {
  installLiveTable,
  isViewOf,
  rejectsWith,
  rig,
  setU32,
  u32,
  type Rig,
  type RigOptions,
} from '../../test/support/rproc-fixtures.ts';

const LIVE_DA = 0x8000_2000;
const RAM_DA = 0x8000_0000;

const SPEC: readonly RscEntrySpec[] = [
  { kind: 'carveout', len: 0x2000, name: 'shm' },
  {
    kind: 'vdev',
    id: 7,
    dfeatures: 1,
    // What the remote wrote before Linux came along: ids the host will replace.
    vrings: [
      { align: 16, num: 16, notifyId: 9 },
      { align: 16, num: 16, notifyId: 9 },
    ],
  },
  { kind: 'trace', da: 0x8000_3000, len: 0x100 },
];

interface AttachRig extends Rig {
  /** The live table: a view of fake RAM. */
  readonly live: Uint8Array;
  /** Its bytes as the remote wrote them. */
  readonly pristine: Uint8Array;
}

function attachRig(spec: readonly RscEntrySpec[] = SPEC, options: RigOptions = {}): AttachRig {
  const r = rig({ ...options, alloc: { detached: true, ...options.alloc } });
  r.platform.ram.fill(0xee);
  const pristine = buildRscTable(spec);
  const live = installLiveTable(r.platform, pristine, LIVE_DA);
  return { ...r, live, pristine };
}

function vdevOf(table: Uint8Array): RscVdev {
  const v = parseRscTable(table).entries.find((e): e is RscVdev => e.kind === 'vdev');
  assert.ok(v !== undefined);
  return v;
}

function carveoutOf(table: Uint8Array): RscCarveout {
  const c = parseRscTable(table).entries.find((e): e is RscCarveout => e.kind === 'carveout');
  assert.ok(c !== undefined);
  return c;
}

/** The host copy the table pointer switches to when the core stops or is let go. */
function captureHostCopy(r: Rig): { copy: Uint8Array | undefined } {
  const seen: { copy: Uint8Array | undefined } = { copy: undefined };
  r.rproc.on('state', (e) => {
    if (e.to === 'offline' || e.to === 'detached') seen.copy = r.rproc.resources.table;
  });
  return seen;
}

describe('attach', () => {
  it('adopts the live table: carveout and notify ids are written into device memory', async () => {
    const r = attachRig();
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'attached');
    assert.ok(isViewOf(r.rproc.resources.table, r.platform.ram));
    assert.equal(r.rproc.resources.table?.byteOffset, LIVE_DA - RAM_DA);
    const carveout = carveoutOf(r.live);
    const mem = r.rproc.resources.carveouts.list.find((c) => c.name === 'shm');
    assert.ok(mem?.buffer !== undefined);
    assert.deepEqual([carveout.da, carveout.pa, carveout.len], [mem.buffer.da, mem.buffer.pa, 0x2000]);
    assert.deepEqual(
      vdevOf(r.live).vrings.map((v) => [v.notifyId, v.da]),
      [
        [0, FW_RSC_ADDR_ANY],
        [1, FW_RSC_ADDR_ANY],
      ],
    );
    assert.deepEqual(
      r.rproc.resources.traces.map((t) => t.da),
      [0x8000_3000],
    );
    // Nothing is loaded in attach mode: RAM outside the table is untouched.
    assert.ok(r.platform.ram.subarray(0, LIVE_DA - RAM_DA).every((b) => b === 0xee));
  });

  it('without a table the attach goes on with no resources', async () => {
    const r = rig({ alloc: { detached: true } });
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'attached');
    assert.equal(r.rproc.resources.table, undefined);
    assert.deepEqual(r.rproc.resources.carveouts.list, []);
    await r.rproc.detach();
    assert.ok(r.rproc.resources.idle);
  });

  it('TC-L04: detach restores the pristine table into device memory; re-attach assigns ids again', async () => {
    const r = attachRig();
    await r.rproc.boot();
    assert.notDeepEqual(r.live, r.pristine);
    await r.rproc.detach();
    assert.equal(r.rproc.state, 'detached');
    assert.deepEqual(r.live, r.pristine);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.platform.pool.outstanding, 0);
    assert.equal(r.platform.running, false, 'the fake core was never started by us');
    r.platform.calls.length = 0;
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'attached');
    assert.deepEqual(r.platform.calls, [
      'prepare',
      'getLoadedRscTable',
      'sd:a:prepare',
      'sd:b:prepare',
      'attach',
      'sd:a:start',
      'sd:b:start',
      'vdev0:start',
    ]);
    assert.deepEqual(
      vdevOf(r.live).vrings.map((v) => v.notifyId),
      [0, 1],
    );
    assert.notEqual(carveoutOf(r.live).da, FW_RSC_ADDR_ANY);
  });

  it('shutdown of an attached processor stops it and leaves device memory as it was', async () => {
    const r = attachRig();
    await r.rproc.boot();
    const before = r.platform.ram.slice();
    const seen = captureHostCopy(r);
    r.platform.calls.length = 0;
    await r.rproc.shutdown();
    assert.deepEqual(r.platform.calls, [
      'vdev0:stop',
      'sd:b:stop',
      'sd:a:stop',
      'stop',
      'sd:b:unprepare',
      'sd:a:unprepare',
      'unprepare',
    ]);
    assert.equal(r.rproc.state, 'offline');
    assert.deepEqual(r.platform.ram, before, 'cleanup writes go to a host copy');
    assert.ok(seen.copy !== undefined && !isViewOf(seen.copy, r.platform.ram));
    assert.deepEqual(
      vdevOf(seen.copy).vrings.map((v) => [v.da, v.notifyId]),
      [
        [0, 0xffff_ffff],
        [0, 0xffff_ffff],
      ],
    );
    assert.ok(r.rproc.resources.idle);
  });

  it('without a detach op no clean copy is kept: detach is refused, the table stays edited', async () => {
    const r = attachRig(SPEC, { without: ['detach'] });
    await r.rproc.boot();
    await rejectsWith(r.rproc.detach(), 'EINVAL');
    assert.equal(r.rproc.state, 'attached');
    assert.deepEqual(
      vdevOf(r.live).vrings.map((v) => v.notifyId),
      [0, 1],
    );
  });
});

describe('TC-L01/L02: the remote rewrites its live table after attach', () => {
  // One vring and 8 bytes of config space, then a trace entry: a host that re-read num_of_vrings
  // or config_len would write "vring 1" over the config space or walk past the table.
  const TAMPER_SPEC: readonly RscEntrySpec[] = [
    {
      kind: 'vdev',
      id: 7,
      vrings: [{ align: 16, num: 16 }],
      config: new Uint8Array(8).fill(0xcc),
    },
    { kind: 'trace', da: 0x8000_3000, len: 0x100 },
  ];

  const tampers: readonly {
    readonly title: string;
    readonly apply: (live: Uint8Array, body: number) => void;
  }[] = [
    { title: 'num_of_vrings 1 → 2', apply: (live, body) => (live[body + FW_RSC_VDEV.num_of_vrings] = 2) },
    { title: 'num_of_vrings 1 → 255', apply: (live, body) => (live[body + FW_RSC_VDEV.num_of_vrings] = 255) },
    { title: 'num_of_vrings 1 → 0', apply: (live, body) => (live[body + FW_RSC_VDEV.num_of_vrings] = 0) },
    {
      title: 'config_len 8 → 0xffffffff',
      apply: (live, body) => setU32(live, body + FW_RSC_VDEV.config_len, 0xffff_ffff),
    },
    {
      title: 'status and gfeatures',
      apply: (live, body) => {
        live[body + FW_RSC_VDEV.status] = 0xff;
        setU32(live, body + FW_RSC_VDEV.gfeatures, 0xffff_ffff);
      },
    },
  ];

  for (const how of ['detach', 'shutdown'] as const) {
    for (const t of tampers) {
      it(`${t.title}, then ${how}: cleanup writes only vring 0's da and notifyid`, async () => {
        const r = attachRig(TAMPER_SPEC);
        await r.rproc.boot();
        const body = vdevOf(r.pristine).bodyOffset;
        t.apply(r.live, body);
        const tampered = r.live.slice();
        const around = r.platform.ram.slice();
        const seen = captureHostCopy(r);
        if (how === 'detach') await r.rproc.detach();
        else await r.rproc.shutdown();
        // The host copy: exactly the tampered table with vring 0 reset, using the parse-time layout.
        assert.ok(seen.copy !== undefined);
        const expected = tampered.slice();
        const v0 = vringOffset(body, 0);
        setU32(expected, v0 + FW_RSC_VDEV_VRING.da, 0);
        setU32(expected, v0 + FW_RSC_VDEV_VRING.notifyid, 0xffff_ffff);
        assert.deepEqual(seen.copy, expected);
        // Device memory: the pristine table (detach) or untouched (shutdown), nothing beyond it.
        const liveOff = LIVE_DA - RAM_DA;
        const expectedRam = around.slice();
        if (how === 'detach') expectedRam.set(r.pristine, liveOff);
        assert.deepEqual(r.platform.ram, expectedRam);
        assert.equal(u32(r.platform.ram, liveOff + r.pristine.length), 0xeeee_eeee);
        assert.ok(r.rproc.resources.idle);
        assert.equal(r.platform.pool.outstanding, 0);
      });
    }
  }
});

describe('TC-L03: a live table smaller than its header claims', () => {
  const full = buildRscTable(SPEC);
  const vdevBody = vdevOf(full).bodyOffset;
  const sizes: readonly { readonly title: string; readonly size: number }[] = [
    { title: 'shorter than the header', size: 12 },
    { title: 'cut inside offset[]', size: 16 + 4 * 2 },
    { title: 'cut inside the vdev entry', size: vdevBody + 10 },
    { title: 'cut inside the last entry', size: full.length - 4 },
  ];
  for (const s of sizes) {
    it(`${s.title} (${s.size} of ${full.length} bytes) → EINVAL, nothing held`, async () => {
      const r = attachRig();
      r.platform.loadedTable = { da: LIVE_DA, size: s.size };
      await rejectsWith(r.rproc.boot(), 'EINVAL');
      assert.deepEqual(r.platform.calls, ['prepare', 'getLoadedRscTable', 'unprepare']);
      assert.equal(r.rproc.state, 'detached');
      assert.equal(r.rproc.power, 0);
      assert.ok(r.rproc.resources.idle);
      assert.equal(r.platform.pool.outstanding, 0);
      assert.deepEqual(r.live, r.pristine, 'nothing was written into the table');
    });
  }
});
