// The board view a platform driver uses: remoteproc nodes with their carveouts (reserved-memory
// children named as Linux names them), mailbox channels, firmware-name and auto-boot, on the
// default board and the AMP test board, and the strict checks on malformed boards.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultBoard, defaultBoardDtb } from './boards/default-board.ts';
import { compileDts } from './dts-compile.ts';
import { buildFdt, cells, flag, node, ref, str, strs, u32 } from './fdt-builder.ts';
import { RPROC_TS_COMPATIBLE, describeRemoteprocs, reservedMemoryRegions } from './fdt-remoteproc.ts';
import { readFdt } from './fdt-reader.ts';
import {
  DEFAULT_BOARD_DTB,
  DEFAULT_BOARD_DTS,
  ampBoardBytes,
  assertFdtError,
  skipWithoutDtc,
} from '../../../test/support/fdt-fixtures.ts';

describe('the embedded default board', () => {
  it('is the committed default-board.dtb', () => {
    assert.deepEqual(defaultBoardDtb(), new Uint8Array(readFileSync(DEFAULT_BOARD_DTB)));
  });

  it(
    'is what dtc builds from default-board.dts (run scripts/build-boards.ts after editing it)',
    { skip: skipWithoutDtc },
    async () => {
      assert.deepEqual(await compileDts(DEFAULT_BOARD_DTS), new Uint8Array(readFileSync(DEFAULT_BOARD_DTB)));
    },
  );

  it('has two remote cores with firmware, carveouts and two mailbox channels each', () => {
    const fdt = defaultBoard();
    const cores = describeRemoteprocs(fdt);
    assert.deepEqual(
      cores.map((c) => [c.node.path, c.alias, c.compatible, c.firmwareName, c.autoBoot]),
      [
        ['/remoteproc@10100000', 'rproc0', [RPROC_TS_COMPATIBLE.rv32Core], 'hello.elf', true],
        ['/remoteproc@10101000', 'rproc1', [RPROC_TS_COMPATIBLE.jsCore], 'rpmsg-echo', false],
      ],
    );
    for (const [i, core] of cores.entries()) {
      assert.deepEqual(
        core.memoryRegions.map((r) => r.name),
        [`core${i}-ram`, 'vdev0vring0', 'vdev0vring1', 'vdev0buffer', `core${i}-pool`],
      );
      assert.ok(core.memoryRegions.every((r) => r.noMap && r.size > 0n));
      assert.deepEqual(
        core.mboxes.map((m) => [m.name, m.controller.path, m.args]),
        [
          ['vq0', '/soc@10000000/mailbox@1000', [2 * i]],
          ['vq1', '/soc@10000000/mailbox@1000', [2 * i + 1]],
        ],
      );
      assert.equal(core.reg.length, 1);
      assert.ok(core.phandle === undefined, 'cores are referenced by path (aliases), not by phandle');
    }
  });

  it('keeps every carveout inside the memory node and apart from the others', () => {
    const fdt = defaultBoard();
    const [memory] = fdt.requireNode('/memory').reg();
    assert.ok(memory !== undefined);
    const regions = reservedMemoryRegions(fdt);
    assert.equal(regions.length, 10);
    for (const r of regions) {
      assert.ok(
        r.address >= memory.address && r.address + r.size <= memory.address + memory.size,
        r.node.path,
      );
    }
  });

  it('maps the mailbox through the soc bus ranges', () => {
    const fdt = defaultBoard();
    const mbox = fdt.alias('mbox0');
    assert.ok(mbox !== undefined);
    assert.deepEqual(fdt.regTranslated(mbox), [{ address: 0x1000_1000n, size: 0x1000n }]);
  });
});

