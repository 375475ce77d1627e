// Parse and validate a resource table: the header, the offset[] walk and every entry's layout,
// collecting every problem with its table offset. Mirrors the checks of rproc_handle_resources() and
// the per-type handlers in remoteproc_core.c plus the vring checks of remoteproc_virtio.c's probe,
// made stricter where Linux trusts the firmware; each deviation is explained at its check.

import { hex, isRprocError } from '../util/errors.ts';
import { ByteView, type Endian } from '../util/bytes.ts';
import { Problems, problemToError } from '../util/problems.ts';
import {
  RSC_CARVEOUT,
  RSC_DEVMEM,
  RSC_NAME_LEN,
  RSC_TABLE_VERSION,
  RSC_TRACE,
  RSC_VDEV,
  RVDEV_NUM_VRINGS,
  VRING_MAX_NUM,
  isVendorRscType,
  rscTypeName,
} from './rsc-constants.ts';
import {
  FW_RSC_CARVEOUT,
  FW_RSC_HDR,
  FW_RSC_TRACE,
  FW_RSC_VDEV,
  FW_RSC_VDEV_VRING,
  RESOURCE_TABLE,
  rscOffsetSlot,
  rscTableHeaderSize,
  vdevBodySize,
  vdevConfigOffset,
  vringOffset,
} from './rsc-layout.ts';
import type { RscEntry, RscTable, RscVring } from './rsc-types.ts';

const OP = 'rsc-parse';

/** Offsets at or above this are negative in Linux's `int offset` (TC-R12). */
const SIGNED_OFFSET_LIMIT = 0x8000_0000;

export interface RscParseOptions {
  /** Byte order of the firmware that owns the table (its ELF EI_DATA); default little-endian. */
  readonly endian?: Endian;
}

/**
 * Decode a resource table and report every problem found. Never throws for any input: an unreadable
 * part becomes an error in `problems` and its entry is left out of `entries`.
 */
export function parseRscTable(bytes: Uint8Array, options: RscParseOptions = {}): RscTable {
  const endian = options.endian ?? 'le';
  const view = new ByteView(bytes, endian, { what: 'resource table', op: OP });
  const problems = new Problems();
  const entries: RscEntry[] = [];
  let ver = 0;
  let num = 0;
  try {
    const header = parseHeader(view, problems);
    if (header !== undefined) {
      ({ ver, num } = header);
      if (header.offsetsFit) walkEntries(view, problems, num, entries);
    }
  } catch (e) {
    // Every read below is preceded by its own range check, so this is a backstop: an access the
    // checks missed still becomes a reported problem instead of an exception.
    if (!isRprocError(e)) throw e;
    problems.add(e);
  }
  return { ver, num, size: bytes.length, endian, entries, problems: problems.list };
}

/** parseRscTable, then throw the first error as an RprocError, as Linux stops at its first -EINVAL. */
export function checkRscTable(bytes: Uint8Array, options: RscParseOptions = {}): RscTable {
  const table = parseRscTable(bytes, options);
  const first = table.problems.find((p) => p.severity === 'error');
  if (first !== undefined) throw problemToError(first);
  return table;
}

interface Header {
  readonly ver: number;
  readonly num: number;
  readonly offsetsFit: boolean;
}

function parseHeader(view: ByteView, problems: Problems): Header | undefined {
  const size = view.length;
  if (size < RESOURCE_TABLE.size) {
    problems.error(
      'EINVAL',
      OP,
      `resource table is ${hex(size)} bytes, shorter than its ${hex(RESOURCE_TABLE.size)}-byte header`,
      0,
    );
    return undefined;
  }
  const ver = view.u32(RESOURCE_TABLE.ver, 'ver');
  if (ver !== RSC_TABLE_VERSION) {
    problems.error(
      'EINVAL',
      OP,
      `resource table version ${hex(ver)} at ${hex(RESOURCE_TABLE.ver)} is not supported (only version ${RSC_TABLE_VERSION} is)`,
      RESOURCE_TABLE.ver,
    );
  }
  // Linux ignores reserved[]; we require zero so that a later format revision that uses them is
  // refused rather than misread (TC-R04).
  for (const [i, off] of [RESOURCE_TABLE.reserved0, RESOURCE_TABLE.reserved1].entries()) {
    const value = view.u32(off, `reserved[${i}]`);
    if (value !== 0) {
      problems.error(
        'EINVAL',
        OP,
        `resource table reserved[${i}] ${hex(value)} at ${hex(off)} must be zero`,
        off,
      );
    }
  }
  const num = view.u32(RESOURCE_TABLE.num, 'num');
  // In doubles 16 + 4·num cannot wrap, so num = 0x40000000 (4·num = 0 in u32) is caught (TC-R05).
  const headerSize = rscTableHeaderSize(num);
  const offsetsFit = headerSize <= size;
  if (!offsetsFit) {
    problems.error(
      'EINVAL',
      OP,
      `resource table num ${hex(num)} at ${hex(RESOURCE_TABLE.num)} needs ${hex(headerSize)} bytes of header and offset[], past the table end ${hex(size)}`,
      RESOURCE_TABLE.num,
    );
  }
  return { ver, num, offsetsFit };
}

