// Malformed-blob cases, one named test each: every one must be an RprocError EINVAL whose message
// names the bad value in hex and where it was found - never a RangeError, TypeError or hang.
// Blobs are hand-assembled (test/support/fdt-fixtures.ts) or the committed AMP board with one field changed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FDT_HEADER, FDT_TOKEN } from './fdt-constants.ts';
import { readFdt } from './fdt-reader.ts';
import {
  StructAssembler,
  ampBoardBytes,
  assembleDtb,
  assertFdtError,
  stringsBlock,
  u32At,
  withU32,
} from '../../../test/support/fdt-fixtures.ts';

const names = stringsBlock('reg', 'compatible', 'phandle');
const REG = names.offsets.get('reg') ?? 0;
const PHANDLE = names.offsets.get('phandle') ?? 0;

/** A blob from a structure block and the standard strings. */
function blob(struct: StructAssembler, extra: Partial<Parameters<typeof assembleDtb>[0]> = {}): Uint8Array {
  return assembleDtb({ struct: struct.bytes(), strings: names.bytes, ...extra });
}

function good(): StructAssembler {
  return new StructAssembler().begin('').begin('a@0').prop(REG, [0, 0, 0, 1]).endNode().endNode().end();
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  assertFdtError(() => readFdt(bytes), message);
}

describe('malformed headers', () => {
  it('the baseline blob of these cases is valid', () => {
    assert.equal(readFdt(blob(good())).requireNode('/a@0').u32('reg'), 1);
  });

  it('an empty buffer', () => {
    rejects(new Uint8Array(0), /blob is 0x0 bytes, shorter than the 0x24-byte header/);
  });

  it('bad magic', () => {
    rejects(withU32(blob(good()), 0, 0xfeedd00d), /bad magic 0xfeedd00d at offset 0x0, expected 0xd00dfeed/);
  });

  it('a little-endian blob (byte-swapped magic)', () => {
    rejects(withU32(blob(good()), 0, 0xedfe0dd0), /bad magic 0xedfe0dd0/);
  });

  it('version older than 16', () => {
    rejects(withU32(blob(good()), FDT_HEADER.version, 3), /version 0x3 at offset 0x14 is older than 16/);
  });

  it('last_comp_version newer than 17', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.last_comp_version, 18),
      /last_comp_version 0x12 at offset 0x18 is newer than 17/,
    );
  });

  it('a version-17 header cut short', () => {
    rejects(blob(good()).slice(0, 0x26), /blob is 0x26 bytes, shorter than the 0x28-byte version-17 header/);
  });

  it('totalsize past the end of the buffer', () => {
    const b = blob(good());
    rejects(
      withU32(b, FDT_HEADER.totalsize, b.length + 4),
      new RegExp(
        `totalsize 0x${(b.length + 4).toString(16)} at offset 0x4 is past the end of the 0x${b.length.toString(16)}-byte buffer`,
      ),
    );
  });

  it('totalsize 0xffffffff', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.totalsize, 0xffff_ffff),
      /totalsize 0xffffffff at offset 0x4 is past the end/,
    );
  });

  it('totalsize smaller than the header', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.totalsize, 0x10),
      /totalsize 0x10 is smaller than the 0x28-byte header/,
    );
  });

  it('structure block outside totalsize', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.off_dt_struct, 0x1000),
      /structure block offset 0x1000 \(header field at 0x8\) is outside \[0x28, totalsize/,
    );
  });

  it('structure block running past totalsize', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.size_dt_struct, 0x1000),
      /structure block at 0x38 with size 0x1000 runs past totalsize/,
    );
  });

  it('structure block overlapping the header', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.off_dt_struct, 0x10),
      /structure block offset 0x10 .* is outside \[0x28/,
    );
  });

  it('structure block offset not 4-byte aligned', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.off_dt_struct, 0x3a),
      /structure block offset 0x3a is not 4-byte aligned/,
    );
  });

  it('strings block past totalsize', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.size_dt_strings, 0x10000),
      /strings block at 0x[0-9a-f]+ with size 0x10000 runs past totalsize/,
    );
  });

  it('structure and strings blocks overlapping', () => {
    const b = blob(good());
    rejects(
      withU32(b, FDT_HEADER.off_dt_strings, u32At(b, FDT_HEADER.off_dt_struct) + 4),
      /structure block \[0x38, 0x[0-9a-f]+\) overlaps the strings block/,
    );
  });

  it('memory reservation map not 8-byte aligned', () => {
    rejects(
      withU32(blob(good()), FDT_HEADER.off_mem_rsvmap, 0x2c),
      /memory reservation block offset 0x2c is not 8-byte aligned/,
    );
  });

  it('memory reservation map without a terminator before totalsize', () => {
    const strings = new Uint8Array(0);
    const bytes = assembleDtb({ struct: new Uint8Array(0), strings, memReserve: [[1n, 1n]] });
    // Drop the terminator: move the (empty) blocks to where the terminator was and cut it off.
    const cut = withU32(
      withU32(withU32(bytes, FDT_HEADER.totalsize, 0x38), FDT_HEADER.off_dt_struct, 0x38),
      FDT_HEADER.off_dt_strings,
      0x38,
    );
    rejects(
      cut.slice(0, 0x38),
      /memory reservation map at 0x28 has no \(0, 0\) terminator before totalsize 0x38/,
    );
  });

  it('memory reservation map running into the structure block', () => {
    // No terminator where it belongs; the first all-zero 16 bytes are inside a property value.
    assert.equal(REG, 0);
    const b = blob(new StructAssembler().begin('').prop(REG, new Uint8Array(24)).endNode().end());
    rejects(withU32(b, 0x28 + 4, 1), /memory reservation map \[0x28, 0x58\) overlaps the structure block/);
  });
});