describe('describeRemoteprocs on the AMP test board', () => {
  it('decodes both cores, skips nothing available, and names carveouts by base name', () => {
    const fdt = readFdt(ampBoardBytes());
    const [rv, js] = describeRemoteprocs(fdt);
    assert.ok(rv !== undefined && js !== undefined);
    assert.deepEqual(
      rv.memoryRegions.map((r) => [r.name, r.address, r.size]),
      [
        ['rv-ram', 0x9000_0000n, 0x10_0000n],
        ['vdev0vring0', 0x9010_0000n, 0x4000n],
        ['vdev0vring1', 0x9010_4000n, 0x4000n],
        ['vdev0buffer', 0x9010_8000n, 0x40000n],
      ],
    );
    assert.deepEqual(
      js.mboxes.map((m) => [m.name, m.args]),
      [
        ['tx', [2]],
        ['rx', [3]],
      ],
    );
    assert.deepEqual(js.memoryRegions[0]?.address, 0x1_9100_0000n);
    assert.equal(js.autoBoot, false);
    assert.deepEqual(rv.reg, [{ address: 0x1010_0000n, size: 0x1000n }]);
  });

  it('only returns available nodes of the requested compatibles', () => {
    const fdt = readFdt(ampBoardBytes());
    assert.equal(describeRemoteprocs(fdt, [RPROC_TS_COMPATIBLE.jsCore]).length, 1);
    fdt.requireNode('rproc0').props.set('status', new TextEncoder().encode('disabled\0'));
    assert.deepEqual(
      describeRemoteprocs(fdt).map((c) => c.alias),
      ['rproc1'],
    );
  });
});

describe('malformed boards', () => {
  const board = (coreProps: Record<string, ReturnType<typeof u32>>, regions = defaultRegions()) =>
    buildFdt(
      node('', { '#address-cells': u32(1), '#size-cells': u32(1) }, [
        node('reserved-memory', { '#address-cells': u32(1), '#size-cells': u32(1), ranges: flag() }, regions),
        node('mbox', { '#mbox-cells': u32(1) }, [], 'mbox'),
        node('elsewhere', {}, [], 'elsewhere'),
        node('core', { compatible: str(RPROC_TS_COMPATIBLE.rv32Core), ...coreProps }),
      ]),
    );
  function defaultRegions() {
    return [
      node('vdev0vring0@1000', { reg: u32(0x1000, 0x1000) }, [], 'a'),
      node('vdev0vring1@2000', { reg: u32(0x2000, 0x1000) }, [], 'b'),
    ];
  }

  it('the baseline board of these cases is valid', () => {
    const [core] = describeRemoteprocs(board({ 'memory-region': cells(ref('a'), ref('b')) }));
    assert.deepEqual(
      core?.memoryRegions.map((r) => r.name),
      ['vdev0vring0', 'vdev0vring1'],
    );
  });

  it('memory-region pointing outside /reserved-memory', () => {
    assertFdtError(
      () => describeRemoteprocs(board({ 'memory-region': cells(ref('elsewhere')) })),
      /memory-region entry 0 of \/core points at \/elsewhere, not a \/reserved-memory child/,
    );
  });

  it('two memory-region entries with the same name', () => {
    const regions = [
      node('vdev0vring0@1000', { reg: u32(0x1000, 0x1000) }, [], 'a'),
      node('vdev0vring0@2000', { reg: u32(0x2000, 0x1000) }, [], 'b'),
    ];
    assertFdtError(
      () => describeRemoteprocs(board({ 'memory-region': cells(ref('a'), ref('b')) }, regions)),
      /\/core has two memory-region entries named "vdev0vring0"/,
    );
  });

  it('a reserved-memory node without reg', () => {
    const regions = [node('pool', { size: u32(0x1000) }, [], 'a')];
    assertFdtError(
      () => describeRemoteprocs(board({ 'memory-region': cells(ref('a')) }, regions)),
      /reserved-memory node \/reserved-memory\/pool has 0 reg entries; exactly one is supported/,
    );
  });

  it('overlapping reserved-memory regions', () => {
    const regions = [
      node('x@1000', { reg: u32(0x1000, 0x2000) }),
      node('y@2000', { reg: u32(0x2000, 0x1000) }),
    ];
    assertFdtError(
      () => reservedMemoryRegions(board({}, regions)),
      /regions \/reserved-memory\/x@1000 \[0x1000, 0x3000\) and \/reserved-memory\/y@2000 \[0x2000, 0x3000\) overlap/,
    );
  });

  it('mbox-names and mboxes of different lengths', () => {
    assertFdtError(
      () => describeRemoteprocs(board({ mboxes: cells(ref('mbox'), 0), 'mbox-names': strs('vq0', 'vq1') })),
      /\/core has 1 mboxes entries but 2 mbox-names/,
    );
  });
});
