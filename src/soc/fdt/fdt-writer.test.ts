// Writer tests: dtc-built blobs are reproduced byte for byte after read→write, dtc decompiles our
// output to the same text as the original, trees survive write→read, strings are shared as dtc
// shares them, and trees that could not be read back are refused.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileDts, decompileDtb } from './dts-compile.ts';
import { FdtNode, firstDifference } from './fdt-node.ts';
import { readFdt, readFdtHeader } from './fdt-reader.ts';
import { Fdt } from './fdt-tree.ts';
import { writeFdt } from './fdt-writer.ts';
import {
  AMP_BOARD_DTB,
  DEFAULT_BOARD_DTB,
  StructAssembler,
  assembleDtb,
  assertFdtError,
  skipWithoutDtc,
  stringsBlock,
} from '../../../test/support/fdt-fixtures.ts';

const be32 = (n: number): Uint8Array =>
  Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const text = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

const EXOTIC_DTS = `/dts-v1/;
/memreserve/ 0x1000 0x100;
/memreserve/ 0x200000000 0x1000;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	bus: bus@1000 {
		reg = <0x1000 0x100>;
		b8 = /bits/ 8 <1 2 3>;
		b16 = /bits/ 16 <0x1234 0x5678 0x9abc>;
		b64 = /bits/ 64 <0x123456789abcdef0>;
		mixed = "a", "b", <1 2>, [ff ee];
	};
	gone { x; };
	user { r = <&bus>; p = &bus; };
};
/delete-node/ &{/gone};
`;

function sampleTree(): Fdt {
  const root = new FdtNode('', [
    ['compatible', text('test,board')],
    ['#address-cells', be32(1)],
  ]);
  const a = root.addChild(new FdtNode('a@10', [['reg', Uint8Array.of(0, 0, 0, 0x10, 0, 0, 0, 4)]]));
  a.addChild(
    new FdtNode('leaf', [
      ['compatible', text('test,leaf')],
      ['phandle', be32(1)],
      ['empty', new Uint8Array(0)],
    ]),
  );
  root.addChild(
    new FdtNode('b', [
      ['odd', Uint8Array.of(1, 2, 3)],
      ['ref', be32(1)],
    ]),
  );
  return new Fdt(root, { memReserve: [{ address: 0x8000_0000n, size: 0x1000n }], bootCpuidPhys: 2 });
}

