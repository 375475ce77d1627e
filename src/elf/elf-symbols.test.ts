// Symbol table reading (names, bind/type, bad tables) and address → "symbol+offset" lookup.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildElf, type SymbolSpec } from './elf-builder.ts';
import { EM, SHF, STB, STT } from './elf-constants.ts';
import { parseElf } from './elf-reader.ts';
import { formatSymbolized, readSymbols, symbolize } from './elf-symbols.ts';
import {
  DATA_DA,
  TEXT_DA,
  firmwareSpec,
  mutated,
  sectionNamed,
  setField,
  shdrField,
  symField,
} from '../../test/support/elf-fixtures.ts';

describe('readSymbols', () => {
  it('reads every symbol with type, bind and section, locals first', () => {
    const image = parseElf(buildElf(firmwareSpec(64)));
    const { symbols, problems } = readSymbols(image);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      symbols.map((s) => [s.name, s.bind, s.type]),
      [
        ['', STB.STB_LOCAL, STT.STT_NOTYPE],
        ['helper', STB.STB_LOCAL, STT.STT_FUNC],
        ['_start', STB.STB_GLOBAL, STT.STT_NOTYPE],
        ['main', STB.STB_GLOBAL, STT.STT_FUNC],
        ['late_label', STB.STB_GLOBAL, STT.STT_NOTYPE],
        ['counter', STB.STB_GLOBAL, STT.STT_OBJECT],
        ['stack_size', STB.STB_GLOBAL, STT.STT_NOTYPE],
      ],
    );
    const text = sectionNamed(image, '.text').index;
    assert.equal(symbols.find((s) => s.name === 'main')?.shndx, text);
    assert.equal(symbols.find((s) => s.name === 'stack_size')?.shndx, 0xfff1);
  });

  it('is read once per image', () => {
    const image = parseElf(buildElf(firmwareSpec(32)));
    assert.equal(readSymbols(image), readSymbols(image));
  });

  it('reports a symbol table whose sh_entsize is not the symbol size, and reads nothing', () => {
    const bytes = mutated(firmwareSpec(32), (b, img) =>
      setField(b, 'le', shdrField(32, sectionNamed(img, '.symtab').headerOffset, 'sh_entsize'), 12),
    );
    const image = parseElf(bytes);
    const { symbols, problems } = readSymbols(image);
    assert.deepEqual(symbols, []);
    assert.match(problems[0]?.message ?? '', /sh_entsize 0xc is not the ELF32 symbol size 0x10/);
    assert.equal(symbolize(image, TEXT_DA + 0x10), undefined);
  });

  it('reports an st_name outside the string table and keeps the symbol unnamed', () => {
    const bytes = mutated(firmwareSpec(32), (b, img) => {
      const symtab = sectionNamed(img, '.symtab');
      setField(b, 'le', symField(32, symtab.offset + 16, 'st_name'), 0x4000);
    });
    const { symbols, problems } = readSymbols(parseElf(bytes));
    assert.equal(symbols[1]?.name, '');
    assert.match(problems[0]?.message ?? '', /st_name 0x4000 is outside the string table/);
  });

  it('reports an sh_link that does not name a string table', () => {
    const bytes = mutated(firmwareSpec(64), (b, img) =>
      setField(b, 'le', shdrField(64, sectionNamed(img, '.symtab').headerOffset, 'sh_link'), 1),
    );
    const { symbols, problems } = readSymbols(parseElf(bytes));
    assert.ok(symbols.every((s) => s.name === ''));
    assert.match(problems[0]?.message ?? '', /sh_link 0x1 names section 1 of type 0x1, not SHT_STRTAB/);
  });
});

