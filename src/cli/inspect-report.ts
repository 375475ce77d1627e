// What `rproc inspect` reports about a firmware image, as Linux's remoteproc would see it: the ELF
// header, the PT_LOAD segments (da = p_paddr), the sections, the resource table decoded entry by
// entry, and every problem found with its offset. Built once, printed as text or JSON.

import { readElf, elfSanityCheck, type ElfImage } from '../elf/elf-reader.ts';
import { findResourceTable } from '../elf/elf-rsc-table.ts';
import { PF, PT, SHF, machineName, sectionTypeName } from '../elf/elf-constants.ts';
import { parseRscTable, formatRscTable, rscTableToJson, type RscTableJson } from '../rsc/index.ts';
import type { Endian } from '../util/bytes.ts';
import { RprocError, hex, type ErrnoName } from '../util/errors.ts';
import type { Problem, Severity } from '../util/problems.ts';

export interface InspectProblem {
  readonly severity: Severity;
  readonly code: ErrnoName;
  /** What the offset is relative to. */
  readonly where: 'file' | 'resource table';
  readonly offset: number | null;
  /** The same place as a file offset (resource-table offsets plus the section's file offset). */
  readonly fileOffset: number | null;
  readonly message: string;
}

/** ELF addresses are 64-bit capable, so the JSON form writes them as hex strings. */
export interface InspectSegment {
  readonly index: number;
  readonly da: string;
  readonly vaddr: string;
  readonly offset: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: string;
}

export interface InspectSection {
  readonly index: number;
  readonly name: string;
  readonly type: string;
  readonly addr: string;
  readonly offset: number;
  readonly size: number;
  readonly flags: string;
}

export interface InspectReport {
  readonly file: string;
  readonly size: number;
  readonly elf: {
    readonly class: string;
    readonly endian: string;
    readonly type: number;
    readonly machine: number;
    readonly machineName: string;
    readonly entry: string;
    readonly flags: string;
  } | null;
  readonly segments: readonly InspectSegment[];
  readonly sections: readonly InspectSection[];
  readonly resourceTable: {
    readonly section: string;
    readonly da: string;
    readonly fileOffset: number;
    readonly table: RscTableJson;
    /** The debugfs-style dump (not in the JSON form). */
    readonly text: string;
  } | null;
  readonly problems: readonly InspectProblem[];
}

export interface InspectOptions {
  /** The host byte order the sanity check expects (Linux: the kernel's own). */
  readonly hostEndian?: Endian;
}

export function inspectFirmware(
  file: string,
  bytes: Uint8Array,
  options: InspectOptions = {},
): InspectReport {
  const problems: InspectProblem[] = [];
  const { image, problems: elfProblems } = readElf(bytes);
  for (const p of elfProblems) problems.push(fileProblem(p));
  if (image === undefined) {
    return { file, size: bytes.length, elf: null, segments: [], sections: [], resourceTable: null, problems };
  }
  addSanityProblem(bytes, options.hostEndian ?? 'le', problems);
  const h = image.header;
  return {
    file,
    size: bytes.length,
    elf: {
      class: `ELF${h.class}`,
      endian: h.endian === 'le' ? 'little-endian' : 'big-endian',
      type: h.type,
      machine: h.machine,
      machineName: machineName(h.machine),
      entry: hex(h.entry),
      flags: hex(h.flags),
    },
    segments: image.programHeaders
      .filter((ph) => ph.type === PT.PT_LOAD)
      .map((ph) => ({
        index: ph.index,
        da: hex(ph.paddr),
        vaddr: hex(ph.vaddr),
        offset: ph.offset,
        filesz: ph.filesz,
        memsz: ph.memsz,
        flags: segmentFlags(ph.flags),
      })),
    sections: image.sections.map((s) => ({
      index: s.index,
      name: s.name,
      type: sectionTypeName(s.type).replace(/^SHT_/, ''),
      addr: hex(s.addr),
      offset: s.offset,
      size: s.size,
      flags: sectionFlags(s.flags),
    })),
    resourceTable: inspectTable(image, problems),
    problems,
  };
}

function inspectTable(image: ElfImage, problems: InspectProblem[]): InspectReport['resourceTable'] {
  const lookup = findResourceTable(image);
  switch (lookup.status) {
    case 'absent':
      problems.push({
        severity: 'warning',
        code: 'EINVAL',
        where: 'file',
        offset: null,
        fileOffset: null,
        message:
          "no .resource_table section: Linux's default parse_fw refuses to boot this image; drivers with an optional table (stm32, imx) boot it without resources",
      });
      return null;
    case 'invalid':
      problems.push(fileProblem(lookup.problem));
      return null;
    case 'found': {
      const table = parseRscTable(lookup.bytes, { endian: image.header.endian });
      for (const p of table.problems) {
        problems.push({
          severity: p.severity,
          code: p.code,
          where: 'resource table',
          offset: p.offset ?? null,
          fileOffset: p.offset === undefined ? null : lookup.fileOffset + p.offset,
          message: p.message,
        });
      }
      return {
        section: lookup.section.name,
        da: hex(lookup.da),
        fileOffset: lookup.fileOffset,
        table: rscTableToJson(table),
        text: formatRscTable(table, { extras: true, summary: false }),
      };
    }
  }
}

/** Linux's own sanity check, for what it refuses that the reader merely reports (endianness). */
function addSanityProblem(bytes: Uint8Array, hostEndian: Endian, problems: InspectProblem[]): void {
  try {
    elfSanityCheck(bytes, { hostEndian });
  } catch (e) {
    if (!(e instanceof RprocError)) throw e;
    if (problems.some((p) => p.severity === 'error' && p.message === e.detail)) return;
    problems.push({
      severity: 'error',
      code: e.code,
      where: 'file',
      offset: e.offset ?? null,
      fileOffset: e.offset ?? null,
      message: e.detail,
    });
  }
}

function fileProblem(p: Problem): InspectProblem {
  return {
    severity: p.severity,
    code: p.code,
    where: 'file',
    offset: p.offset ?? null,
    fileOffset: p.offset ?? null,
    message: p.message,
  };
}

/** readelf's spelling: R, W, E in fixed columns. */
function segmentFlags(flags: number): string {
  return `${flags & PF.PF_R ? 'R' : ' '}${flags & PF.PF_W ? 'W' : ' '}${flags & PF.PF_X ? 'E' : ' '}`;
}

const SECTION_FLAG_LETTERS: readonly [bigint, string][] = [
  [SHF.SHF_WRITE, 'W'],
  [SHF.SHF_ALLOC, 'A'],
  [SHF.SHF_EXECINSTR, 'X'],
  [SHF.SHF_MERGE, 'M'],
  [SHF.SHF_STRINGS, 'S'],
  [SHF.SHF_INFO_LINK, 'I'],
  [SHF.SHF_LINK_ORDER, 'L'],
  [SHF.SHF_OS_NONCONFORMING, 'O'],
  [SHF.SHF_GROUP, 'G'],
  [SHF.SHF_TLS, 'T'],
];

/** readelf's letters for sh_flags, in readelf's order. */
function sectionFlags(flags: bigint): string {
  return SECTION_FLAG_LETTERS.filter(([bit]) => (flags & bit) !== 0n)
    .map(([, letter]) => letter)
    .join('');
}