describe('writeFdt', () => {
  for (const [name, path] of [
    ['the AMP test board', AMP_BOARD_DTB],
    ['the default board', DEFAULT_BOARD_DTB],
  ] as const) {
    it(`reproduces ${name} (built by dtc) byte for byte after read→write`, () => {
      const original = new Uint8Array(readFileSync(path));
      assert.deepEqual(writeFdt(readFdt(original)), original);
    });

    it(`writes ${name} so that dtc decompiles it to the same text`, { skip: skipWithoutDtc }, async () => {
      const original = new Uint8Array(readFileSync(path));
      const ours = writeFdt(readFdt(original));
      assert.equal(await decompileDtb(ours), await decompileDtb(original));
    });
  }

  it(
    'reproduces dtc output with __symbols__, linux,phandle, /bits/ sizes and /delete-node/',
    { skip: skipWithoutDtc },
    async () => {
      const original = await compileDts({ source: EXOTIC_DTS }, { args: ['-@', '-H', 'both'] });
      const fdt = readFdt(original);
      assert.equal(fdt.node('/__symbols__')?.string('bus'), '/bus@1000');
      assert.equal(fdt.requireNode('/bus@1000').u32('linux,phandle'), fdt.requireNode('/bus@1000').phandle);
      assert.equal(fdt.node('/gone'), undefined);
      assert.deepEqual(fdt.memReserve, [
        { address: 0x1000n, size: 0x100n },
        { address: 0x2_0000_0000n, size: 0x1000n },
      ]);
      assert.deepEqual(writeFdt(fdt), original);
    },
  );

  it('drops dtc’s padding but decompiles to the same text', { skip: skipWithoutDtc }, async () => {
    const padded = await compileDts({ source: EXOTIC_DTS }, { args: ['-p', '256', '-b', '1'] });
    const ours = writeFdt(readFdt(padded));
    assert.equal(ours.length, padded.length - 256);
    assert.equal(readFdt(ours).bootCpuidPhys, 1);
    assert.equal(await decompileDtb(ours), await decompileDtb(padded));
  });

  it('round trip: read(write(tree)) equals the tree, reservations and boot cpu included', () => {
    const tree = sampleTree();
    const back = readFdt(writeFdt(tree));
    assert.equal(firstDifference(tree.root, back.root), undefined);
    assert.deepEqual(back.memReserve, tree.memReserve);
    assert.equal(back.bootCpuidPhys, 2);
  });

  it('writes version 17 / last_comp_version 16 with dtc’s block order and no padding', () => {
    const bytes = writeFdt(sampleTree());
    const h = readFdtHeader(bytes);
    assert.equal(h.version, 17);
    assert.equal(h.lastCompVersion, 16);
    assert.equal(h.offMemRsvmap, 0x28);
    assert.equal(h.offDtStruct, 0x28 + 2 * 16);
    assert.equal(h.offDtStrings, h.offDtStruct + h.structSize);
    assert.equal(h.totalsize, h.offDtStrings + h.sizeDtStrings);
    assert.equal(bytes.length, h.totalsize);
  });

  it('is deterministic', () => {
    assert.deepEqual(writeFdt(sampleTree()), writeFdt(sampleTree()));
  });

  it('stores each property name once and reuses the tail of a longer name, as dtc does', () => {
    const root = new FdtNode('', [
      ['compatible', text('x')],
      ['patible', text('y')],
    ]);
    root.addChild(new FdtNode('n', [['compatible', text('z')]]));
    const bytes = writeFdt(new Fdt(root));
    const h = readFdtHeader(bytes);
    assert.equal(new TextDecoder().decode(bytes.subarray(h.offDtStrings, h.totalsize)), 'compatible\0');
    assert.equal(firstDifference(readFdt(bytes).root, root), undefined);
  });

  it('upgrades a version-16 blob to version 17', () => {
    const strings = stringsBlock('x');
    const struct = new StructAssembler().begin('').prop(0, [1, 2]).endNode().end().bytes();
    const v16 = readFdt(assembleDtb({ struct, strings: strings.bytes, version: 16 }));
    const bytes = writeFdt(v16);
    assert.equal(readFdtHeader(bytes).version, 17);
    assert.equal(firstDifference(readFdt(bytes).root, v16.root), undefined);
  });

  it('writes an empty tree', () => {
    const bytes = writeFdt(new Fdt(new FdtNode('')));
    assert.equal(readFdt(bytes).root.children.length, 0);
  });
});

describe('writeFdt refuses trees it could not read back', () => {
  it('a named root', () => {
    assertFdtError(() => writeFdt(new Fdt(new FdtNode('root'))), /the root node is named "root", not ""/);
  });

  it('an invalid property name', () => {
    const root = new FdtNode('', [['bad name', new Uint8Array(0)]]);
    assertFdtError(() => writeFdt(new Fdt(root)), /property name "bad name" of \/ has a character outside/);
  });

  it('a tree deeper than 64 levels', () => {
    const root = new FdtNode('');
    let n = root;
    for (let i = 0; i < 64; i++) n = n.addChild(new FdtNode('n'));
    assertFdtError(() => writeFdt(new Fdt(root)), /nests deeper than 64 levels/);
  });

  it('duplicate phandles', () => {
    const root = new FdtNode(
      '',
      [],
      [new FdtNode('a', [['phandle', be32(3)]]), new FdtNode('b', [['phandle', be32(3)]])],
    );
    assertFdtError(() => writeFdt(new Fdt(root)), /phandle 0x3 is used by both \/a and \/b/);
  });

  it('a (0, 0) memory reservation', () => {
    const fdt = new Fdt(new FdtNode(''), { memReserve: [{ address: 0n, size: 0n }] });
    assertFdtError(() => writeFdt(fdt), /\(0, 0\) memory reservation would end the reservation map early/);
  });

  it('a boot cpu id that does not fit 32 bits', () => {
    const fdt = new Fdt(new FdtNode(''), { bootCpuidPhys: 2 ** 32 });
    assertFdtError(() => writeFdt(fdt), /boot_cpuid_phys value 0x100000000 does not fit in 32 bits/);
  });
});