describe('malformed structure blocks', () => {
  it('unterminated node name', () => {
    const s = new StructAssembler().begin('').beginUnterminated('abcd');
    rejects(
      blob(s),
      /node name "abcd\.\.\." at struct offset 0x8 is not NUL-terminated before the structure block end 0x10/,
    );
  });

  it('node name longer than 255 bytes', () => {
    const s = new StructAssembler().begin('').begin('n'.repeat(300)).endNode().endNode().end();
    rejects(blob(s), /node name "n{32}\.\.\." at struct offset 0x8 is longer than 255 bytes/);
  });

  it('node name with a character outside the spec set', () => {
    const s = new StructAssembler().begin('').begin('bad/name').endNode().endNode().end();
    rejects(blob(s), /node name "bad\/name" at struct offset 0x8 has a character outside/);
  });

  it('node name with non-ASCII bytes is shown escaped', () => {
    const s = new StructAssembler().begin('').begin('caf\u00e9').endNode().endNode().end();
    rejects(blob(s), /node name "caf\\xc3\\xa9" at struct offset 0x8 has a character outside/);
  });

  it('empty non-root node name and empty unit address', () => {
    rejects(
      blob(new StructAssembler().begin('').begin('').endNode().endNode().end()),
      /node name "" at struct offset 0x8 is empty/,
    );
    rejects(
      blob(new StructAssembler().begin('').begin('a@').endNode().endNode().end()),
      /"a@" .* has an empty unit address/,
    );
  });

  it('root node with a name', () => {
    rejects(
      blob(new StructAssembler().begin('root').endNode().end()),
      /root node at struct offset 0x0 is named "root", not ""/,
    );
  });

  it('duplicate sibling names', () => {
    const s = new StructAssembler().begin('').begin('a').endNode().begin('a').endNode().endNode().end();
    rejects(blob(s), /duplicate node name "a" under \/ at struct offset 0x14/);
  });

  it('duplicate property in one node', () => {
    const s = new StructAssembler().begin('').prop(REG, [0, 0, 0, 1]).prop(REG, [0, 0, 0, 2]).endNode().end();
    rejects(blob(s), /duplicate property "reg" in \/ at struct offset 0x18/);
  });

  it('property name offset outside the strings block', () => {
    const s = new StructAssembler().begin('').prop(0x4000, [0, 0, 0, 1]).endNode().end();
    rejects(
      blob(s),
      new RegExp(
        `property at struct offset 0x8 has name offset 0x4000, outside the 0x${names.bytes.length.toString(16)}-byte strings block`,
      ),
    );
  });

  it('property name running off the end of the strings block', () => {
    const strings = new TextEncoder().encode('reg\0abc'); // "abc" has no NUL
    const s = new StructAssembler().begin('').prop(4, [1]).endNode().end();
    rejects(
      assembleDtb({ struct: s.bytes(), strings }),
      /property name "abc" at strings offset 0x4 \(struct offset 0x8\) is not NUL-terminated before the strings block end 0x7/,
    );
  });

  it('invalid property name characters', () => {
    const strings = new TextEncoder().encode('a b\0');
    const s = new StructAssembler().begin('').prop(0, [1]).endNode().end();
    rejects(
      assembleDtb({ struct: s.bytes(), strings }),
      /property name "a b" at strings offset 0x0 \(struct offset 0x8\) has a character outside/,
    );
  });

  it('property length huge', () => {
    const s = new StructAssembler().begin('').prop(REG, [0, 0, 0, 1], 0xffff_fff0).endNode().end();
    rejects(
      blob(s),
      /EINVAL: property "reg" at struct offset 0x8 has length 0xfffffff0, past the structure block end 0x20/,
    );
  });

  it('property length one past the block end', () => {
    const s = new StructAssembler().begin('').prop(REG, [0, 0, 0, 1], 0x11).endNode().end();
    rejects(
      blob(s),
      /property "reg" at struct offset 0x8 has length 0x11, past the structure block end 0x20/,
    );
  });

  it('FDT_PROP header cut off by the block end', () => {
    const s = new StructAssembler().begin('').word(FDT_TOKEN.FDT_PROP).word(4);
    rejects(blob(s), /FDT_PROP at struct offset 0x8 is cut off by the structure block end 0x10/);
  });

  it('FDT_END missing', () => {
    rejects(blob(new StructAssembler().begin('').endNode()), /structure block ends at 0xc without FDT_END/);
  });

  it('structure block ending inside a node', () => {
    rejects(
      blob(new StructAssembler().begin('').begin('a')),
      /structure block ends at 0x10 inside node \/a \(missing FDT_END_NODE and FDT_END\)/,
    );
  });

  it('FDT_END inside a node (unbalanced: BEGIN without END)', () => {
    rejects(
      blob(new StructAssembler().begin('').begin('a').endNode().end()),
      /FDT_END at struct offset 0x14 inside node \/ \(missing FDT_END_NODE\)/,
    );
  });

  it('FDT_END_NODE without a matching FDT_BEGIN_NODE', () => {
    rejects(
      blob(new StructAssembler().begin('').endNode().endNode().end()),
      /FDT_END_NODE at struct offset 0xc has no matching FDT_BEGIN_NODE/,
    );
  });

  it('FDT_END before any node', () => {
    rejects(blob(new StructAssembler().end()), /FDT_END at struct offset 0x0 before any node/);
  });

  it('an empty structure block', () => {
    rejects(blob(new StructAssembler()), /structure block ends at 0x0 without FDT_END/);
  });

  it('a second root node', () => {
    rejects(
      blob(new StructAssembler().begin('').endNode().begin('').endNode().end()),
      /FDT_BEGIN_NODE at struct offset 0xc after the root node ended/,
    );
  });

  it('FDT_PROP outside any node', () => {
    rejects(blob(new StructAssembler().prop(REG, [1])), /FDT_PROP at struct offset 0x0 is outside any node/);
  });

  it('nesting depth 1000', () => {
    const s = new StructAssembler().begin('');
    for (let i = 0; i < 1000; i++) s.begin('n');
    for (let i = 0; i < 1001; i++) s.endNode();
    rejects(blob(s.end()), /node at struct offset 0x200 nests deeper than 64 levels/);
  });

  it('nesting depth exactly 64 is accepted', () => {
    const s = new StructAssembler().begin('');
    for (let i = 0; i < 63; i++) s.begin('n');
    for (let i = 0; i < 64; i++) s.endNode();
    const fdt = readFdt(blob(s.end()));
    assert.equal(fdt.node(`/${Array(63).fill('n').join('/')}`)?.depth, 63);
  });

  it('misaligned tokens (a property value without its padding)', () => {
    const s = new StructAssembler().begin('').propUnpadded(REG, [1, 2, 3, 4, 5]).endNode().end();
    rejects(
      blob(s),
      /unknown token 0x2000000 at struct offset 0x1c \(tokens are 4-byte aligned big-endian words\)/,
    );
  });

  it('unknown token', () => {
    rejects(
      blob(new StructAssembler().begin('').word(0x7).endNode().end()),
      /unknown token 0x7 at struct offset 0x8/,
    );
  });

  it('a version-16 blob without FDT_END runs to totalsize, not beyond', () => {
    const s = new StructAssembler().begin('').endNode();
    rejects(
      assembleDtb({ struct: s.bytes(), strings: new Uint8Array(0), version: 16, slack: 64 }),
      /structure block ends at 0xc without FDT_END/,
    );
  });
});

