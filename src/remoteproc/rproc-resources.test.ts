// Resource handling as a firmware sees it (rproc_handle_resources and the write-backs; TC-R…):
// where segments and the loaded table land in device memory, what the host writes back into the
// table and when, vring carveouts and notify ids, trace buffers, cleanup, and the named TC-R cases.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readElf } from '../elf/elf-reader.ts';
import { PT } from '../elf/elf-constants.ts';
import { loadResourceTableCopyOptional } from '../elf/elf-rsc-table.ts';
import { buildRscTable } from '../rsc/rsc-build.ts';
import { FW_RSC_ADDR_ANY, RSC_HANDLED, RSC_IGNORED } from '../rsc/rsc-constants.ts';
import { FW_RSC_CARVEOUT, FW_RSC_TRACE, FW_RSC_VDEV_VRING, vringOffset } from '../rsc/rsc-layout.ts';
import { parseRscTable } from '../rsc/rsc-parse.ts';
import type { RscCarveout, RscEntry, RscEntrySpec, RscVdev } from '../rsc/rsc-types.ts';
import { RprocError, type ErrnoName } from '../util/errors.ts';
import { MemEntry } from './carveouts.ts';
import { elfImageOf } from './elf-defaults.ts';
import type { RprocIommu } from './resources.ts';
import type { RprocOps } from './rproc-ops.ts';
import {
  TABLE_DA,
  firmwareWithTable,
  helloElf,
  helloTable,
  isViewOf,
  rejectsWith,
  rig,
  u32,
  type Rig,
} from '../../test/support/rproc-fixtures.ts';

const RAM_DA = 0x8000_0000;
const POOL_START = 0x9000_0000;
const POOL_END = 0x9010_0000;
const PAGE = 4096;

/** Linux's vring_size(num, align), written out independently of src/virtio. */
function linuxVringSize(num: number, align: number): number {
  const availEnd = 16 * num + 2 * (3 + num);
  return Math.ceil(availEnd / align) * align + 2 * 3 + 8 * num;
}

function entryOf<K extends RscEntry['kind']>(
  entries: readonly RscEntry[],
  kind: K,
  nth = 0,
): Extract<RscEntry, { kind: K }> {
  const found = entries.filter((e): e is Extract<RscEntry, { kind: K }> => e.kind === kind)[nth];
  assert.ok(found !== undefined, `no ${kind} entry #${nth}`);
  return found;
}

/** The host copy of the table as ops.stop / ops.detach see it (table_ptr switched before the op). */
function captureHostCopy(r: Rig): { copy: Uint8Array | undefined } {
  const seen: { copy: Uint8Array | undefined } = { copy: undefined };
  r.rproc.on('state', (e) => {
    if (e.to === 'offline' || e.to === 'detached') seen.copy = r.rproc.resources.table;
  });
  return seen;
}