/** Where an entry lies, for the overlap check. `slot` is where its offset[] value is stored. */
interface Extent {
  readonly index: number;
  readonly slot: number;
  readonly start: number;
  readonly end: number;
}

interface EntryHead {
  readonly index: number;
  readonly offset: number;
  readonly bodyOffset: number;
  readonly type: number;
}

/** What one entry's decoder learned: the entry, if decodable, and how many body bytes it claims. */
interface Decoded {
  readonly entry?: RscEntry;
  readonly bodySize: number;
}

/**
 * One linear pass over offset[] (no recursion, no revisits) plus one sort for the overlap check, so
 * a huge num costs time proportional to the table size (TC-R29).
 */
function walkEntries(view: ByteView, problems: Problems, num: number, entries: RscEntry[]): void {
  const size = view.length;
  const headerSize = rscTableHeaderSize(num);
  const extents: Extent[] = [];
  for (let index = 0; index < num; index++) {
    const slot = rscOffsetSlot(index);
    const offset = view.u32(slot, 'offset[]');
    if (!checkPlacement(problems, { index, slot, offset, size, headerSize })) continue;
    const type = view.u32(offset + FW_RSC_HDR.type, 'fw_rsc_hdr type');
    const head: EntryHead = { index, offset, bodyOffset: offset + FW_RSC_HDR.size, type };
    const decoded = decodeEntry(new EntryReader(view, problems, head));
    if (decoded.entry !== undefined) entries.push(decoded.entry);
    extents.push({ index, slot, start: offset, end: Math.min(size, head.bodyOffset + decoded.bodySize) });
  }
  checkOverlaps(problems, extents);
}

interface Placement {
  readonly index: number;
  readonly slot: number;
  readonly offset: number;
  readonly size: number;
  readonly headerSize: number;
}

/** Checks on the offset[i] value itself; problems point at offset[i]'s own location. */
function checkPlacement(problems: Problems, { index, slot, offset, size, headerSize }: Placement): boolean {
  // Linux stores offset[i] in an int: from 0x80000000 it is negative, avail = table_sz - offset - 4
  // comes out positive and the entry header is read before the table. Offsets are unsigned here and
  // this range is refused by name (TC-R12).
  if (offset >= SIGNED_OFFSET_LIMIT) {
    problems.error(
      'EINVAL',
      OP,
      `resource entry ${index} at offset ${hex(offset)} is negative as Linux's signed offset and would be read before the table ${slotNote(index, slot)}`,
      slot,
    );
    return false;
  }
  // Linux's "rsc table is truncated": the 4-byte fw_rsc_hdr must lie inside the table (TC-R11).
  if (offset > size - FW_RSC_HDR.size) {
    problems.error(
      'EINVAL',
      OP,
      `resource entry ${index} at offset ${hex(offset)} runs past the table end ${hex(size)} ${slotNote(index, slot)}`,
      slot,
    );
    return false;
  }
  // Not checked by Linux: an entry inside the header or offset[] would reinterpret ver, num and
  // offsets as entry fields, and host write-back into it would corrupt the header.
  if (offset < headerSize) {
    problems.error(
      'EINVAL',
      OP,
      `resource entry ${index} at offset ${hex(offset)} lies inside the table header and offset[], which end at ${hex(headerSize)} ${slotNote(index, slot)}`,
      slot,
    );
    return false;
  }
  // Linux does not check alignment. ByteView reads through DataView, byte-wise-safe at any offset,
  // so we accept it, but warn: no C compiler lays a table out like this, and firmware reading the
  // entry with word loads may fault (TC-R13).
  if (offset % 4 !== 0) {
    problems.warn(
      'EINVAL',
      OP,
      `resource entry ${index} at offset ${hex(offset)} is not 4-byte aligned; read byte-wise ${slotNote(index, slot)}`,
      slot,
    );
  }
  return true;
}

