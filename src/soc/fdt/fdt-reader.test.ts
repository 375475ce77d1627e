// Reader tests on hand-assembled blobs (independent of the writer) and on the committed,
// dtc-built AMP test board: header fields, the reservation map, NOPs, version-16 blobs, and
// every typed accessor, lookup and translation the platform driver relies on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FdtNode } from './fdt-node.ts';
import { isFdtBlob, readFdt, readFdtHeader } from './fdt-reader.ts';
import { Fdt } from './fdt-tree.ts';
import {
  StructAssembler,
  ampBoardBytes,
  assembleDtb,
  assertFdtError,
  stringsBlock,
} from '../../../test/support/fdt-fixtures.ts';

function minimal(): Uint8Array {
  const strings = stringsBlock('compatible', '#address-cells', 'reg');
  const off = (n: string): number => strings.offsets.get(n) ?? -1;
  const struct = new StructAssembler()
    .begin('')
    .prop(off('compatible'), [...new TextEncoder().encode('test,board'), 0])
    .prop(off('#address-cells'), [0, 0, 0, 1])
    .begin('cpu@0')
    .prop(off('reg'), [0, 0, 0, 0, 0, 0, 0, 0x10])
    .endNode()
    .endNode()
    .end()
    .bytes();
  return assembleDtb({
    struct,
    strings: strings.bytes,
    memReserve: [[0x8000_0000n, 0x1000n]],
    bootCpuidPhys: 3,
  });
}