describe('fixture boot (hello.elf)', () => {
  it('loads every PT_LOAD segment at p_paddr and zero-fills up to p_memsz', async () => {
    const r = rig();
    r.platform.ram.fill(0xee);
    await r.rproc.boot();
    const fw = helloElf();
    const { image } = readElf(fw);
    assert.ok(image !== undefined);
    const table = helloTable();
    const loads = image.programHeaders.filter((p) => p.type === PT.PT_LOAD);
    assert.equal(loads.length, 2);
    for (const ph of loads) {
      const off = Number(ph.paddr) - RAM_DA;
      const inRam = r.platform.ram.subarray(off, off + ph.memsz);
      const expected = new Uint8Array(ph.memsz);
      expected.set(fw.subarray(ph.offset, ph.offset + ph.filesz));
      // The loaded table is the host's edited copy, checked field by field below.
      const tOff = table.da - Number(ph.paddr);
      if (tOff >= 0 && tOff < ph.memsz) expected.set(inRam.subarray(tOff, tOff + table.bytes.length), tOff);
      assert.deepEqual(inRam, expected, `segment ${ph.index} at ${ph.paddr.toString(16)}`);
    }
    // Memory around the segments is untouched.
    const last = loads.at(-1);
    assert.ok(last !== undefined);
    const end = Number(last.paddr) - RAM_DA + last.memsz;
    assert.ok(r.platform.ram.subarray(end, end + 64).every((b) => b === 0xee));
    assert.equal(r.rproc.bootAddr, image.header.entry);
  });

  it('publishes the edited table at .resource_table sh_addr: carveout da/pa/len, notify ids, vring da ANY', async () => {
    const r = rig();
    await r.rproc.boot();
    const file = helloTable();
    const ramTable = r.platform.ram.subarray(file.da - RAM_DA, file.da - RAM_DA + file.bytes.length);
    assert.ok(isViewOf(r.rproc.resources.table, r.platform.ram), 'edits now go to device memory');
    assert.equal(r.rproc.resources.table?.byteOffset, ramTable.byteOffset);
    const parsed = parseRscTable(ramTable);
    assert.deepEqual(parsed.problems, []);
    const heap = entryOf(parsed.entries, 'carveout');
    const mem = r.rproc.resources.carveouts.list.find((c) => c.name === 'hello-heap');
    assert.ok(mem?.buffer !== undefined);
    assert.deepEqual([heap.da, heap.pa, heap.len], [mem.buffer.da, mem.buffer.pa, 0x8000]);
    assert.ok(heap.da >= POOL_START && heap.da + heap.len <= POOL_END);
    assert.ok(isViewOf(r.rproc.daToVa(BigInt(heap.da), heap.len), r.platform.pool.memory));
    const vdev = entryOf(parsed.entries, 'vdev');
    assert.deepEqual(
      vdev.vrings.map((v) => [v.notifyId, v.da]),
      [
        [0, FW_RSC_ADDR_ANY],
        [1, FW_RSC_ADDR_ANY],
      ],
    );
    // Everything else is the file's bytes.
    const expected = file.bytes.slice();
    expected.set(ramTable.subarray(heap.bodyOffset, heap.bodyOffset + 12), heap.bodyOffset);
    assert.deepEqual(ramTable, expected);
  });

  it('creates vdev<k>vring<i> carveouts of page-aligned vring size in the pool', async () => {
    const r = rig();
    await r.rproc.boot();
    const size = Math.ceil(linuxVringSize(256, 16) / PAGE) * PAGE;
    assert.equal(size, 0x2000);
    const vrings = r.rproc.resources.carveouts.list.filter((c) => /^vdev\d+vring\d+$/.test(c.name));
    assert.deepEqual(
      vrings.map((c) => [c.name, c.len]),
      [
        ['vdev0vring0', size],
        ['vdev0vring1', size],
      ],
    );
    for (const v of vrings) assert.ok(v.da >= POOL_START && v.da + v.len <= POOL_END && v.da % PAGE === 0);
    assert.notEqual(vrings[0]?.da, vrings[1]?.da);
    assert.deepEqual(
      r.rproc.resources.vdevs.map((v) => v.vrings.map((x) => [x.notifyId, x.mem.name])),
      [
        [
          [0, 'vdev0vring0'],
          [1, 'vdev0vring1'],
        ],
      ],
    );
    assert.equal(r.platform.pool.outstanding, 3);
  });

  it('reads the trace buffer back from its da, up to the first NUL', async () => {
    const r = rig();
    await r.rproc.boot();
    const trace = r.rproc.resources.traces[0];
    assert.ok(trace !== undefined);
    assert.deepEqual([trace.name, trace.len, trace.rscName], ['trace0', 0x400, 'trace0']);
    const off = trace.da - RAM_DA;
    r.platform.ram.set(new TextEncoder().encode('hello: firmware up\n\0stale'), off);
    assert.equal(r.rproc.resources.readTrace(0), 'hello: firmware up\n');
    assert.equal(r.rproc.resources.readTrace(1), undefined);
  });

  it('after shutdown: vrings reset in the host copy, device memory untouched, everything released', async () => {
    const r = rig();
    await r.rproc.boot();
    const file = helloTable();
    const ramTable = r.platform.ram.subarray(file.da - RAM_DA, file.da - RAM_DA + file.bytes.length);
    const before = ramTable.slice();
    const seen = captureHostCopy(r);
    await r.rproc.shutdown();
    assert.ok(seen.copy !== undefined && !isViewOf(seen.copy, r.platform.ram));
    const vdev = entryOf(parseRscTable(seen.copy).entries, 'vdev');
    assert.deepEqual(
      vdev.vrings.map((v) => [v.da, v.notifyId]),
      [
        [0, 0xffff_ffff],
        [0, 0xffff_ffff],
      ],
    );
    assert.deepEqual(ramTable, before);
    assert.ok(r.rproc.resources.idle);
    assert.equal(r.rproc.resources.table, undefined);
    assert.deepEqual(r.rproc.resources.carveouts.list, []);
    assert.equal(r.platform.pool.outstanding, 0);
  });
});