// Entry literals spread the head last on purpose: V8 (Node 20) clones the head's shape and then
// falls off its fast path for every property added after a leading spread, ~20x slower per entry,
// which TC-R29's 10 000-entry tables make visible.
function decodeEntry(r: EntryReader): Decoded {
  const { type } = r.head;
  if (type === RSC_CARVEOUT) return decodeMemory(r, 'carveout');
  if (type === RSC_DEVMEM) return decodeMemory(r, 'devmem');
  if (type === RSC_TRACE) return decodeTrace(r);
  if (type === RSC_VDEV) return decodeVdev(r);
  // Vendor entries are surfaced, not interpreted: the core hands them to the platform's handleRsc
  // with avail = bytes to the table end, as Linux does; their size is theirs to know.
  if (isVendorRscType(type)) return { entry: { kind: 'vendor', avail: r.avail, ...r.head }, bodySize: 0 };
  // Types 4..127 and above 512: Linux warns "unsupported resource" and goes on (TC-R28).
  r.problems.warn(
    'EOPNOTSUPP',
    OP,
    `unsupported resource ${type}: ${r.label} has type ${hex(type)}; skipped`,
    r.head.offset,
  );
  return { entry: { kind: 'unknown', ...r.head }, bodySize: 0 };
}

function decodeMemory(r: EntryReader, kind: 'carveout' | 'devmem'): Decoded {
  // fw_rsc_devmem has the carveout layout.
  const L = FW_RSC_CARVEOUT;
  if (!r.fits(L.size)) return { bodySize: L.size };
  const reserved = r.u32(L.reserved, 'reserved');
  // Linux: -EINVAL for reserved ≠ 0 in both handlers (TC-R16).
  r.mustBeZero(reserved, L.reserved, 'reserved');
  const name = r.name(L.name);
  const entry = {
    kind,
    da: r.u32(L.da, 'da'),
    pa: r.u32(L.pa, 'pa'),
    len: r.u32(L.len, 'len'),
    flags: r.u32(L.flags, 'flags'),
    reserved,
    name: name.text,
    nameTerminated: name.terminated,
    ...r.head,
  };
  // Duplicate carveout names are the core's business (TC-R23), not a layout problem.
  return { entry, bodySize: L.size };
}

function decodeTrace(r: EntryReader): Decoded {
  const L = FW_RSC_TRACE;
  if (!r.fits(L.size)) return { bodySize: L.size };
  const reserved = r.u32(L.reserved, 'reserved');
  r.mustBeZero(reserved, L.reserved, 'reserved');
  const name = r.name(L.name);
  const entry = {
    kind: 'trace' as const,
    da: r.u32(L.da, 'da'),
    len: r.u32(L.len, 'len'),
    reserved,
    name: name.text,
    nameTerminated: name.terminated,
    ...r.head,
  };
  return { entry, bodySize: L.size };
}

