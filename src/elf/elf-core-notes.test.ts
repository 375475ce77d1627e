// ELF core notes: the record layout (4-byte padding of name and descriptor), elf_prstatus in its
// 32-bit layout at the offsets bfd reads (bfd/elfnn-riscv.c: size 204 for RV32, pr_cursig 12,
// pr_pid 24, pr_reg 72), the core writer's PT_NOTE, and the note parser under arbitrary bytes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkProperty } from '../../test/support/property.ts';
import { RprocError } from '../util/errors.ts';
import { EM, NT, PT } from './elf-constants.ts';
import {
  PRSTATUS32,
  encodeNotes,
  notesSize,
  parseNotes,
  prstatus32,
  type ElfNote,
} from './elf-core-notes.ts';
import { coreLayout, writeCoreHeaders, type CoreSpec } from './elf-core-writer.ts';
import { readElf } from './elf-reader.ts';

const u32 = (b: Uint8Array, off: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);

describe('ELF note records', () => {
  const cases: readonly { name: string; descLen: number; size: number }[] = [
    // 12-byte header + name with its NUL padded to 4 + descriptor padded to 4
    { name: 'CORE', descLen: 204, size: 12 + 8 + 204 },
    { name: 'GDB', descLen: 5, size: 12 + 4 + 8 },
    { name: '', descLen: 0, size: 12 + 4 },
    { name: 'LINUX', descLen: 3, size: 12 + 8 + 4 },
  ];
  for (const c of cases) {
    it(`"${c.name}" with a ${c.descLen}-byte descriptor takes ${c.size} bytes, fields in place`, () => {
      const desc = Uint8Array.from({ length: c.descLen }, (_, i) => i + 1);
      const bytes = encodeNotes([{ name: c.name, type: 0x1234, desc }]);
      assert.equal(bytes.length, c.size);
      assert.equal(notesSize([{ name: c.name, type: 0x1234, desc }]), c.size);
      assert.equal(u32(bytes, 0), c.name.length + 1);
      assert.equal(u32(bytes, 4), c.descLen);
      assert.equal(u32(bytes, 8), 0x1234);
      assert.equal(new TextDecoder().decode(bytes.subarray(12, 12 + c.name.length)), c.name);
      assert.equal(bytes[12 + c.name.length], 0);
      const descAt = 12 + ((c.name.length + 1 + 3) & ~3);
      assert.deepEqual(bytes.subarray(descAt, descAt + c.descLen), desc);
    });
  }

  it('parses back what it encodes, in order', () => {
    const notes: ElfNote[] = [
      { name: 'CORE', type: NT.NT_PRSTATUS, desc: new Uint8Array(204).fill(7) },
      { name: 'GDB', type: NT.NT_GDB_TDESC, desc: new TextEncoder().encode('<target/>') },
    ];
    assert.deepEqual(parseNotes(encodeNotes(notes)), notes);
  });

  it('refuses a type that is not a 32-bit number, naming the note', () => {
    assert.throws(
      () => encodeNotes([{ name: 'CORE', type: 2 ** 32, desc: new Uint8Array(0) }]),
      (e: unknown) => e instanceof RprocError && e.code === 'EINVAL' && /note "CORE"/.test(e.message),
    );
  });

  const bad: readonly { what: string; bytes: number[]; message: RegExp }[] = [
    { what: 'a header cut short', bytes: [5, 0, 0, 0, 0, 0], message: /offset 0x0 has 6 bytes/ },
    {
      what: 'a descriptor past the end',
      bytes: [1, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      message: /descsz 0x10\) runs past the segment end 0x10/,
    },
    {
      what: 'a name without its NUL',
      bytes: [4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x43, 0x4f, 0x52, 0x45],
      message: /not NUL-terminated/,
    },
  ];
  for (const b of bad) {
    it(`rejects ${b.what} with EINVAL naming the offset`, () => {
      assert.throws(
        () => parseNotes(Uint8Array.from(b.bytes)),
        (e: unknown) => e instanceof RprocError && e.code === 'EINVAL' && b.message.test(e.message),
      );
    });
  }

  it('any bytes parse or raise RprocError; encoded notes always parse back', () => {
    const note = fc.record({
      name: fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0')),
      type: fc.integer({ min: 0, max: 0xffff_ffff }),
      desc: fc.uint8Array({ maxLength: 64 }),
    });
    checkProperty(
      'elf-notes',
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.array(note, { maxLength: 6 }), (raw, notes) => {
        try {
          parseNotes(raw);
        } catch (e) {
          if (!(e instanceof RprocError)) throw e;
        }
        const plain = notes.map((n) => ({ name: n.name, type: n.type, desc: n.desc }));
        assert.deepEqual(parseNotes(encodeNotes(plain)), plain);
      }),
    );
  });
});