describe('notify ids', () => {
  it('are assigned rproc-wide in table order, whatever the firmware wrote', async () => {
    const table = buildRscTable([
      {
        kind: 'vdev',
        id: 7,
        vrings: [
          { align: 16, num: 8, notifyId: 0x55 },
          { align: 16, num: 8, notifyId: 0x55 },
        ],
      },
      { kind: 'vdev', id: 3, vrings: [{ align: 16, num: 8, notifyId: 0x66 }] },
    ]);
    const r = rig({ firmware: firmwareWithTable(table) });
    await r.rproc.boot();
    const vdevs = parseRscTable(
      r.platform.ram.subarray(TABLE_DA - RAM_DA, TABLE_DA - RAM_DA + table.length),
    ).entries.filter((e): e is RscVdev => e.kind === 'vdev');
    assert.deepEqual(
      vdevs.map((v) => v.vrings.map((x) => x.notifyId)),
      [[0, 1], [2]],
    );
    assert.deepEqual(
      r.rproc.resources.carveouts.list.map((c) => c.name),
      ['vdev0vring0', 'vdev0vring1', 'vdev1vring0'],
    );
    // The vdev's own notifyid field is the firmware's business (Linux never writes it).
    assert.deepEqual(
      vdevs.map((v) => v.notifyId),
      [0, 0],
    );
  });
});

