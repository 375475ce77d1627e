// Cross-checks our ELF reader against GNU readelf (from Debian's binutils-riscv64-unknown-elf) on
// every committed firmware image: the same sections (name, type, address, offset, size, flags) and
// the same program headers (type, offset, addresses, sizes, flags), field for field.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseElf } from '../src/elf/elf-reader.ts';
import { PF, SHF, programTypeName, sectionTypeName } from '../src/elf/elf-constants.ts';
import { needTools } from './support/cross-tools.ts';

const prebuilt = join(import.meta.dirname, '..', 'firmware', 'prebuilt');
const images = readdirSync(prebuilt).filter((f) => f.endsWith('.elf'));
const tools = needTools({ readelf: ['riscv64-unknown-elf-readelf', 'readelf'] });

interface Row {
  readonly name: string;
  readonly type: string;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly flags: string;
}

function readelfSections(tool: string, path: string): Row[] {
  const out = spawnSync(tool, ['-SW', path], { encoding: 'utf8' }).stdout;
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    const m =
      /^\s+\[\s*(\d+)\]\s(.{17})\s(\S+)\s+([0-9a-f]+)\s([0-9a-f]+)\s([0-9a-f]+)\s[0-9a-f]+\s+([A-Za-z]*)\s+\d+/.exec(
        line,
      );
    if (m === null) continue;
    rows.push({
      name: (m[2] ?? '').trim(),
      type: m[3] ?? '',
      addr: parseInt(m[4] ?? '', 16),
      offset: parseInt(m[5] ?? '', 16),
      size: parseInt(m[6] ?? '', 16),
      flags: m[7] ?? '',
    });
  }
  return rows;
}

function readelfSegments(tool: string, path: string): Row[] {
  const out = spawnSync(tool, ['-lW', path], { encoding: 'utf8' }).stdout;
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    const m =
      /^\s+(\w+)\s+0x([0-9a-f]+)\s0x([0-9a-f]+)\s0x([0-9a-f]+)\s0x([0-9a-f]+)\s0x([0-9a-f]+)\s(.{3})/.exec(
        line,
      );
    if (m === null) continue;
    rows.push({
      name: m[1] ?? '',
      type: m[1] ?? '',
      offset: parseInt(m[2] ?? '', 16),
      addr: parseInt(m[4] ?? '', 16),
      size: parseInt(m[5] ?? '', 16) * 0x1_0000_0000 + parseInt(m[6] ?? '', 16),
      flags: (m[7] ?? '').replace(/ /g, ''),
    });
  }
  return rows;
}

const SHF_LETTERS: [bigint, string][] = [
  [SHF.SHF_WRITE, 'W'],
  [SHF.SHF_ALLOC, 'A'],
  [SHF.SHF_EXECINSTR, 'X'],
  [SHF.SHF_MERGE, 'M'],
  [SHF.SHF_STRINGS, 'S'],
  [SHF.SHF_INFO_LINK, 'I'],
  [SHF.SHF_LINK_ORDER, 'L'],
];

describe('ELF reader vs readelf', () => {
  for (const image of images) {
    const path = join(prebuilt, image);
    it(`${image}: sections match readelf -S`, { skip: tools.skip }, () => {
      const expected = readelfSections(tools.get('readelf'), path);
      assert.ok(expected.length > 0, 'readelf listed no sections');
      const elf = parseElf(new Uint8Array(readFileSync(path)));
      const ours = elf.sections.map((s) => ({
        name: s.name,
        // readelf truncates long type names to its column; compare prefixes.
        type: sectionTypeName(s.type).replace(/^SHT_/, ''),
        addr: Number(s.addr),
        offset: s.offset,
        size: s.size,
        flags: SHF_LETTERS.filter(([bit]) => (s.flags & bit) !== 0n)
          .map(([, l]) => l)
          .join(''),
      }));
      assert.equal(ours.length, expected.length);
      ours.forEach((s, i) => {
        const e = expected[i];
        assert.ok(e !== undefined);
        assert.equal(s.name, e.name, `section ${i} name`);
        assert.ok(
          s.type.startsWith(e.type) || e.type.startsWith(s.type),
          `section ${i} type ${s.type} vs ${e.type}`,
        );
        assert.deepEqual(
          [s.addr, s.offset, s.size, s.flags],
          [e.addr, e.offset, e.size, e.flags],
          `section ${i} (${s.name})`,
        );
      });
    });

    it(`${image}: program headers match readelf -l`, { skip: tools.skip }, () => {
      const expected = readelfSegments(tools.get('readelf'), path);
      const elf = parseElf(new Uint8Array(readFileSync(path)));
      assert.equal(elf.programHeaders.length, expected.length);
      elf.programHeaders.forEach((ph, i) => {
        const e = expected[i];
        assert.ok(e !== undefined);
        const flags = `${ph.flags & PF.PF_R ? 'R' : ''}${ph.flags & PF.PF_W ? 'W' : ''}${ph.flags & PF.PF_X ? 'E' : ''}`;
        // readelf cuts long type names to 14 columns (RISCV_ATTRIBUT): compare the prefix.
        const type = programTypeName(ph.type).replace(/^PT_/, '');
        assert.ok(type.startsWith(e.type), `program header ${i} type ${type} vs readelf's ${e.type}`);
        assert.deepEqual(
          [ph.offset, Number(ph.paddr), ph.filesz * 0x1_0000_0000 + ph.memsz, flags],
          [e.offset, e.addr, e.size, e.flags],
          `program header ${i}`,
        );
      });
    });
  }
});