function decodeVdev(r: EntryReader): Decoded {
  const L = FW_RSC_VDEV;
  if (!r.fits(L.size)) return { bodySize: L.size };
  const numOfVrings = r.u8(L.num_of_vrings, 'num_of_vrings');
  const configLen = r.u32(L.config_len, 'config_len');
  const bodySize = vdevBodySize(numOfVrings, configLen);
  // Linux's overflow-safe "vdev rsc is truncated": the vrings and config space must fit too (TC-R15).
  const whole = r.fitsVdev(bodySize, numOfVrings, configLen);
  const reserved: [number, number] = [r.u8(L.reserved, 'reserved[0]'), r.u8(L.reserved + 1, 'reserved[1]')];
  // Linux checks reserved[0] || reserved[1]; we name each byte (TC-R16).
  r.mustBeZero(reserved[0], L.reserved, 'reserved[0]');
  r.mustBeZero(reserved[1], L.reserved + 1, 'reserved[1]');
  if (numOfVrings > RVDEV_NUM_VRINGS) {
    // Linux's "too many vrings" (TC-R17).
    r.problems.error(
      'EINVAL',
      OP,
      `${r.label} has too many vrings: num_of_vrings ${hex(numOfVrings)} at ${hex(r.at(L.num_of_vrings))}, at most ${RVDEV_NUM_VRINGS}`,
      r.at(L.num_of_vrings),
    );
  }
  if (numOfVrings === 0) {
    // Valid layout, as in Linux, where the device registers and its driver's probe fails later
    // (TC-R21); worth a warning because no virtio driver can use a device without queues.
    r.problems.warn(
      'EINVAL',
      OP,
      `${r.label} has no vrings (num_of_vrings 0x0 at ${hex(r.at(L.num_of_vrings))}); no virtio driver can use it`,
      r.at(L.num_of_vrings),
    );
  }
  if (!whole) return { bodySize };
  // All num_of_vrings vrings are decoded, even past RVDEV_NUM_VRINGS (at most 255, and they fit),
  // so that a dump shows what the firmware wrote.
  const vrings: RscVring[] = [];
  for (let i = 0; i < numOfVrings; i++) vrings.push(decodeVring(r, i));
  const entry = {
    kind: 'vdev' as const,
    id: r.u32(L.id, 'id'),
    notifyId: r.u32(L.notifyid, 'notifyid'),
    dfeatures: r.u32(L.dfeatures, 'dfeatures'),
    gfeatures: r.u32(L.gfeatures, 'gfeatures'),
    configLen,
    status: r.u8(L.status, 'status'),
    numOfVrings,
    reserved,
    vrings,
    config: r.view.copy(vdevConfigOffset(r.head.bodyOffset, numOfVrings), configLen, 'vdev config space'),
    ...r.head,
  };
  return { entry, bodySize };
}

function decodeVring(r: EntryReader, i: number): RscVring {
  const base = vringOffset(r.head.bodyOffset, i) - r.head.bodyOffset;
  const V = FW_RSC_VDEV_VRING;
  const vring = {
    da: r.u32(base + V.da, 'vring da'),
    align: r.u32(base + V.align, 'vring align'),
    num: r.u32(base + V.num, 'vring num'),
    notifyId: r.u32(base + V.notifyid, 'vring notifyid'),
    pa: r.u32(base + V.pa, 'vring pa'),
  };
  // num = 0 or align = 0: Linux (v6.1+) fails only the rproc-virtio probe and boots without the
  // device, silently for the firmware; we refuse the table with the reason (TC-R18).
  // Linux checks nothing else. The split ring indexes with idx & (num - 1) and the virtio spec caps
  // a queue at 32768, so num must be a power of two ≤ 32768; vring_size() aligns the used ring with
  // a mask, so align must be a power of two. Together these bounds also keep vring_size() far from
  // the 32-bit overflow that num = 0xffffffff causes in Linux (TC-R19).
  const numProblem =
    vring.num === 0
      ? 'a vring needs at least one buffer'
      : vring.num > VRING_MAX_NUM
        ? `above the virtio maximum ${hex(VRING_MAX_NUM)}`
        : !isPowerOfTwo(vring.num)
          ? 'not a power of two'
          : undefined;
  if (numProblem !== undefined) r.vringError(i, 'num', vring.num, base + V.num, numProblem);
  const alignProblem =
    vring.align === 0
      ? 'the used ring needs a non-zero alignment'
      : !isPowerOfTwo(vring.align)
        ? 'not a power of two'
        : undefined;
  if (alignProblem !== undefined) r.vringError(i, 'align', vring.align, base + V.align, alignProblem);
  return vring;
}

/**
 * Two offsets to one entry, or entries sharing bytes: Linux does not check and would, for a vdev
 * listed twice, create two virtio devices writing the same vring slots and notifyids; an error here
 * (TC-R14). Vendor and unknown entries claim only their fw_rsc_hdr, their size being unknown.
 */