describe('named resource cases', () => {
  it('TC-R09: a table whose sh_addr does not translate: boot goes on, the firmware never sees the edits', async () => {
    const table = buildRscTable([{ kind: 'carveout', len: 0x1000, name: 'heap' }]);
    const r = rig({ firmware: firmwareWithTable(table, { tableDa: 0x7000_0000, tableLoaded: false }) });
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'running');
    assert.equal(r.rproc.daToVa(0x7000_0000n, table.length), undefined);
    assert.ok(
      r.logs.some((l) => /^warn: .*no resource table in device memory/.test(l)),
      r.logs.join('\n'),
    );
    // The host keeps editing its own copy.
    assert.ok(r.rproc.resources.table !== undefined && !isViewOf(r.rproc.resources.table, r.platform.ram));
    const heap = entryOf(parseRscTable(r.rproc.resources.table).entries, 'carveout');
    assert.ok(heap.da >= POOL_START && heap.da < POOL_END);
    await r.rproc.shutdown();
    assert.ok(r.rproc.resources.idle);
  });

  const optionalParseFw: Partial<RprocOps> = {
    parseFw: (_rproc, fw) => loadResourceTableCopyOptional(elfImageOf(fw))?.table,
  };
  const withTable = firmwareWithTable(
    buildRscTable([
      { kind: 'carveout', len: 0x2000, name: 'heap' },
      { kind: 'trace', da: 0x8000_3000, len: 0x100 },
      { kind: 'vdev', id: 7, vrings: [{ align: 16, num: 8 }] },
    ]),
  );
  const withoutTable = firmwareWithTable(undefined);

  it('TC-R10: boot A with a table, shut down, boot B without one: nothing of A is left', async () => {
    const r = rig({ firmware: withTable, ops: () => optionalParseFw });
    r.store.add('b', withoutTable);
    await r.rproc.boot();
    assert.ok(r.rproc.resources.table !== undefined);
    await r.rproc.shutdown();
    await r.rproc.setFirmware('b');
    await r.rproc.boot();
    assert.equal(r.rproc.state, 'running');
    assert.equal(r.rproc.resources.table, undefined);
    assert.deepEqual(r.rproc.resources.carveouts.list, []);
    assert.deepEqual(r.rproc.resources.traces, []);
    assert.deepEqual(r.rproc.resources.vdevs, []);
    assert.equal(r.platform.pool.outstanding, 0);
    assert.equal(r.rproc.resources.readTrace(0), undefined);
    await r.rproc.shutdown();
    assert.ok(r.rproc.resources.idle);
  });

  it('TC-E12 with the default parseFw: a table-less image fails the boot (EINVAL)', async () => {
    const r = rig({ firmware: withoutTable });
    await rejectsWith(r.rproc.boot(), 'EINVAL');
    assert.deepEqual(r.platform.calls, ['prepare', 'unprepare']);
  });

  const vringCounts: readonly { readonly tc: string; readonly vrings: number }[] = [
    { tc: 'TC-R20', vrings: 1 },
    { tc: 'TC-R21', vrings: 0 },
  ];
  for (const c of vringCounts) {
    it(`${c.tc}: a vdev with ${c.vrings} vring(s) is set up and the processor boots`, async () => {
      const vrings = Array.from({ length: c.vrings }, () => ({ align: 16, num: 8 }));
      const r = rig({ firmware: firmwareWithTable(buildRscTable([{ kind: 'vdev', id: 7, vrings }])) });
      await r.rproc.boot();
      assert.equal(r.rproc.state, 'running');
      assert.equal(r.rproc.resources.vdevs.length, 1);
      assert.deepEqual(
        r.rproc.resources.vdevs[0]?.vrings.map((v) => v.notifyId),
        Array.from({ length: c.vrings }, (_, i) => i),
      );
      assert.deepEqual(
        r.rproc.resources.carveouts.list.map((m) => m.name),
        Array.from({ length: c.vrings }, (_, i) => `vdev0vring${i}`),
      );
      assert.ok(
        r.platform.calls.includes('vdev0:start'),
        'the vdev subdevice starts: the virtio layer decides',
      );
      await r.rproc.shutdown();
      assert.ok(r.rproc.resources.idle);
    });
  }

  // A region the platform registers in prepare, as drivers do from reserved memory.
  const REGION = { name: 'shm', da: 0x9000_4000, len: 0x4000 };
  const regionCases: readonly {
    readonly title: string;
    readonly entries: readonly RscEntrySpec[];
    readonly regionDa?: number;
    readonly result: 'ok' | ErrnoName;
    readonly words?: readonly string[];
  }[] = [
    {
      title: 'ANY da inside the region',
      entries: [{ kind: 'carveout', len: 0x1000, name: 'shm' }],
      result: 'ok',
    },
    {
      title: 'fixed da inside the region',
      entries: [{ kind: 'carveout', da: 0x9000_5000, len: 0x1000, name: 'shm' }],
      result: 'ok',
    },
    {
      title: 'da below the region',
      entries: [{ kind: 'carveout', da: 0x9000_3000, len: 0x2000, name: 'shm' }],
      result: 'ENOMEM',
      words: ['outside'],
    },
    {
      title: 'da + len past the region',
      entries: [{ kind: 'carveout', da: 0x9000_7000, len: 0x2000, name: 'shm' }],
      result: 'ENOMEM',
      words: ['outside'],
    },
    {
      title: 'longer than the region',
      entries: [{ kind: 'carveout', len: 0x5000, name: 'shm' }],
      result: 'ENOMEM',
      words: ['0x5000'],
    },
    {
      title: 'fixed da for a region without a fixed address',
      entries: [{ kind: 'carveout', da: 0x9000_4000, len: 0x1000, name: 'shm' }],
      regionDa: FW_RSC_ADDR_ANY,
      result: 'ENOMEM',
      words: ['no fixed address'],
    },
    {
      title: 'the same name twice',
      entries: [
        { kind: 'carveout', len: 0x1000, name: 'shm' },
        { kind: 'carveout', len: 0x1000, name: 'shm' },
      ],
      result: 'ENOMEM',
      words: ['already associated'],
    },
    {
      title: 'the same name twice without a registered region',
      entries: [
        { kind: 'carveout', len: 0x1000, name: 'heap' },
        { kind: 'carveout', len: 0x1000, name: 'heap' },
      ],
      result: 'ENOMEM',
      words: ['already associated'],
    },
  ];
  for (const c of regionCases) {
    it(`TC-R23: carveout named like a registered region — ${c.title} → ${c.result}`, async () => {
      const table = buildRscTable(c.entries);
      const r = rig({
        firmware: firmwareWithTable(table),
        ops: (p) => ({
          prepare: (rproc) => {
            p.record('prepare');
            rproc.resources.carveouts.add(new MemEntry({ ...REGION, da: c.regionDa ?? REGION.da }));
          },
        }),
      });
      if (c.result === 'ok') {
        await r.rproc.boot();
        const ram = r.platform.ram.subarray(TABLE_DA - RAM_DA, TABLE_DA - RAM_DA + table.length);
        const e = entryOf(parseRscTable(ram).entries, 'carveout');
        // Bound to the region, not allocated anew: the region's address and length are written back.
        assert.deepEqual([e.da, e.pa, e.len], [REGION.da, REGION.da, REGION.len]);
        assert.equal(r.rproc.resources.carveouts.list.length, 1);
        await r.rproc.shutdown();
      } else {
        const error = await rejectsWith(r.rproc.boot(), c.result);
        for (const w of c.words ?? [])
          assert.ok(error.message.includes(w), `"${error.message}" should say "${w}"`);
        assert.deepEqual(r.platform.calls, ['prepare', 'unprepare']);
      }
      assert.ok(r.rproc.resources.idle);
      assert.equal(r.platform.pool.outstanding, 0);
    });
  }

  it('TC-R24: a carveout at FW_RSC_ADDR_ANY gets da/pa/len written back into the table in RAM', async () => {
    const table = buildRscTable([
      { kind: 'carveout', len: 0x3000, pa: 0x1234, flags: 0x5, name: 'buf' },
      { kind: 'carveout', len: 0x1000, name: 'small' },
    ]);
    const r = rig({ firmware: firmwareWithTable(table) });
    await r.rproc.boot();
    const ram = r.platform.ram.subarray(TABLE_DA - RAM_DA, TABLE_DA - RAM_DA + table.length);
    const parsed = parseRscTable(table).entries.filter((e): e is RscCarveout => e.kind === 'carveout');
    const mems = r.rproc.resources.carveouts.list;
    assert.equal(mems.length, 2);
    parsed.forEach((e, i) => {
      const mem = mems[i];
      assert.ok(mem?.buffer !== undefined);
      const b = e.bodyOffset;
      assert.equal(u32(ram, b + FW_RSC_CARVEOUT.da), mem.buffer.da);
      assert.equal(u32(ram, b + FW_RSC_CARVEOUT.pa), mem.buffer.pa);
      assert.equal(u32(ram, b + FW_RSC_CARVEOUT.len), e.len);
      assert.equal(u32(ram, b + FW_RSC_CARVEOUT.flags), e.flags, 'flags are not written');
      assert.ok(mem.buffer.da >= POOL_START && mem.buffer.da + e.len <= POOL_END);
    });
    assert.notEqual(mems[0]?.da, mems[1]?.da);
    await r.rproc.shutdown();
    assert.equal(r.platform.pool.outstanding, 0);
  });

  const fixedDa: readonly { readonly da: number; readonly result: 'ok' | 'ENOMEM' }[] = [
    { da: 0x9004_0000, result: 'ok' },
    { da: 0x7000_0000, result: 'ENOMEM' },
    { da: POOL_END - 0x1000, result: 'ENOMEM' },
  ];
  for (const c of fixedDa) {
    it(`TC-R25: a carveout at fixed da 0x${c.da.toString(16)} (0x2000 bytes) → ${c.result}`, async () => {
      const table = buildRscTable([{ kind: 'carveout', da: c.da, len: 0x2000, name: 'fixed' }]);
      const r = rig({ firmware: firmwareWithTable(table) });
      if (c.result === 'ok') {
        await r.rproc.boot();
        const ram = r.platform.ram.subarray(TABLE_DA - RAM_DA, TABLE_DA - RAM_DA + table.length);
        const e = entryOf(parseRscTable(ram).entries, 'carveout');
        assert.deepEqual([e.da, e.pa, e.len], [c.da, c.da, 0x2000]);
        await r.rproc.shutdown();
      } else {
        // Documented decision: Linux warns and hands out another address; we fail the boot.
        const error = await rejectsWith(r.rproc.boot(), 'ENOMEM');
        assert.match(error.message, new RegExp(`0x${c.da.toString(16)}`));
      }
      assert.ok(r.rproc.resources.idle);
      assert.equal(r.platform.pool.outstanding, 0);
    });
  }

  const devmem: RscEntrySpec = {
    kind: 'devmem',
    da: 0x4000_0000,
    pa: 0x1000_0000,
    len: 0x1000,
    flags: 3,
    name: 'uart',
  };

  it('TC-R26: a devmem entry without an IOMMU fails the boot with EINVAL', async () => {
    const r = rig({ firmware: firmwareWithTable(buildRscTable([devmem])) });
    const error = await rejectsWith(r.rproc.boot(), 'EINVAL');
    assert.match(error.message, /IOMMU/);
    assert.ok(r.rproc.resources.idle);
  });

  it('TC-R26: with an IOMMU the devmem entry is mapped, unmapped at cleanup, nothing written back', async () => {
    const iommuCalls: string[] = [];
    const iommu: RprocIommu = {
      map: (da, pa, len, flags) =>
        iommuCalls.push(`map ${da.toString(16)}→${pa.toString(16)} ${len} ${flags}`),
      unmap: (da, len) => iommuCalls.push(`unmap ${da.toString(16)} ${len}`),
    };
    const table = buildRscTable([devmem]);
    const r = rig({ firmware: firmwareWithTable(table), alloc: { iommu } });
    await r.rproc.boot();
    assert.deepEqual(iommuCalls, ['map 40000000→10000000 4096 3']);
    const ram = r.platform.ram.subarray(TABLE_DA - RAM_DA, TABLE_DA - RAM_DA + table.length);
    assert.deepEqual(ram, table);
    await r.rproc.shutdown();
    assert.deepEqual(iommuCalls, ['map 40000000→10000000 4096 3', 'unmap 40000000 4096']);
    assert.ok(r.rproc.resources.idle);
  });

  it('TC-R27: a trace buffer at an untranslatable da: boot OK, nothing to read', async () => {
    const r = rig({
      firmware: firmwareWithTable(buildRscTable([{ kind: 'trace', da: 0x7000_0000, len: 0x100 }])),
    });
    await r.rproc.boot();
    assert.equal(r.rproc.resources.traces.length, 1);
    assert.equal(r.rproc.resources.readTrace(0), undefined);
  });

  it('TC-R27: a trace buffer without a NUL reads exactly len bytes', async () => {
    const da = 0x8000_3000;
    const r = rig({ firmware: firmwareWithTable(buildRscTable([{ kind: 'trace', da, len: 16 }])) });
    await r.rproc.boot();
    r.platform.ram.fill(0x78, da - RAM_DA, da - RAM_DA + 16);
    r.platform.ram.fill(0x79, da - RAM_DA + 16, da - RAM_DA + 64);
    assert.equal(r.rproc.resources.readTrace(0), 'x'.repeat(16));
    // Garbage decodes leniently.
    r.platform.ram.set([0x41, 0xff, 0x42, 0], da - RAM_DA);
    assert.equal(r.rproc.resources.readTrace(0), 'A\ufffdB');
  });

  const VENDOR_BODY = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const vendorTable = buildRscTable([
    { kind: 'carveout', len: 0x1000, name: 'heap' },
    { kind: 'vendor', type: 200, body: VENDOR_BODY },
  ]);
  const vendorCases: readonly {
    readonly title: string;
    readonly handler: RprocOps['handleRsc'] | undefined;
    readonly result: 'ok' | ErrnoName;
    readonly warns: boolean;
  }[] = [
    { title: 'no handler (ignored)', handler: undefined, result: 'ok', warns: true },
    { title: 'handler returns RSC_HANDLED', handler: () => RSC_HANDLED, result: 'ok', warns: false },
    {
      title: 'handler returns RSC_IGNORED (last entry)',
      handler: () => RSC_IGNORED,
      result: 'ok',
      warns: true,
    },
    { title: 'handler returns -ENOMEM (Linux style)', handler: () => -12, result: 'ENOMEM', warns: false },
    {
      title: 'handler returns an unknown negative errno',
      handler: () => -4095,
      result: 'EINVAL',
      warns: false,
    },
    {
      title: 'handler throws',
      handler: () => {
        throw new RprocError('EPERM', 'test', 'vendor entry refused');
      },
      result: 'EPERM',
      warns: false,
    },
  ];
  for (const c of vendorCases) {
    it(`TC-R28: vendor entry, ${c.title} → ${c.result}`, async () => {
      const seen: { type: number; body: number[]; offset: number; avail: number }[] = [];
      const handler = c.handler;
      const r = rig({
        firmware: firmwareWithTable(vendorTable),
        ops: () =>
          handler === undefined
            ? {}
            : {
                handleRsc: (rproc, type, body, offset, avail) => {
                  seen.push({ type, body: [...body.subarray(0, 8)], offset, avail });
                  return handler(rproc, type, body, offset, avail);
                },
              },
      });
      if (c.result === 'ok') {
        await r.rproc.boot();
        assert.equal(r.rproc.state, 'running');
      } else {
        await rejectsWith(r.rproc.boot(), c.result);
        assert.ok(r.rproc.resources.idle);
        assert.equal(r.platform.pool.outstanding, 0);
      }
      const warned = r.logs.some((l) => l.startsWith('warn: unsupported vendor resource 200'));
      assert.equal(warned, c.warns, r.logs.join('\n'));
      if (handler !== undefined) {
        const vendor = entryOf(parseRscTable(vendorTable).entries, 'vendor');
        assert.deepEqual(seen, [
          {
            type: 200,
            body: [...VENDOR_BODY],
            offset: vendor.bodyOffset,
            avail: vendorTable.length - vendor.bodyOffset,
          },
        ]);
      }
    });
  }

  it('TC-R28: unknown types (4..127, > 512) are skipped with a warning', async () => {
    const r = rig({
      firmware: firmwareWithTable(
        buildRscTable([
          { kind: 'unknown', type: 50, body: new Uint8Array(4) },
          { kind: 'unknown', type: 600, body: new Uint8Array(4) },
          { kind: 'trace', da: 0x8000_3000, len: 0x10 },
        ]),
      ),
    });
    await r.rproc.boot();
    assert.equal(r.rproc.resources.traces.length, 1);
    assert.equal(
      r.logs.filter((l) => /^warn: unsupported resource (50|600) /.test(l)).length,
      2,
      r.logs.join('\n'),
    );
  });
});

