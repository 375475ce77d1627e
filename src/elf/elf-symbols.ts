// Reads the SHT_SYMTAB symbol table of a firmware image (lazily, once per image) and maps an
// address to "symbol+offset" for crash reports, as the kernel's %pS or addr2line do.
// Linux's remoteproc never reads symbols; this serves our crash reports and `rproc inspect`.

import { hex } from '../util/errors.ts';
import { Problems, type Problem } from '../util/problems.ts';
import { ELF_STRUCT_SIZE, EM, SHF, SHN, SHT, STB, STT } from './elf-constants.ts';
import type { ElfImage, ElfSection } from './elf-types.ts';
import { imageView, readRawSymbol } from './elf-structs.ts';

const OP = 'elf-symbols';

export interface ElfSymbol {
  /** Index in the symbol table (0 is the null symbol). */
  readonly index: number;
  /** '' when the symbol has no name or its name cannot be read. */
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** STT_* from st_info. */
  readonly type: number;
  /** STB_* from st_info. */
  readonly bind: number;
  /** STV_* from st_other. */
  readonly visibility: number;
  readonly shndx: number;
}

export interface ElfSymbolTable {
  readonly symbols: readonly ElfSymbol[];
  readonly problems: readonly Problem[];
}

export interface Symbolized {
  readonly name: string;
  readonly offset: bigint;
}

interface IndexedSymbol {
  readonly symbol: ElfSymbol;
  /** The code address: the value without the Thumb bit for ARM functions. */
  readonly start: bigint;
  readonly end: bigint;
}

interface SymbolIndex {
  /** Address candidates sorted by start; among equal starts the preferred symbol comes last. */
  readonly entries: readonly IndexedSymbol[];
  /** maxEnd[i] = the largest end among entries[0..i]: no earlier entry can contain an address ≥ it. */
  readonly maxEnd: readonly bigint[];
  readonly allocSections: readonly ElfSection[];
}

const tables = new WeakMap<ElfImage, ElfSymbolTable>();
const indexes = new WeakMap<ElfImage, SymbolIndex>();

/** The image's symbols, read on first use and cached; problems are collected, never thrown. */
export function readSymbols(image: ElfImage): ElfSymbolTable {
  let table = tables.get(image);
  if (table === undefined) {
    table = readSymbolTable(image);
    tables.set(image, table);
  }
  return table;
}

/**
 * The symbol an address belongs to: the innermost sized FUNC/OBJECT/NOTYPE symbol containing it;
 * otherwise the nearest preceding symbol of the address's section if that one has size 0 (an
 * assembly label whose extent is unknown); otherwise undefined.
 */
export function symbolize(image: ElfImage, addr: bigint | number): Symbolized | undefined {
  if (typeof addr === 'number' && !(Number.isSafeInteger(addr) && addr >= 0)) return undefined;
  const a = BigInt(addr);
  const { entries, maxEnd, allocSections } = symbolIndex(image);
  const last = lastStartingAtOrBefore(entries, a);

  for (let i = last; i >= 0; i--) {
    if ((maxEnd[i] ?? 0n) <= a) break;
    const e = entries[i];
    if (e !== undefined && e.symbol.size > 0n && a < e.end)
      return { name: e.symbol.name, offset: a - e.start };
  }

  const section = allocSections.find((s) => s.addr <= a && a < s.addr + BigInt(s.size));
  if (section === undefined) return undefined;
  for (let i = last; i >= 0; i--) {
    const e = entries[i];
    if (e === undefined || e.start < section.addr) break;
    if (e.symbol.shndx !== section.index) continue;
    return e.symbol.size === 0n ? { name: e.symbol.name, offset: a - e.start } : undefined;
  }
  return undefined;
}

/** "main+0x1a", or "main" at offset 0. */
export function formatSymbolized(s: Symbolized): string {
  return s.offset === 0n ? s.name : `${s.name}+${hex(s.offset)}`;
}

// ---------------------------------------------------------------------------------------------

function readSymbolTable(image: ElfImage): ElfSymbolTable {
  const p = new Problems();
  const symtabs = image.sections.filter((s) => s.type === SHT.SHT_SYMTAB);
  const symtab = symtabs[0];
  if (symtab === undefined) return { symbols: [], problems: [] };
  if (symtabs.length > 1) {
    p.warn(
      'EINVAL',
      OP,
      `${symtabs.length} SHT_SYMTAB sections; using section ${symtab.index}`,
      symtab.headerOffset,
    );
  }
  const view = imageView(image.bytes, image.header.endian, OP);
  const entrySize = ELF_STRUCT_SIZE[image.header.class].sym;
  const what = `symbol table (section ${symtab.index}, header at ${hex(symtab.headerOffset)})`;
  if (symtab.entsize !== BigInt(entrySize)) {
    p.error(
      'EINVAL',
      OP,
      `${what}: sh_entsize ${hex(symtab.entsize)} is not the ELF${image.header.class} symbol size ${hex(entrySize)}`,
      symtab.headerOffset,
    );
    return { symbols: [], problems: p.list };
  }
  if (!view.fits(symtab.offset, symtab.size)) {
    p.error(
      'EINVAL',
      OP,
      `${what}: ${hex(symtab.size)} bytes at ${hex(symtab.offset)} run past the end of the image at ${hex(view.length)}`,
      symtab.headerOffset,
    );
    return { symbols: [], problems: p.list };
  }
  if (symtab.size % entrySize !== 0) {
    p.warn(
      'EINVAL',
      OP,
      `${what}: sh_size ${hex(symtab.size)} is not a multiple of ${hex(entrySize)}; the partial entry is ignored`,
      symtab.headerOffset,
    );
  }
  const names = stringTable(image, symtab, p);

  const symbols: ElfSymbol[] = [];
  const count = Math.floor(symtab.size / entrySize);
  for (let index = 0; index < count; index++) {
    const at = symtab.offset + index * entrySize;
    const raw = readRawSymbol(view, image.header.class, at);
    let name = '';
    if (raw.name !== 0 && names !== undefined) {
      if (raw.name >= names.size) {
        p.error(
          'EINVAL',
          OP,
          `symbol ${index} at ${hex(at)}: st_name ${hex(raw.name)} is outside the string table (${hex(names.size)} bytes)`,
          at,
        );
      } else {
        const s = view.cstring(names.offset + raw.name, names.size - raw.name, 'symbol name');
        if (s.terminated) name = s.text;
        else
          p.error(
            'EINVAL',
            OP,
            `symbol ${index} at ${hex(at)}: the name at st_name ${hex(raw.name)} is not NUL-terminated in the string table`,
            at,
          );
      }
    }
    symbols.push({
      index,
      name,
      value: raw.value,
      size: raw.size,
      type: raw.info & 0xf,
      bind: raw.info >> 4,
      visibility: raw.other & 0x3,
      shndx: raw.shndx,
    });
  }
  return { symbols, problems: p.list };
}