function checkOverlaps(problems: Problems, extents: readonly Extent[]): void {
  const firstAt = new Map<number, Extent>();
  const distinct: Extent[] = [];
  for (const e of extents) {
    const first = firstAt.get(e.start);
    if (first !== undefined) {
      problems.error(
        'EINVAL',
        OP,
        `resource entry ${e.index} at offset ${hex(e.start)} is the same entry as resource entry ${first.index} (offset[${e.index}] at ${hex(e.slot)})`,
        e.slot,
      );
      continue;
    }
    firstAt.set(e.start, e);
    distinct.push(e);
  }
  distinct.sort((a, b) => a.start - b.start);
  let reach: Extent | undefined;
  for (const e of distinct) {
    if (reach !== undefined && e.start < reach.end) {
      problems.error(
        'EINVAL',
        OP,
        `resource entry ${e.index} at offset ${hex(e.start)} overlaps resource entry ${reach.index} at ${hex(reach.start)}..${hex(reach.end)} (offset[${e.index}] at ${hex(e.slot)})`,
        e.slot,
      );
    }
    if (reach === undefined || e.end > reach.end) reach = e;
  }
}

/** Reads fields of one entry body by body-relative offset and reports problems in one voice. */
class EntryReader {
  readonly view: ByteView;
  readonly problems: Problems;
  readonly head: EntryHead;
  /** Bytes from the body to the table end: Linux's avail. */
  readonly avail: number;

  constructor(view: ByteView, problems: Problems, head: EntryHead) {
    this.view = view;
    this.problems = problems;
    this.head = head;
    this.avail = view.length - head.bodyOffset;
  }

  /**
   * "resource entry 2 (vdev) at offset 0x40": the subject of every message about this entry. Built
   * only when a problem is reported, so that a clean 10 000-entry table allocates no strings.
   */
  get label(): string {
    const kind = this.head.type <= RSC_VDEV ? ` (${rscTypeName(this.head.type)})` : '';
    return `resource entry ${this.head.index}${kind} at offset ${hex(this.head.offset)}`;
  }

  /** Table offset of a body field. */
  at(field: number): number {
    return this.head.bodyOffset + field;
  }

  // Field names go to ByteView as they are: its message carries the offset, and every read here is
  // range-checked beforehand, so they only matter if a check is ever missed.
  u8(field: number, name: string): number {
    return this.view.u8(this.at(field), name);
  }

  u32(field: number, name: string): number {
    return this.view.u32(this.at(field), name);
  }

  /** The fixed-size body fits in avail; else report the truncation as Linux's handlers do (TC-R15). */
  fits(bodySize: number): boolean {
    if (bodySize <= this.avail) return true;
    this.truncated(`its body needs ${hex(bodySize)} bytes`);
    return false;
  }

  fitsVdev(bodySize: number, numOfVrings: number, configLen: number): boolean {
    if (bodySize <= this.avail) return true;
    this.truncated(`${numOfVrings} vrings and config_len ${hex(configLen)} need ${hex(bodySize)} body bytes`);
    return false;
  }

  mustBeZero(value: number, field: number, name: string): void {
    if (value === 0) return;
    this.problems.error(
      'EINVAL',
      OP,
      `${this.label} has ${name} ${hex(value)} at ${hex(this.at(field))}; it must be zero`,
      this.at(field),
    );
  }

  /** name[32], read literally and never past its 32 bytes (TC-R22: Linux uses it as a format string). */
  name(field: number): { text: string; terminated: boolean } {
    const name = this.view.cstring(this.at(field), RSC_NAME_LEN, 'name');
    if (!name.terminated) {
      this.problems.warn(
        'EINVAL',
        OP,
        `${this.label} has a name at ${hex(this.at(field))} with no NUL within its ${RSC_NAME_LEN} bytes; read as "${name.text}"`,
        this.at(field),
      );
    }
    return name;
  }

  vringError(i: number, name: string, value: number, field: number, reason: string): void {
    this.problems.error(
      'EINVAL',
      OP,
      `vring ${i} of ${this.label} has ${name} ${hex(value)} at ${hex(this.at(field))}: ${reason}`,
      this.at(field),
    );
  }

  private truncated(need: string): void {
    this.problems.error(
      'EINVAL',
      OP,
      `${this.label} is truncated: ${need} at ${hex(this.head.bodyOffset)}, only ${hex(this.avail)} remain before the table end ${hex(this.view.length)}`,
      this.head.offset,
    );
  }
}

/** "(offset[2] at 0x18)": where a bad entry offset was found. */
function slotNote(index: number, slot: number): string {
  return `(offset[${index}] at ${hex(slot)})`;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
