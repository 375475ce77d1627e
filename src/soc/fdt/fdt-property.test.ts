// Property tests for the FDT layer: whatever the bytes (random, random behind a plausible header,
// or the AMP board with mutated words), readFdt and every accessor on what it returns either work
// or throw RprocError - never RangeError/TypeError, never slowly; every blob the reader accepts,
// the writer writes back to an equal tree; and generated trees survive write→read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../../test/support/property.ts';
import { RprocError } from '../../util/errors.ts';
import { ByteView } from '../../util/bytes.ts';
import { FDT_HEADER, FDT_MAGIC } from './fdt-constants.ts';
import { describeRemoteprocs, reservedMemoryRegions } from './fdt-remoteproc.ts';
import { FdtNode, firstDifference } from './fdt-node.ts';
import { readFdt } from './fdt-reader.ts';
import { Fdt } from './fdt-tree.ts';
import { writeFdt } from './fdt-writer.ts';
import { ampBoardBytes } from '../../../test/support/fdt-fixtures.ts';

const RUN_BUDGET_MS = 1000;
const AMP = ampBoardBytes();

function parsesOrRaises(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
  }
}

/** Every reader entry point and accessor on `bytes`. */
function exercise(bytes: Uint8Array): void {
  const started = performance.now();
  let fdt: Fdt | undefined;
  try {
    fdt = readFdt(bytes);
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
  }
  if (fdt !== undefined) {
    const tree = fdt;
    for (const n of tree.nodes()) {
      parsesOrRaises(() => n.reg());
      parsesOrRaises(() => n.phandle);
      parsesOrRaises(() => n.compatible);
      parsesOrRaises(() => n.isAvailable);
      parsesOrRaises(() => tree.regTranslated(n));
      for (const p of n.props.keys()) {
        parsesOrRaises(() => n.u32(p));
        parsesOrRaises(() => n.u32s(p));
        parsesOrRaises(() => n.u64(p));
        parsesOrRaises(() => n.strings(p));
        parsesOrRaises(() => tree.phandleArgs(n, p, '#mbox-cells'));
      }
    }
    parsesOrRaises(() => tree.aliases());
    parsesOrRaises(() => describeRemoteprocs(tree));
    parsesOrRaises(() => reservedMemoryRegions(tree));
    // What the reader accepts, the writer writes, and the result reads back equal.
    const again = readFdt(writeFdt(tree));
    assert.equal(firstDifference(tree.root, again.root), undefined);
    assert.deepEqual(again.memReserve, tree.memReserve);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < RUN_BUDGET_MS, `took ${elapsed.toFixed(0)} ms`);
}

/** A header whose fields point somewhere inside a random body, so that parsing gets past the magic. */
const plausibleBlob = fc
  .record({
    body: fc.uint8Array({ minLength: 0, maxLength: 400 }),
    version: fc.constantFrom(16, 17, 1, 18),
    lastComp: fc.constantFrom(16, 17, 2, 18),
    offs: fc.array(fc.nat(0x200), { minLength: 5, maxLength: 5 }),
    exactSize: fc.boolean(),
  })
  .map(({ body, version, lastComp, offs, exactSize }) => {
    const bytes = new Uint8Array(0x28 + body.length);
    bytes.set(body, 0x28);
    const v = new ByteView(bytes, 'be', { what: 'blob', op: 'test' });
    const [s, str, rsv, sstr, sstruct] = offs;
    v.setU32(FDT_HEADER.magic, FDT_MAGIC, 'magic');
    v.setU32(FDT_HEADER.totalsize, exactSize ? bytes.length : (s ?? 0) + 0x28, 'totalsize');
    v.setU32(FDT_HEADER.off_dt_struct, ((s ?? 0) & ~3) + 0x28, 'off_dt_struct');
    v.setU32(FDT_HEADER.off_dt_strings, (str ?? 0) + 0x28, 'off_dt_strings');
    v.setU32(FDT_HEADER.off_mem_rsvmap, ((rsv ?? 0) & ~7) + 0x28, 'off_mem_rsvmap');
    v.setU32(FDT_HEADER.version, version, 'version');
    v.setU32(FDT_HEADER.last_comp_version, lastComp, 'last_comp_version');
    v.setU32(FDT_HEADER.size_dt_strings, sstr ?? 0, 'size_dt_strings');
    v.setU32(FDT_HEADER.size_dt_struct, sstruct ?? 0, 'size_dt_struct');
    return bytes;
  });