/** The symbol string table named by sh_link, if it is usable. */
function stringTable(
  image: ElfImage,
  symtab: ElfSection,
  p: Problems,
): { offset: number; size: number } | undefined {
  const strtab = image.sections[symtab.link];
  const what = `symbol table (section ${symtab.index}): sh_link ${hex(symtab.link)}`;
  if (strtab === undefined || strtab.index === 0) {
    p.error('EINVAL', OP, `${what} is not a section; symbols have no names`, symtab.headerOffset);
    return undefined;
  }
  if (strtab.type !== SHT.SHT_STRTAB) {
    p.error(
      'EINVAL',
      OP,
      `${what} names section ${strtab.index} of type ${hex(strtab.type)}, not SHT_STRTAB; symbols have no names`,
      symtab.headerOffset,
    );
    return undefined;
  }
  if (!imageView(image.bytes, image.header.endian, OP).fits(strtab.offset, strtab.size)) {
    // The reader already reported the range; the names are simply unavailable.
    return undefined;
  }
  return { offset: strtab.offset, size: strtab.size };
}

function symbolIndex(image: ElfImage): SymbolIndex {
  let index = indexes.get(image);
  if (index === undefined) {
    index = buildSymbolIndex(image);
    indexes.set(image, index);
  }
  return index;
}

const TYPE_RANK: ReadonlyMap<number, number> = new Map([
  [STT.STT_NOTYPE, 0],
  [STT.STT_OBJECT, 1],
  [STT.STT_FUNC, 2],
]);
const BIND_RANK: ReadonlyMap<number, number> = new Map([
  [STB.STB_LOCAL, 0],
  [STB.STB_WEAK, 1],
  [STB.STB_GLOBAL, 2],
]);

function buildSymbolIndex(image: ElfImage): SymbolIndex {
  // ARM Thumb functions carry their instruction set in bit 0 of the value; the code starts one lower.
  const thumb = image.header.machine === EM.EM_ARM;
  const entries: IndexedSymbol[] = readSymbols(image)
    .symbols.filter(isAddressSymbol)
    .map((symbol) => {
      const start = thumb && symbol.type === STT.STT_FUNC ? symbol.value & ~1n : symbol.value;
      return { symbol, start, end: start + symbol.size };
    });
  entries.sort((x, y) => {
    if (x.start !== y.start) return x.start < y.start ? -1 : 1;
    const typeOrder = (TYPE_RANK.get(x.symbol.type) ?? 0) - (TYPE_RANK.get(y.symbol.type) ?? 0);
    if (typeOrder !== 0) return typeOrder;
    const bindOrder = (BIND_RANK.get(x.symbol.bind) ?? 0) - (BIND_RANK.get(y.symbol.bind) ?? 0);
    if (bindOrder !== 0) return bindOrder;
    // Deterministic among equals: the alphabetically first name ends up last, i.e. preferred.
    if (x.symbol.name !== y.symbol.name) return x.symbol.name < y.symbol.name ? 1 : -1;
    return y.symbol.index - x.symbol.index;
  });
  const maxEnd: bigint[] = [];
  let running = 0n;
  for (const e of entries) {
    if (e.end > running) running = e.end;
    maxEnd.push(running);
  }
  const allocSections = image.sections.filter((s) => (s.flags & SHF.SHF_ALLOC) !== 0n && s.size > 0);
  return { entries, maxEnd, allocSections };
}

/**
 * Symbols that name code or data at an address: FUNC, OBJECT or NOTYPE, defined in a section,
 * named, and not an ARM/AArch64/RISC-V mapping symbol ("$x", "$d", "$t"...), which marks the
 * instruction set of what follows rather than naming it.
 */
function isAddressSymbol(s: ElfSymbol): boolean {
  if (!TYPE_RANK.has(s.type)) return false;
  if (s.shndx === SHN.SHN_UNDEF || (s.shndx >= SHN.SHN_LORESERVE && s.shndx !== SHN.SHN_XINDEX)) return false;
  return s.name !== '' && !s.name.startsWith('$');
}

/** Index of the last entry whose start is ≤ addr, or -1. */
function lastStartingAtOrBefore(entries: readonly IndexedSymbol[], addr: bigint): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid];
    if (e !== undefined && e.start <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
