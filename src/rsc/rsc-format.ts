// Text and JSON views of a parsed resource table. The text follows the debugfs `resource_table`
// file line for line (rproc_rsc_table_show in drivers/remoteproc/remoteproc_debugfs.c), with our
// annotations added after Linux's lines; the JSON form is for tools (`rproc inspect --json`).

import { hex, type ErrnoName } from '../util/errors.ts';
import type { Endian } from '../util/bytes.ts';
import type { Problem, Severity } from '../util/problems.ts';
import {
  FW_RSC_ADDR_ANY,
  RSC_NAME_LEN,
  virtioFeatureNames,
  virtioIdName,
  virtioStatusNames,
} from './rsc-constants.ts';
import type { RscCarveout, RscDevmem, RscEntry, RscTable, RscTrace, RscVdev } from './rsc-types.ts';

export interface RscFormatOptions {
  /**
   * Add our annotations (virtio names, feature and status bits, offsets, vendor details, problems).
   * Default true; false prints only what Linux prints, line for line.
   */
  readonly extras?: boolean;
  /**
   * With extras: end with the version/size line and the table's problems. Default true; callers
   * that list problems themselves (rproc inspect) turn it off.
   */
  readonly summary?: boolean;
}

/** The debugfs resource_table text for `table`, or Linux's message when there is none. */
export function formatRscTable(table: RscTable | undefined, options: RscFormatOptions = {}): string {
  if (table === undefined) return 'No resource table found\n';
  const extras = options.extras ?? true;
  // Concatenated, not pushed with spread: a hostile table can carry more problems than a call's
  // argument limit.
  const blocks = table.entries.map((entry) => formatEntry(entry, extras));
  if (extras && (options.summary ?? true)) blocks.push(formatSummary(table));
  return blocks
    .flat()
    .map((l) => `${l}\n`)
    .join('');
}

function formatEntry(entry: RscEntry, extras: boolean): string[] {
  switch (entry.kind) {
    case 'carveout':
    case 'devmem':
      return formatMemory(entry, extras);
    case 'trace':
      return formatTrace(entry, extras);
    case 'vdev':
      return formatVdev(entry, extras);
    case 'vendor':
    case 'unknown': {
      // Linux prints the hdr pointer (%pK); a table offset is what locates it for us.
      const lines = [`Unknown resource type found: ${d(entry.type)} [hdr: ${hex(entry.offset)}]`];
      if (extras) {
        lines.push(
          entry.kind === 'vendor'
            ? `  Vendor resource ${hex(entry.type)} at offset ${hex(entry.offset)}, ${hex(entry.avail)} bytes to the table end, for the platform driver's handleRsc`
            : `  Unsupported resource type ${hex(entry.type)} at offset ${hex(entry.offset)}, skipped`,
        );
      }
      return lines;
    }
  }
}

function formatMemory(e: RscCarveout | RscDevmem, extras: boolean): string[] {
  return [
    `Entry ${e.index} is of type ${e.kind}`,
    `  Device Address ${x(e.da)}`,
    `  Physical Address ${x(e.pa)}`,
    `  Length ${x(e.len)} Bytes`,
    `  Flags ${x(e.flags)}`,
    `  Reserved (should be zero) [${d(e.reserved)}]`,
    `  Name ${e.name}`,
    ...(extras ? [...addressExtras(e.da), ...nameExtras(e), ...offsetExtras(e)] : []),
    '',
  ];
}

function formatTrace(e: RscTrace, extras: boolean): string[] {
  return [
    `Entry ${e.index} is of type trace`,
    `  Device Address ${x(e.da)}`,
    `  Length ${x(e.len)} Bytes`,
    `  Reserved (should be zero) [${d(e.reserved)}]`,
    `  Name ${e.name}`,
    ...(extras ? [...nameExtras(e), ...offsetExtras(e)] : []),
    '',
  ];
}