describe('elf_prstatus, 32-bit layout', () => {
  const regs = Array.from({ length: 32 }, (_, i) => (0x8000_0000 + i * 0x111) >>> 0);
  const desc = prstatus32({ signal: 11, pid: 1, regs });

  const fields: readonly { field: string; off: number; read: (d: Uint8Array) => number; want: number }[] = [
    { field: 'si_signo', off: PRSTATUS32.pr_info, read: (d) => u32(d, 0), want: 11 },
    { field: 'pr_cursig', off: 12, read: (d) => (d[12] ?? 0) | ((d[13] ?? 0) << 8), want: 11 },
    { field: 'pr_pid', off: 24, read: (d) => u32(d, 24), want: 1 },
    { field: 'pr_reg[0] (pc on RISC-V)', off: 72, read: (d) => u32(d, 72), want: 0x8000_0000 },
    {
      field: 'pr_reg[31]',
      off: 72 + 31 * 4,
      read: (d) => u32(d, 72 + 124),
      want: (0x8000_0000 + 31 * 0x111) >>> 0,
    },
    { field: 'pr_fpvalid', off: 200, read: (d) => u32(d, 200), want: 0 },
  ];
  for (const f of fields) {
    it(`${f.field} at offset ${f.off}`, () => assert.equal(f.read(desc), f.want));
  }

  it('is 204 bytes with 32 registers (bfd: RV32 PRSTATUS_SIZE) and 148 with 18 (ARM)', () => {
    assert.equal(desc.length, 204);
    assert.equal(prstatus32({ signal: 5, pid: 1, regs: new Array<number>(18).fill(0) }).length, 148);
  });
});

describe('core file with notes', () => {
  const notes: ElfNote[] = [{ name: 'CORE', type: NT.NT_PRSTATUS, desc: new Uint8Array(204).fill(0xab) }];
  const spec = (withNotes: boolean): CoreSpec => ({
    class: 32,
    machine: EM.EM_RISCV,
    entry: 0x8000_0000n,
    segments: [
      { da: 0x8000_0000n, size: 0x40 },
      { da: 0x8000_1000n, size: 0x20 },
    ],
    ...(withNotes ? { notes } : {}),
  });

  it('puts PT_NOTE first, its bytes right after the program headers, and the segments after them', () => {
    const s = spec(true);
    const layout = coreLayout(s);
    const file = new Uint8Array(layout.totalSize);
    writeCoreHeaders(s, file);
    const image = readElf(file).image;
    assert.ok(image !== undefined);
    assert.deepEqual(
      image.programHeaders.map((p) => p.type),
      [PT.PT_NOTE, PT.PT_LOAD, PT.PT_LOAD],
    );
    const note = image.programHeaders[0];
    assert.ok(note !== undefined);
    assert.equal(note.offset, 52 + 3 * 32);
    assert.equal(note.filesz, 12 + 8 + 204);
    assert.equal(note.memsz, 0);
    assert.equal(note.align, 4n);
    assert.deepEqual(parseNotes(file.subarray(note.offset, note.offset + note.filesz)), notes);
    assert.equal(image.programHeaders[1]?.offset, note.offset + note.filesz);
    assert.equal(layout.headerSize, note.offset + note.filesz);
  });

  it('without notes is laid out exactly as Linux rproc_coredump() does: PT_LOADs only', () => {
    const layout = coreLayout(spec(false));
    assert.equal(layout.headerSize, 52 + 2 * 32);
    assert.equal(layout.notesSize, 0);
    assert.deepEqual(layout.offsets, [52 + 2 * 32, 52 + 2 * 32 + 0x40]);
  });
});