describe('readFdt on hand-assembled blobs', () => {
  it('reads a minimal version-17 blob: root, one child, properties, reservation map, boot cpu', () => {
    const fdt = readFdt(minimal());
    assert.equal(fdt.root.name, '');
    assert.equal(fdt.root.path, '/');
    assert.deepEqual(fdt.root.compatible, ['test,board']);
    assert.equal(fdt.root.addressCells, 1);
    assert.equal(fdt.root.sizeCells, 1, 'spec default #size-cells');
    const cpu = fdt.requireNode('/cpu@0');
    assert.equal(cpu.path, '/cpu@0');
    assert.equal(cpu.parent, fdt.root);
    assert.equal(cpu.baseName, 'cpu');
    assert.equal(cpu.unitAddress, '0');
    assert.deepEqual(cpu.reg(), [{ address: 0n, size: 0x10n }]);
    assert.deepEqual(fdt.memReserve, [{ address: 0x8000_0000n, size: 0x1000n }]);
    assert.equal(fdt.bootCpuidPhys, 3);
  });

  it('reads the header fields', () => {
    const bytes = minimal();
    const h = readFdtHeader(bytes);
    assert.equal(h.version, 17);
    assert.equal(h.lastCompVersion, 16);
    assert.equal(h.totalsize, bytes.length);
    assert.equal(h.offMemRsvmap, 0x28);
    assert.equal(h.offDtStruct, 0x28 + 2 * 16);
    assert.equal(h.structSize, h.sizeDtStruct);
  });

  it('reads a version-16 blob, whose structure block size is implied by the strings offset', () => {
    const strings = stringsBlock('x');
    const struct = new StructAssembler().begin('').prop(0, [1]).endNode().end().bytes();
    const bytes = assembleDtb({ struct, strings: strings.bytes, version: 16 });
    const h = readFdtHeader(bytes);
    assert.equal(h.sizeDtStruct, undefined);
    assert.equal(h.structSize, struct.length);
    assert.deepEqual([...(readFdt(bytes).root.raw('x') ?? [])], [1]);
  });

  it('skips FDT_NOP tokens anywhere between tokens', () => {
    const strings = stringsBlock('a');
    const struct = new StructAssembler()
      .nop()
      .begin('')
      .nop()
      .prop(0, [0, 0, 0, 7])
      .nop()
      .begin('n')
      .nop()
      .endNode()
      .nop()
      .endNode()
      .nop()
      .end()
      .bytes();
    const fdt = readFdt(assembleDtb({ struct, strings: strings.bytes }));
    assert.equal(fdt.root.u32('a'), 7);
    assert.equal(fdt.root.children.length, 1);
  });

  it('accepts a buffer larger than totalsize and ignores what follows the blob', () => {
    const strings = stringsBlock('a');
    const struct = new StructAssembler().begin('').endNode().end().bytes();
    const bytes = assembleDtb({ struct, strings: strings.bytes, slack: 64 });
    assert.equal(readFdt(bytes).root.children.length, 0);
  });

  it('reads empty properties, property values that are not multiples of 4, and shared strings', () => {
    const strings = stringsBlock('compatible', 'flag');
    const struct = new StructAssembler()
      .begin('')
      .prop(strings.offsets.get('flag') ?? 0, [])
      .prop(3, [0xaa, 0xbb, 0xcc, 0xdd, 0xee]) // "patible", the tail of "compatible"
      .endNode()
      .end()
      .bytes();
    const fdt = readFdt(assembleDtb({ struct, strings: strings.bytes }));
    assert.equal(fdt.root.bool('flag'), true);
    assert.equal(fdt.root.bool('nope'), false);
    assert.deepEqual([...(fdt.root.raw('patible') ?? [])], [0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
  });

  it('isFdtBlob looks at the magic only', () => {
    assert.equal(isFdtBlob(minimal()), true);
    assert.equal(isFdtBlob(new TextEncoder().encode('/dts-v1/;')), false);
    assert.equal(isFdtBlob(new Uint8Array([0xd0, 0x0d])), false);
  });

  it('property values are copies, not views of the blob', () => {
    const bytes = minimal();
    const fdt = readFdt(bytes);
    bytes.fill(0);
    assert.deepEqual(fdt.root.compatible, ['test,board']);
  });
});

describe('the AMP test board (dtc-built test/fixtures/fdt/amp-board.dtb)', () => {
  const fdt = readFdt(ampBoardBytes());

  it('has the nodes of the source in source order', () => {
    assert.deepEqual(
      fdt.root.children.map((c) => c.name),
      [
        'aliases',
        'chosen',
        'cpus',
        'memory@80000000',
        'reserved-memory',
        'soc@10000000',
        'remoteproc@10100000',
        'remoteproc@10101000',
      ],
    );
    assert.deepEqual(fdt.memReserve, [{ address: 0x8000_0000n, size: 0x10000n }]);
  });

  it('decodes strings, string lists, cells, 64-bit values, bytes and booleans', () => {
    const core = fdt.requireNode('/remoteproc@10100000');
    assert.equal(fdt.root.string('model'), 'rproc-ts test AMP board');
    assert.deepEqual(fdt.root.strings('compatible'), ['rproc-ts,test-amp-board', 'rproc-ts,virtual-amp-soc']);
    assert.equal(fdt.root.isCompatible('rproc-ts,virtual-amp-soc'), true);
    assert.equal(core.string('firmware-name'), 'hello.elf');
    assert.deepEqual(core.strings('mbox-names'), ['vq0', 'vq1']);
    assert.equal(core.bool('auto-boot'), true);
    assert.equal(fdt.requireNode('/remoteproc@10101000').bool('auto-boot'), false);
    assert.equal(core.u64('rproc-ts,reset-vector'), 0x8000_0000n);
    assert.deepEqual([...(core.raw('rproc-ts,id') ?? [])], [1, 2, 3]);
    assert.equal(fdt.requireNode('serial0').u32('clock-frequency'), 3686400);
    assert.equal(core.u32('absent'), undefined);
    assert.equal(core.string('absent'), undefined);
  });

  it('decodes reg with the parent cells: 2 address + 1 size at the root, 1 + 0 under /cpus', () => {
    assert.deepEqual(fdt.requireNode('/remoteproc@10100000').reg(), [
      { address: 0x1010_0000n, size: 0x1000n },
    ]);
    assert.deepEqual(fdt.requireNode('/reserved-memory/vdev0buffer@191008000').reg(), [
      { address: 0x1_9100_8000n, size: 0x40000n },
    ]);
    assert.deepEqual(fdt.requireNode('/cpus/cpu@0').reg(), [{ address: 0n, size: 0n }]);
  });

  it('looks nodes up by path, by base name, by alias and alias-relative path', () => {
    assert.equal(fdt.node('/reserved-memory/vdev0vring0@90100000')?.u32s('reg')?.[1], 0x9010_0000);
    assert.equal(fdt.node('/reserved-memory/vdev0vring0')?.path, '/reserved-memory/vdev0vring0@90100000');
    assert.equal(fdt.node('/soc/apb/serial@2000')?.string('status'), 'disabled');
    assert.equal(fdt.node('rproc1')?.path, '/remoteproc@10101000');
    assert.equal(fdt.node('serial0')?.path, '/soc@10000000/apb@80000/serial@1000');
    assert.equal(fdt.node('/'), fdt.root);
    assert.equal(fdt.node('/nope'), undefined);
    assert.equal(fdt.node('nope/x'), undefined);
    assertFdtError(() => fdt.requireNode('/nope'), /no node at \/nope/, 'ENODEV');
    assert.deepEqual(
      [...fdt.aliases()],
      [
        ['rproc0', '/remoteproc@10100000'],
        ['rproc1', '/remoteproc@10101000'],
        ['serial0', '/soc@10000000/apb@80000/serial@1000'],
      ],
    );
  });

  it('finds nodes by phandle and by compatible; status decides availability', () => {
    const mbox = fdt.requireNode('/soc/mailbox@20000');
    const ph = mbox.phandle;
    assert.ok(ph !== undefined);
    assert.equal(fdt.getByPhandle(ph), mbox);
    assert.equal(fdt.getByPhandle(0), undefined);
    assert.equal(fdt.getByPhandle(0x7777), undefined);
    assert.deepEqual(
      fdt.findCompatible('shared-dma-pool').map((n) => n.baseName),
      ['vdev0vring0', 'vdev0vring1', 'vdev0buffer', 'vdev0vring0', 'vdev0vring1', 'vdev0buffer'],
    );
    const uarts = fdt.findCompatible('ns16550a');
    assert.deepEqual(
      uarts.map((n) => n.isAvailable),
      [true, false],
    );
  });

  it('resolves memory-region phandle lists and mboxes with #mbox-cells, by name too', () => {
    const rv = fdt.requireNode('rproc0');
    assert.deepEqual(
      fdt.phandleList(rv, 'memory-region').map((n) => n.name),
      ['rv-ram@90000000', 'vdev0vring0@90100000', 'vdev0vring1@90104000', 'vdev0buffer@90108000'],
    );
    const mboxes = fdt.phandleArgs(rv, 'mboxes', '#mbox-cells');
    assert.deepEqual(
      mboxes.map((m) => [m.node.path, m.args]),
      [
        ['/soc@10000000/mailbox@20000', [0]],
        ['/soc@10000000/mailbox@20000', [1]],
      ],
    );
    const js = fdt.requireNode('rproc1');
    assert.deepEqual(fdt.namedPhandleArgs(js, 'mboxes', '#mbox-cells', 'mbox-names', 'rx')?.args, [3]);
    assert.equal(fdt.namedPhandleArgs(js, 'mboxes', '#mbox-cells', 'mbox-names', 'vq0'), undefined);
  });

  it('translates reg through two levels of ranges to the root address space', () => {
    const uart = fdt.requireNode('serial0');
    assert.deepEqual(uart.reg(), [{ address: 0x1000n, size: 0x100n }]);
    assert.deepEqual(fdt.regTranslated(uart), [{ address: 0x1008_1000n, size: 0x100n }]);
    const mbox = fdt.requireNode('/soc/mailbox@20000');
    assert.deepEqual(fdt.regTranslated(mbox), [{ address: 0x1002_0000n, size: 0x1000n }]);
    // An empty ranges (reserved-memory) is the identity.
    const vring = fdt.requireNode('/reserved-memory/vdev0vring0@90100000');
    assert.deepEqual(fdt.regTranslated(vring), [{ address: 0x9010_0000n, size: 0x4000n }]);
    assertFdtError(
      () => fdt.translate(uart, 0xfff0n, 0x100n),
      /outside every "ranges" entry of \/soc@10000000\/apb@80000/,
    );
    assertFdtError(() => fdt.translate(fdt.requireNode('/cpus/cpu@0'), 0n), /\/cpus has no "ranges"/);
  });
});

describe('typed accessors reject malformed values with EINVAL naming the property and node', () => {
  const n = new FdtNode('dev@0', [
    ['three', new Uint8Array(3)],
    ['word', new Uint8Array([0, 0, 0, 5])],
    ['unterminated', new Uint8Array([0x61, 0x62])],
    ['empty', new Uint8Array(0)],
    ['phandle', new Uint8Array([0, 0, 0, 0])],
  ]);
  const root = new FdtNode('', [['#address-cells', new Uint8Array([0, 0, 0, 9])]], [n]);

  it('u32 / u32s / u64 check the length', () => {
    assertFdtError(() => n.u32('three'), /property "three" of \/dev@0 has length 0x3, expected exactly 0x4/);
    assertFdtError(() => n.u32s('three'), /expected a multiple of 0x4/);
    assertFdtError(() => n.u64('word'), /expected exactly 0x8/);
    assert.deepEqual(n.u32s('word'), [5]);
    assert.deepEqual(n.u32s('empty'), []);
  });

  it('string and strings need a NUL-terminated value', () => {
    assertFdtError(
      () => n.string('unterminated'),
      /"unterminated" of \/dev@0 \(length 0x2\) is not a NUL-terminated string/,
    );
    assertFdtError(() => n.strings('empty'), /not a NUL-terminated string/);
  });

  it('phandle 0 is reserved', () => {
    assertFdtError(() => n.phandle, /"phandle" of \/dev@0 has the reserved value 0x0/);
  });

  it('#address-cells over 4 is refused when decoding reg', () => {
    n.props.set('reg', new Uint8Array(12));
    assertFdtError(() => n.reg(), /"#address-cells" of \/ is 0x9, over the limit of 4 cells/);
    root.props.set('#address-cells', new Uint8Array([0, 0, 0, 1]));
    n.props.set('reg', new Uint8Array(12));
    assertFdtError(
      () => n.reg(),
      /"reg" of \/dev@0 has length 0xc, expected a multiple of 0x8 \(1 address \+ 1 size cells\)/,
    );
  });

  it('addChild refuses duplicate and invalid names', () => {
    assertFdtError(() => root.addChild(new FdtNode('dev@0')), /duplicate node name "dev@0" under \//);
    assertFdtError(
      () => root.addChild(new FdtNode('bad name')),
      /node name "bad name" under \/ has a character/,
    );
    assertFdtError(() => root.addChild(n), /already has a parent/);
  });

  it('phandle lists: unknown phandle, missing #cells, truncated entry', () => {
    const target = new FdtNode('mbox', [['phandle', new Uint8Array([0, 0, 0, 1])]]);
    const user = new FdtNode('user', [
      ['unknown', new Uint8Array([0, 0, 0, 2])],
      ['short', new Uint8Array([0, 0, 0, 1])],
    ]);
    const fdt = new Fdt(new FdtNode('', [], [target, user]));
    assertFdtError(
      () => fdt.phandleList(user, 'unknown'),
      /entry 0 of property "unknown" of \/user \(cell 0\) refers to phandle 0x2/,
    );
    assertFdtError(() => fdt.phandleArgs(user, 'short', '#mbox-cells'), /\/mbox has no "#mbox-cells"/);
    target.props.set('#mbox-cells', new Uint8Array([0, 0, 0, 1]));
    assertFdtError(
      () => fdt.phandleArgs(user, 'short', '#mbox-cells'),
      /needs 1 argument cells after phandle 0x1/,
    );
    assert.deepEqual(fdt.phandleArgs(user, 'absent', '#mbox-cells'), []);
  });
});