describe('cleanup writes', () => {
  it('reset exactly the vring da and notifyid words of each vring, nothing around them', async () => {
    const table = buildRscTable([
      { kind: 'vdev', id: 7, vrings: [{ align: 16, num: 8 }], config: new Uint8Array(8).fill(0xcc) },
      { kind: 'trace', da: 0x8000_3000, len: 0x10 },
    ]);
    const r: Rig = rig({ firmware: firmwareWithTable(table) });
    await r.rproc.boot();
    const seen = captureHostCopy(r);
    await r.rproc.shutdown();
    assert.ok(seen.copy !== undefined);
    const vdev = entryOf(parseRscTable(table).entries, 'vdev');
    const v0 = vringOffset(vdev.bodyOffset, 0);
    const expected = table.slice();
    new DataView(expected.buffer).setUint32(v0 + FW_RSC_VDEV_VRING.da, 0, true);
    new DataView(expected.buffer).setUint32(v0 + FW_RSC_VDEV_VRING.notifyid, 0xffff_ffff, true);
    assert.deepEqual(seen.copy, expected);
    const trace = entryOf(parseRscTable(seen.copy).entries, 'trace');
    assert.equal(u32(seen.copy, trace.bodyOffset + FW_RSC_TRACE.da), 0x8000_3000);
  });

  it('a processor can boot again after shutdown and gets fresh resources', async () => {
    const r = rig();
    await r.rproc.boot();
    const first = r.rproc.resources.carveouts.list.map((c) => [c.name, c.len]);
    await r.rproc.shutdown();
    await r.rproc.boot();
    assert.deepEqual(
      r.rproc.resources.carveouts.list.map((c) => [c.name, c.len]),
      first,
    );
    assert.equal(r.platform.pool.outstanding, 3);
  });
});