describe('malformed phandles', () => {
  it('duplicate phandles', () => {
    const s = new StructAssembler()
      .begin('')
      .begin('a')
      .prop(PHANDLE, [0, 0, 0, 1])
      .endNode()
      .begin('b')
      .prop(PHANDLE, [0, 0, 0, 1])
      .endNode()
      .endNode()
      .end();
    rejects(blob(s), /phandle 0x1 is used by both \/a and \/b/);
  });

  it('phandle 0xffffffff', () => {
    const s = new StructAssembler()
      .begin('')
      .begin('a')
      .prop(PHANDLE, [0xff, 0xff, 0xff, 0xff])
      .endNode()
      .endNode()
      .end();
    rejects(blob(s), /property "phandle" of \/a has the reserved value 0xffffffff/);
  });

  it('phandle of the wrong length', () => {
    const s = new StructAssembler().begin('').begin('a').prop(PHANDLE, [0, 1]).endNode().endNode().end();
    rejects(blob(s), /property "phandle" of \/a has length 0x2, not 0x4/);
  });
});

describe('the AMP board with one field changed', () => {
  it('every single-byte truncation is rejected with EINVAL', () => {
    const b = ampBoardBytes();
    for (const len of [0, 3, 0x24, 0x27, 0x28, b.length - 1]) {
      assertFdtError(() => readFdt(b.slice(0, len)), /./);
    }
  });

  it('the first property length set to 0xfffffff0', () => {
    const b = ampBoardBytes();
    const struct = u32At(b, FDT_HEADER.off_dt_struct);
    // root: BEGIN_NODE, "" padded to 4, then the first FDT_PROP: its length is at struct + 12.
    assert.equal(u32At(b, struct + 8), FDT_TOKEN.FDT_PROP);
    rejects(
      withU32(b, struct + 12, 0xffff_fff0),
      /property "model" at struct offset 0x8 has length 0xfffffff0, past the structure block end 0x[0-9a-f]+/,
    );
  });
});