function formatVdev(e: RscVdev, extras: boolean): string[] {
  const lines = [
    `Entry ${e.index} is of type vdev`,
    `  ID ${d(e.id)}`,
    `  Notify ID ${d(e.notifyId)}`,
    `  Device features ${x(e.dfeatures)}`,
    `  Guest features ${x(e.gfeatures)}`,
    `  Config length ${x(e.configLen)}`,
    `  Status ${x(e.status)}`,
    `  Number of vrings ${e.numOfVrings}`,
    `  Reserved (should be zero) [${e.reserved[0]}][${e.reserved[1]}]`,
  ];
  if (extras) {
    lines.push(
      `  Virtio device ${virtioIdName(e.id) ?? 'unknown to Linux'}`,
      `  Device feature bits ${list(virtioFeatureNames(e.id, e.dfeatures))}`,
      `  Guest feature bits ${list(virtioFeatureNames(e.id, e.gfeatures))}`,
      `  Status bits ${list(virtioStatusNames(e.status))}`,
      ...offsetExtras(e),
    );
  }
  lines.push('');
  e.vrings.forEach((v, j) => {
    lines.push(
      `  Vring ${j}`,
      `    Device Address ${x(v.da)}`,
      `    Alignment ${d(v.align)}`,
      `    Number of buffers ${d(v.num)}`,
      `    Notify ID ${d(v.notifyId)}`,
      `    Physical Address ${x(v.pa)}`,
      '',
    );
  });
  return lines;
}

function addressExtras(da: number): string[] {
  return da === FW_RSC_ADDR_ANY ? ['  Device Address is FW_RSC_ADDR_ANY: the host picks it'] : [];
}

function nameExtras(e: { readonly nameTerminated: boolean }): string[] {
  return e.nameTerminated ? [] : [`  Name is not NUL-terminated within its ${RSC_NAME_LEN} bytes`];
}

function offsetExtras(e: RscEntry): string[] {
  return [`  Table offset ${hex(e.offset)} (body at ${hex(e.bodyOffset)})`];
}

function formatSummary(table: RscTable): string[] {
  const endian = table.endian === 'le' ? 'little-endian' : 'big-endian';
  const lines = [
    `Resource table version ${table.ver}, ${table.num} entries, ${hex(table.size)} bytes, ${endian}`,
  ];
  if (table.problems.length > 0) {
    lines.push('Problems:');
    for (const p of table.problems) {
      lines.push(
        `  ${p.severity} ${p.code}${p.offset === undefined ? '' : ` at ${hex(p.offset)}`}: ${p.message}`,
      );
    }
  }
  return lines;
}

/** C's 0x%x of a u32. */
function x(value: number): string {
  return hex(value >>> 0);
}

/** C's %d of a u32 field: Linux prints it signed, so 0xffffffff shows as -1. */
function d(value: number): string {
  return String(value | 0);
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(' ');
}

export interface RscProblemJson {
  readonly severity: Severity;
  readonly code: ErrnoName;
  readonly offset: number | null;
  readonly message: string;
}

/** A vdev's config space as a hex string; every other entry field is a JSON number. */
export type RscEntryJson =
  Exclude<RscEntry, RscVdev> | (Omit<RscVdev, 'config'> & { readonly config: string });

export interface RscTableJson {
  readonly ver: number;
  readonly num: number;
  readonly size: number;
  readonly endian: Endian;
  readonly entries: readonly RscEntryJson[];
  readonly problems: readonly RscProblemJson[];
}

/**
 * A plain, JSON-safe copy of the table. One rule for every field: integers (addresses included) are
 * JSON numbers, which hold any u32 exactly; byte strings (vdev config) are lower-case hex.
 */
export function rscTableToJson(table: RscTable): RscTableJson {
  return {
    ver: table.ver,
    num: table.num,
    size: table.size,
    endian: table.endian,
    entries: table.entries.map(entryToJson),
    problems: table.problems.map(problemToJson),
  };
}

function entryToJson(e: RscEntry): RscEntryJson {
  if (e.kind !== 'vdev') return { ...e };
  return {
    ...e,
    reserved: [e.reserved[0], e.reserved[1]],
    vrings: e.vrings.map((v) => ({ ...v })),
    config: Buffer.from(e.config).toString('hex'),
  };
}

function problemToJson(p: Problem): RscProblemJson {
  return { severity: p.severity, code: p.code, offset: p.offset ?? null, message: p.message };
}
