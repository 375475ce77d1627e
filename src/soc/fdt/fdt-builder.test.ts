// Builder tests: the AMP test board described with the builder is byte-identical to what dtc
// builds from test/fixtures/fdt/amp-board.dts (same phandle numbering, property order and layout), and
// labels, references and value helpers behave and fail as documented.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildDtb,
  buildFdt,
  bytes,
  cells,
  cellsOf,
  flag,
  node,
  pathRef,
  phandle,
  ref,
  reg,
  str,
  strs,
  u32,
  u64,
  type NodeSpec,
} from './fdt-builder.ts';
import { readFdt } from './fdt-reader.ts';
import { ampBoardBytes, assertFdtError } from '../../../test/support/fdt-fixtures.ts';

const pool = (label: string, name: string, hi: number, lo: number, size: number): NodeSpec =>
  node(name, { compatible: str('shared-dma-pool'), reg: cells(hi, lo, size), 'no-map': flag() }, [], label);

/** test/fixtures/fdt/amp-board.dts, node for node. */
function ampBoardSpec(): NodeSpec {
  return node(
    '',
    {
      model: str('rproc-ts test AMP board'),
      compatible: strs('rproc-ts,test-amp-board', 'rproc-ts,virtual-amp-soc'),
      '#address-cells': u32(2),
      '#size-cells': u32(1),
    },
    [
      node('aliases', { rproc0: pathRef('rv_core'), rproc1: pathRef('js_core'), serial0: pathRef('uart0') }),
      node('chosen', { bootargs: str('console=ttyS0'), 'stdout-path': str('serial0:115200n8') }),
      node('cpus', { '#address-cells': u32(1), '#size-cells': u32(0) }, [
        node('cpu@0', { device_type: str('cpu'), compatible: str('riscv'), reg: u32(0) }),
      ]),
      node('memory@80000000', { device_type: str('memory'), reg: reg([[0x8000_0000, 0x800_0000]], 2, 1) }),
      node('reserved-memory', { '#address-cells': u32(2), '#size-cells': u32(1), ranges: flag() }, [
        node('rv-ram@90000000', { reg: cells(0, 0x9000_0000, 0x10_0000), 'no-map': flag() }, [], 'rv_ram'),
        pool('rv_vdev0vring0', 'vdev0vring0@90100000', 0, 0x9010_0000, 0x4000),
        pool('rv_vdev0vring1', 'vdev0vring1@90104000', 0, 0x9010_4000, 0x4000),
        pool('rv_vdev0buffer', 'vdev0buffer@90108000', 0, 0x9010_8000, 0x40000),
        pool('js_vdev0vring0', 'vdev0vring0@191000000', 1, 0x9100_0000, 0x4000),
        pool('js_vdev0vring1', 'vdev0vring1@191004000', 1, 0x9100_4000, 0x4000),
        pool('js_vdev0buffer', 'vdev0buffer@191008000', 1, 0x9100_8000, 0x40000),
      ]),
      node(
        'soc@10000000',
        {
          compatible: str('simple-bus'),
          '#address-cells': u32(1),
          '#size-cells': u32(1),
          ranges: cells(0, 0, 0x1000_0000, 0x10_0000),
        },
        [
          node(
            'mailbox@20000',
            { compatible: str('rproc-ts,mailbox'), reg: u32(0x20000, 0x1000), '#mbox-cells': u32(1) },
            [],
            'mbox',
          ),
          node(
            'apb@80000',
            {
              compatible: str('simple-bus'),
              '#address-cells': u32(1),
              '#size-cells': u32(1),
              ranges: u32(0, 0x80000, 0x10000),
            },
            [
              node(
                'serial@1000',
                { compatible: str('ns16550a'), reg: u32(0x1000, 0x100), 'clock-frequency': u32(3686400) },
                [],
                'uart0',
              ),
              node('serial@2000', {
                compatible: str('ns16550a'),
                reg: u32(0x2000, 0x100),
                status: str('disabled'),
              }),
            ],
          ),
        ],
      ),
      node(
        'remoteproc@10100000',
        {
          compatible: str('rproc-ts,rv32-core'),
          reg: cells(0, 0x1010_0000, 0x1000),
          'memory-region': cells(
            ref('rv_ram'),
            ref('rv_vdev0vring0'),
            ref('rv_vdev0vring1'),
            ref('rv_vdev0buffer'),
          ),
          mboxes: cells(ref('mbox'), 0, ref('mbox'), 1),
          'mbox-names': strs('vq0', 'vq1'),
          'firmware-name': str('hello.elf'),
          'auto-boot': flag(),
          'rproc-ts,reset-vector': u64(0x8000_0000n),
          'rproc-ts,id': bytes(1, 2, 3),
        },
        [],
        'rv_core',
      ),
      node(
        'remoteproc@10101000',
        {
          compatible: str('rproc-ts,js-core'),
          reg: cells(0, 0x1010_1000, 0x1000),
          'memory-region': cells(ref('js_vdev0vring0'), ref('js_vdev0vring1'), ref('js_vdev0buffer')),
          mboxes: cells(ref('mbox'), 2, ref('mbox'), 3),
          'mbox-names': strs('tx', 'rx'),
          'firmware-name': str('rpmsg-echo'),
        },
        [],
        'js_core',
      ),
    ],
  );
}