describe('symbolize', () => {
  const image = parseElf(buildElf(firmwareSpec(32)));
  const cases: [string, number, string | undefined][] = [
    ['the start of a function', TEXT_DA + 0x10, 'main'],
    ['inside a function', TEXT_DA + 0x1a, 'main+0xa'],
    ['the last byte of a function', TEXT_DA + 0x3f, 'main+0x2f'],
    ['a local function', TEXT_DA + 0x45, 'helper+0x5'],
    ['code after a size-0 label', TEXT_DA + 0x4, '_start+0x4'],
    ['code after a label that follows sized functions', TEXT_DA + 0x5f, 'late_label+0xf'],
    ['an object', DATA_DA + 2, 'counter+0x2'],
    ['data past the last sized object in its section', DATA_DA + 0x10, undefined],
    ['an address outside every section', TEXT_DA + 0x60, undefined],
    ['an absolute symbol value', 0x800, undefined],
    ['address 0', 0, undefined],
  ];
  for (const [what, addr, expected] of cases) {
    it(`${what}: 0x${addr.toString(16)} → ${expected ?? 'nothing'}`, () => {
      const s = symbolize(image, addr);
      assert.equal(s === undefined ? undefined : formatSymbolized(s), expected);
      assert.deepEqual(symbolize(image, BigInt(addr)), s);
    });
  }

  it('rejects numbers that are not addresses', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) assert.equal(symbolize(image, bad), undefined);
  });

  const withSymbols = (symbols: SymbolSpec[], machine: number = EM.EM_RISCV) =>
    parseElf(
      buildElf({
        class: 32,
        machine,
        entry: 0x1000,
        sections: [{ name: '.text', addr: 0x1000, size: 0x200, flags: SHF.SHF_ALLOC | SHF.SHF_EXECINSTR }],
        symbols,
      }),
    );

  it('prefers a global function among aliases', () => {
    const img = withSymbols([
      { name: 'a_local_alias', value: 0x1000, size: 0x10, type: STT.STT_FUNC, bind: STB.STB_LOCAL },
      { name: 'z_global', value: 0x1000, size: 0x10, type: STT.STT_FUNC, bind: STB.STB_GLOBAL },
      { name: 'a_notype', value: 0x1000, size: 0x10, type: STT.STT_NOTYPE, bind: STB.STB_GLOBAL },
    ]);
    assert.deepEqual(symbolize(img, 0x1004), { name: 'z_global', offset: 4n });
  });

  it('picks the innermost of nested symbols', () => {
    const img = withSymbols([
      { name: 'outer', value: 0x1000, size: 0x100, type: STT.STT_FUNC },
      { name: 'inner_table', value: 0x1020, size: 0x10, type: STT.STT_OBJECT },
    ]);
    assert.equal(symbolize(img, 0x1024)?.name, 'inner_table');
    assert.deepEqual(symbolize(img, 0x1040), { name: 'outer', offset: 0x40n });
  });

  it('ignores mapping symbols and section symbols', () => {
    const img = withSymbols([
      { name: 'fn', value: 0x1000, size: 0x10, type: STT.STT_FUNC },
      { name: '$x', value: 0x1010, type: STT.STT_NOTYPE, bind: STB.STB_LOCAL },
      { name: '.text', value: 0x1000, type: STT.STT_SECTION, bind: STB.STB_LOCAL },
    ]);
    assert.equal(symbolize(img, 0x1014), undefined);
  });

  it('drops the Thumb bit of ARM function symbols', () => {
    const img = withSymbols([{ name: 'thumb_fn', value: 0x1001, size: 0x10, type: STT.STT_FUNC }], EM.EM_ARM);
    assert.deepEqual(symbolize(img, 0x1000), { name: 'thumb_fn', offset: 0n });
    assert.deepEqual(symbolize(img, 0x100f), { name: 'thumb_fn', offset: 0xfn });
  });

  it('looks up thousands of symbols quickly', () => {
    const count = 4000;
    const symbols = Array.from({ length: count }, (_, i) => ({
      name: `fn_${i}`,
      value: 0x1_0000 + i * 0x20,
      size: 0x18,
      type: STT.STT_FUNC,
    }));
    const img = parseElf(
      buildElf({
        class: 64,
        entry: 0x1_0000,
        sections: [{ name: '.text', addr: 0x1_0000, size: count * 0x20, flags: SHF.SHF_ALLOC }],
        symbols,
      }),
    );
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      assert.equal(symbolize(img, 0x1_0000 + i * 0x20 + 5)?.name, `fn_${i}`);
      assert.equal(symbolize(img, 0x1_0000 + i * 0x20 + 0x1c), undefined);
    }
    assert.ok(performance.now() - started < 2000);
  });
});