const interesting = fc.constantFrom(
  0,
  1,
  2,
  3,
  4,
  9,
  0x10,
  0x7f,
  0xff,
  0xffff,
  0x7fff_ffff,
  0xffff_fff0,
  0xffff_ffff,
);

/** The AMP board with a few words (tokens, lengths, offsets, header fields) or bytes changed. */
const mutatedBoard = fc
  .record({
    words: fc.array(
      fc.tuple(fc.nat(Math.floor(AMP.length / 4) - 1), fc.oneof(interesting, fc.nat(0xffff_ffff))),
      {
        maxLength: 4,
      },
    ),
    bytes: fc.array(fc.tuple(fc.nat(AMP.length - 1), fc.nat(0xff)), { maxLength: 4 }),
    cut: fc.option(fc.nat(AMP.length), { nil: undefined }),
  })
  .map(({ words, bytes, cut }) => {
    const copy = AMP.slice();
    const v = new ByteView(copy, 'be', { what: 'blob', op: 'test' });
    for (const [i, w] of words) v.setU32(i * 4, w >>> 0, 'mutation');
    for (const [i, b] of bytes) v.setU8(i, b, 'mutation');
    return cut === undefined ? copy : copy.slice(0, cut);
  });

const nodeName = fc.stringMatching(/^[a-z][a-z0-9,._+-]{0,7}(@[0-9a-f]{1,6})?$/);
const propName = fc
  .stringMatching(/^[a-z#][a-z0-9,._+?#-]{0,9}$/)
  .filter((n) => n !== 'phandle' && n !== 'linux,phandle');
const props = fc.uniqueArray(fc.tuple(propName, fc.uint8Array({ maxLength: 24 })), {
  maxLength: 5,
  selector: ([k]) => k,
});

interface TreeShape {
  readonly props: [string, Uint8Array][];
  readonly children: [string, TreeShape][];
}

/** A tree of at most `depth` levels below the node (fc.memo bounds the recursion). */
const tree: fc.Memo<TreeShape> = fc.memo((depth) =>
  fc.record({
    props,
    children:
      depth <= 1
        ? fc.constant<[string, TreeShape][]>([])
        : fc.uniqueArray(fc.tuple(nodeName, tree(depth - 1)), { maxLength: 3, selector: ([n]) => n }),
  }),
);

function toNode(name: string, shape: TreeShape): FdtNode {
  const n = new FdtNode(name, shape.props);
  for (const [childName, child] of shape.children) n.addChild(toNode(childName, child));
  return n;
}

describe('FDT properties', () => {
  it('arbitrary bytes: readFdt parses or raises RprocError, quickly', () => {
    checkProperty('fdt-arbitrary-bytes', fc.property(fc.uint8Array({ maxLength: 600 }), exercise), {
      numRuns: 300,
    });
  });

  it('random body behind a plausible header: parse or RprocError', () => {
    checkProperty('fdt-plausible-header', fc.property(plausibleBlob, exercise), { numRuns: 500 });
  });

  it('mutated AMP board: parse (and write back equal) or RprocError', () => {
    checkProperty('fdt-mutated-board', fc.property(mutatedBoard, exercise), { numRuns: 500 });
  });

  it('generated trees: read(write(tree)) equals the tree and writing is deterministic', () => {
    checkProperty(
      'fdt-roundtrip',
      fc.property(
        tree(5),
        fc.array(
          fc.tuple(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
          {
            maxLength: 3,
          },
        ),
        fc.nat(0xffff_ffff),
        (shape, rsv, cpu) => {
          const fdt = new Fdt(toNode('', shape), {
            memReserve: rsv.map(([address, size]) => ({ address, size })),
            bootCpuidPhys: cpu,
          });
          const bytes = writeFdt(fdt);
          const back = readFdt(bytes);
          assert.equal(firstDifference(fdt.root, back.root), undefined);
          assert.deepEqual(back.memReserve, fdt.memReserve);
          assert.equal(back.bootCpuidPhys, cpu);
          assert.deepEqual(writeFdt(back), bytes);
        },
      ),
      { numRuns: 200 },
    );
  });
});