describe('fdt-builder', () => {
  it('builds the AMP test board byte-identical to dtc’s build of amp-board.dts', () => {
    const built = buildDtb(ampBoardSpec(), { memReserve: [{ address: 0x8000_0000n, size: 0x10000n }] });
    assert.deepEqual(built, ampBoardBytes());
  });

  it('numbers phandles from 1 in order of first reference and resolves paths', () => {
    const fdt = buildFdt(
      node('', {}, [
        node('a', {}, [], 'a'),
        node('b', {}, [], 'b'),
        node('user', { first: phandle('b'), both: cells(ref('a'), ref('b')) }),
        node('aliases', { x: pathRef('b') }),
      ]),
    );
    assert.equal(fdt.requireNode('/b').phandle, 1);
    assert.equal(fdt.requireNode('/a').phandle, 2);
    assert.deepEqual(fdt.requireNode('/user').u32s('both'), [2, 1]);
    assert.equal(fdt.alias('x')?.path, '/b');
    assert.equal(
      readFdt(buildDtb(node('', {}, [node('a', {}, [], 'a'), node('u', { r: phandle('a') })]))).node('/a')
        ?.phandle,
      1,
    );
  });

  it('keeps explicit phandles and skips their numbers', () => {
    const fdt = buildFdt(
      node('', {}, [
        node('fixed', { phandle: u32(1) }, [], 'fixed'),
        node('free', {}, [], 'free'),
        node('user', { r: cells(ref('free'), ref('fixed')) }),
      ]),
    );
    assert.deepEqual(fdt.requireNode('/user').u32s('r'), [2, 1]);
    assert.deepEqual([...fdt.requireNode('/fixed').props.keys()], ['phandle']);
  });

  it('accepts props as an ordered list of pairs', () => {
    const fdt = buildFdt(
      node('', [
        ['b', u32(1)],
        ['a', u32(2)],
      ]),
    );
    assert.deepEqual([...fdt.root.props.keys()], ['b', 'a']);
  });

  it('encodes 64-bit values and multi-cell reg entries', () => {
    assert.deepEqual(cellsOf(0x1_2345_6789n, 2), [1, 0x2345_6789]);
    assert.deepEqual(cellsOf(5, 1), [5]);
    const fdt = buildFdt(
      node('', { '#address-cells': u32(2), '#size-cells': u32(2) }, [
        node('r@1', { reg: reg([[0x1_0000_0000n, 0x2000]]) }),
      ]),
    );
    assert.deepEqual(fdt.requireNode('/r@1').reg(), [{ address: 0x1_0000_0000n, size: 0x2000n }]);
  });

  it('refuses unknown and duplicate labels, out-of-range values and NULs in strings', () => {
    assertFdtError(
      () => buildFdt(node('', { r: phandle('nope') })),
      /property "r" of \/ refers to unknown label "nope"/,
    );
    assertFdtError(
      () => buildFdt(node('', { r: pathRef('nope') })),
      /property "r" of \/ refers to unknown label "nope"/,
    );
    assertFdtError(
      () => buildFdt(node('', {}, [node('a', {}, [], 'x'), node('b', {}, [], 'x')])),
      /label "x" is used twice/,
    );
    assertFdtError(() => u32(2 ** 32), /cell value 0x100000000 does not fit in 32 bits/);
    assertFdtError(() => u32(-1), /cell value -0x1 does not fit in 32 bits/);
    assertFdtError(() => u64(2n ** 64n), /value 0x10000000000000000 does not fit in 64 bits/);
    assertFdtError(() => cellsOf(0x1_0000_0000n, 1), /does not fit in 1 cells/);
    assertFdtError(() => str('a\0b'), /contains a NUL/);
  });

  it('refuses one spec object used twice', () => {
    const shared = node('x');
    assertFdtError(
      () => buildFdt(node('', {}, [node('a', {}, [shared]), node('b', {}, [shared])])),
      /node spec "x" appears twice/,
    );
  });

  it('refuses invalid node names through the tree it builds', () => {
    assertFdtError(
      () => buildFdt(node('', {}, [node('bad name')])),
      /node name "bad name" under \/ has a character/,
    );
  });
});
