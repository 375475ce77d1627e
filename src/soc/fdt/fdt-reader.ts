// Reads a flattened devicetree blob (.dtb) into an Fdt: header, memory reservation block,
// structure block tokens and strings block, as laid out by the Devicetree Specification v0.4
// chapter 5 and read by Linux's drivers/of/fdt.c (through libfdt's fdt_check_header). The blob is
// untrusted: every offset and length is bounds-checked and every failure is an RprocError EINVAL.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import {
  FDT_HEADER,
  FDT_LIMITS,
  FDT_MAGIC,
  FDT_MAX_LAST_COMP_VERSION,
  FDT_MIN_READ_VERSION,
  FDT_RESERVE_ENTRY_SIZE,
  FDT_RSVMAP_ALIGN,
  FDT_TAG_ALIGN,
  FDT_TOKEN,
  FDT_V16_HEADER_SIZE,
  FDT_V17_HEADER_SIZE,
} from './fdt-constants.ts';
import { nodeNameProblem, propNameProblem } from './fdt-names.ts';
import { FdtNode } from './fdt-node.ts';
import { Fdt, checkPhandles, type MemReserve } from './fdt-tree.ts';

const OP = 'fdt-parse';

export interface FdtHeader {
  readonly magic: number;
  readonly totalsize: number;
  readonly offDtStruct: number;
  readonly offDtStrings: number;
  readonly offMemRsvmap: number;
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuidPhys: number;
  readonly sizeDtStrings: number;
  /** Absent before version 17; the structure block then ends where the next block starts. */
  readonly sizeDtStruct: number | undefined;
  /** The size we use: sizeDtStruct, or the derived size for a version-16 blob. */
  readonly structSize: number;
}

function fail(detail: string, offset?: number): RprocError {
  return new RprocError('EINVAL', OP, detail, offset === undefined ? {} : { offset });
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** True when `bytes` starts with the FDT magic (a .dtb rather than a .dts). */
export function isFdtBlob(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0xd0 && bytes[1] === 0x0d && bytes[2] === 0xfe && bytes[3] === 0xed
  );
}

/** Read and check the header: magic, versions, and that every block lies inside totalsize. */
export function readFdtHeader(bytes: Uint8Array): FdtHeader {
  const v = new ByteView(bytes, 'be', { what: 'device tree blob', op: OP });
  if (bytes.length < FDT_V16_HEADER_SIZE) {
    throw fail(
      `blob is ${hex(bytes.length)} bytes, shorter than the ${hex(FDT_V16_HEADER_SIZE)}-byte header`,
      0,
    );
  }
  const magic = v.u32(FDT_HEADER.magic, 'magic');
  if (magic !== FDT_MAGIC) throw fail(`bad magic ${hex(magic)} at offset 0x0, expected ${hex(FDT_MAGIC)}`, 0);
  const version = v.u32(FDT_HEADER.version, 'version');
  const lastCompVersion = v.u32(FDT_HEADER.last_comp_version, 'last_comp_version');
  if (version < FDT_MIN_READ_VERSION) {
    throw fail(`version ${hex(version)} at offset ${hex(FDT_HEADER.version)} is older than 16, unsupported`);
  }
  if (lastCompVersion > FDT_MAX_LAST_COMP_VERSION) {
    throw fail(
      `last_comp_version ${hex(lastCompVersion)} at offset ${hex(FDT_HEADER.last_comp_version)} is newer than ` +
        `${FDT_MAX_LAST_COMP_VERSION}: this blob needs a newer reader`,
    );
  }
  const headerSize = version >= 17 ? FDT_V17_HEADER_SIZE : FDT_V16_HEADER_SIZE;
  if (bytes.length < headerSize) {
    throw fail(
      `blob is ${hex(bytes.length)} bytes, shorter than the ${hex(headerSize)}-byte version-${version} header`,
    );
  }
  const totalsize = v.u32(FDT_HEADER.totalsize, 'totalsize');
  if (totalsize > bytes.length) {
    throw fail(
      `totalsize ${hex(totalsize)} at offset ${hex(FDT_HEADER.totalsize)} is past the end of the ${hex(bytes.length)}-byte buffer`,
      FDT_HEADER.totalsize,
    );
  }
  if (totalsize < headerSize) {
    throw fail(
      `totalsize ${hex(totalsize)} is smaller than the ${hex(headerSize)}-byte header`,
      FDT_HEADER.totalsize,
    );
  }
  const offDtStruct = v.u32(FDT_HEADER.off_dt_struct, 'off_dt_struct');
  const offDtStrings = v.u32(FDT_HEADER.off_dt_strings, 'off_dt_strings');
  const offMemRsvmap = v.u32(FDT_HEADER.off_mem_rsvmap, 'off_mem_rsvmap');
  const bootCpuidPhys = v.u32(FDT_HEADER.boot_cpuid_phys, 'boot_cpuid_phys');
  const sizeDtStrings = v.u32(FDT_HEADER.size_dt_strings, 'size_dt_strings');
  const sizeDtStruct = version >= 17 ? v.u32(FDT_HEADER.size_dt_struct, 'size_dt_struct') : undefined;

  const block = (name: string, field: number, off: number, size: number, alignment: number): void => {
    if (off < headerSize || off > totalsize) {
      throw fail(
        `${name} offset ${hex(off)} (header field at ${hex(field)}) is outside [${hex(headerSize)}, totalsize ${hex(totalsize)}]`,
        field,
      );
    }
    if (off % alignment !== 0)
      throw fail(`${name} offset ${hex(off)} is not ${alignment}-byte aligned`, field);
    if (size > totalsize - off) {
      throw fail(
        `${name} at ${hex(off)} with size ${hex(size)} runs past totalsize ${hex(totalsize)}`,
        field,
      );
    }
  };
  block('memory reservation block', FDT_HEADER.off_mem_rsvmap, offMemRsvmap, 0, FDT_RSVMAP_ALIGN);
  block('strings block', FDT_HEADER.off_dt_strings, offDtStrings, sizeDtStrings, 1);
  // A version-16 blob does not give the structure size: it ends where the strings start (if they
  // follow it) or at totalsize; FDT_END still has to be found inside it.
  const structSize =
    sizeDtStruct ??
    (offDtStrings > offDtStruct ? offDtStrings : Math.max(totalsize, offDtStruct)) - offDtStruct;
  block('structure block', FDT_HEADER.off_dt_struct, offDtStruct, structSize, FDT_TAG_ALIGN);
  if (overlaps(offDtStruct, structSize, offDtStrings, sizeDtStrings)) {
    throw fail(
      `structure block [${hex(offDtStruct)}, ${hex(offDtStruct + structSize)}) overlaps the strings block ` +
        `[${hex(offDtStrings)}, ${hex(offDtStrings + sizeDtStrings)})`,
      FDT_HEADER.off_dt_strings,
    );
  }
  return {
    magic,
    totalsize,
    offDtStruct,
    offDtStrings,
    offMemRsvmap,
    version,
    lastCompVersion,
    bootCpuidPhys,
    sizeDtStrings,
    sizeDtStruct,
    structSize,
  };
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

/** The memory reservation entries up to the (0, 0) terminator, which must lie inside totalsize. */
function readMemReserve(v: ByteView, h: FdtHeader): MemReserve[] {
  const out: MemReserve[] = [];
  for (let off = h.offMemRsvmap; ; off += FDT_RESERVE_ENTRY_SIZE) {
    if (off + FDT_RESERVE_ENTRY_SIZE > h.totalsize) {
      throw fail(
        `memory reservation map at ${hex(h.offMemRsvmap)} has no (0, 0) terminator before totalsize ${hex(h.totalsize)}`,
        off,
      );
    }
    const address = v.u64(off, 'memory reservation address');
    const size = v.u64(off + 8, 'memory reservation size');
    if (address === 0n && size === 0n) {
      const end = off + FDT_RESERVE_ENTRY_SIZE;
      const len = end - h.offMemRsvmap;
      if (overlaps(h.offMemRsvmap, len, h.offDtStruct, h.structSize)) {
        throw fail(
          `memory reservation map [${hex(h.offMemRsvmap)}, ${hex(end)}) overlaps the structure block`,
          off,
        );
      }
      if (overlaps(h.offMemRsvmap, len, h.offDtStrings, h.sizeDtStrings)) {
        throw fail(
          `memory reservation map [${hex(h.offMemRsvmap)}, ${hex(end)}) overlaps the strings block`,
          off,
        );
      }
      return out;
    }
    out.push({ address, size });
  }
}

/** Length of the NUL-terminated string at `off`, looking at most `max` bytes; undefined if no NUL. */
function nulLength(v: ByteView, off: number, max: number): number | undefined {
  const n = v.sub(off, Math.min(max, v.length - off), 'string').indexOf(0);
  return n < 0 ? undefined : n;
}

const latin1 = new TextDecoder('latin1');

/** Parse a .dtb. Throws RprocError EINVAL naming the offending value and its offset. */
export function readFdt(bytes: Uint8Array): Fdt {
  const h = readFdtHeader(bytes);
  const v = new ByteView(bytes.subarray(0, h.totalsize), 'be', { what: 'device tree blob', op: OP });
  const memReserve = readMemReserve(v, h);
  const sv = new ByteView(v.sub(h.offDtStruct, h.structSize, 'structure block'), 'be', {
    what: 'structure block',
    op: OP,
  });
  const strv = new ByteView(v.sub(h.offDtStrings, h.sizeDtStrings, 'strings block'), 'be', {
    what: 'strings block',
    op: OP,
  });
  const root = readStructure(sv, strv);
  checkPhandles(root, OP);
  return new Fdt(root, { memReserve, bootCpuidPhys: h.bootCpuidPhys });
}

function readStructure(sv: ByteView, strv: ByteView): FdtNode {
  const end = sv.length;
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  let off = 0;
  for (;;) {
    if (off + 4 > end) {
      const inside = stack.at(-1);
      throw fail(
        inside === undefined
          ? `structure block ends at ${hex(end)} without FDT_END`
          : `structure block ends at ${hex(end)} inside node ${inside.path} (missing FDT_END_NODE and FDT_END)`,
        off,
      );
    }
    const at = off;
    const token = sv.u32(at, 'token');
    off += 4;
    switch (token) {
      case FDT_TOKEN.FDT_BEGIN_NODE: {
        const parent = stack.at(-1);
        if (parent === undefined && root !== undefined) {
          throw fail(
            `FDT_BEGIN_NODE at struct offset ${hex(at)} after the root node ended (one root only)`,
            at,
          );
        }
        if (stack.length >= FDT_LIMITS.maxDepth) {
          throw fail(`node at struct offset ${hex(at)} nests deeper than ${FDT_LIMITS.maxDepth} levels`, at);
        }
        const { name, length } = readNodeName(sv, off, at);
        off = align(off + length + 1, FDT_TAG_ALIGN);
        const node = new FdtNode(name);
        if (parent === undefined) {
          if (name !== '') throw fail(`root node at struct offset ${hex(at)} is named "${name}", not ""`, at);
          root = node;
        } else {
          const problem = nodeNameProblem(name);
          if (problem !== undefined)
            throw fail(`node name "${name}" at struct offset ${hex(at)} ${problem}`, at);
          if (parent.hasChild(name)) {
            throw fail(`duplicate node name "${name}" under ${parent.path} at struct offset ${hex(at)}`, at);
          }
          parent.addChild(node);
        }
        stack.push(node);
        break;
      }
      case FDT_TOKEN.FDT_END_NODE:
        if (stack.pop() === undefined) {
          throw fail(`FDT_END_NODE at struct offset ${hex(at)} has no matching FDT_BEGIN_NODE`, at);
        }
        break;
      case FDT_TOKEN.FDT_PROP: {
        const node = stack.at(-1);
        if (node === undefined) throw fail(`FDT_PROP at struct offset ${hex(at)} is outside any node`, at);
        if (off + 8 > end) {
          throw fail(
            `FDT_PROP at struct offset ${hex(at)} is cut off by the structure block end ${hex(end)}`,
            at,
          );
        }
        const len = sv.u32(off, 'property length');
        const nameoff = sv.u32(off + 4, 'property name offset');
        off += 8;
        const name = readPropName(strv, nameoff, at);
        if (len > end - off) {
          throw fail(
            `property "${name}" at struct offset ${hex(at)} has length ${hex(len)}, past the structure block end ${hex(end)}`,
            at,
          );
        }
        if (node.props.has(name)) {
          throw fail(`duplicate property "${name}" in ${node.path} at struct offset ${hex(at)}`, at);
        }
        node.props.set(name, sv.copy(off, len, `property "${name}"`));
        off = align(off + len, FDT_TAG_ALIGN);
        break;
      }
      case FDT_TOKEN.FDT_NOP:
        break;
      case FDT_TOKEN.FDT_END: {
        const inside = stack.at(-1);
        if (inside !== undefined) {
          throw fail(
            `FDT_END at struct offset ${hex(at)} inside node ${inside.path} (missing FDT_END_NODE)`,
            at,
          );
        }
        if (root === undefined) throw fail(`FDT_END at struct offset ${hex(at)} before any node`, at);
        return root;
      }
      default:
        throw fail(
          `unknown token ${hex(token)} at struct offset ${hex(at)} (tokens are 4-byte aligned big-endian words)`,
          at,
        );
    }
  }
}

function readNodeName(sv: ByteView, off: number, at: number): { name: string; length: number } {
  const len = nulLength(sv, off, FDT_LIMITS.maxNameLength + 1);
  if (len === undefined) {
    const shown = sv.cstring(off, 32, 'node name').text;
    if (sv.length - off <= FDT_LIMITS.maxNameLength) {
      throw fail(
        `node name "${shown}..." at struct offset ${hex(at)} is not NUL-terminated before the structure block end ${hex(sv.length)}`,
        at,
      );
    }
    throw fail(
      `node name "${shown}..." at struct offset ${hex(at)} is longer than ${FDT_LIMITS.maxNameLength} bytes`,
      at,
    );
  }
  const raw = sv.sub(off, len, 'node name');
  // Valid names are ASCII; anything else is shown escaped and then rejected by the name check.
  const name = raw.every((b) => b >= 0x20 && b < 0x7f)
    ? latin1.decode(raw)
    : sv.cstring(off, len, 'node name').text;
  return { name, length: len };
}

function readPropName(strv: ByteView, nameoff: number, at: number): string {
  if (nameoff >= strv.length) {
    throw fail(
      `property at struct offset ${hex(at)} has name offset ${hex(nameoff)}, outside the ${hex(strv.length)}-byte strings block`,
      at,
    );
  }
  const len = nulLength(strv, nameoff, FDT_LIMITS.maxNameLength + 1);
  if (len === undefined) {
    const shown = strv.cstring(nameoff, 32, 'property name').text;
    throw fail(
      strv.length - nameoff <= FDT_LIMITS.maxNameLength
        ? `property name "${shown}" at strings offset ${hex(nameoff)} (struct offset ${hex(at)}) is not NUL-terminated before the strings block end ${hex(strv.length)}`
        : `property name "${shown}..." at strings offset ${hex(nameoff)} (struct offset ${hex(at)}) is longer than ${FDT_LIMITS.maxNameLength} bytes`,
      at,
    );
  }
  const raw = strv.sub(nameoff, len, 'property name');
  const name = raw.every((b) => b >= 0x20 && b < 0x7f)
    ? latin1.decode(raw)
    : strv.cstring(nameoff, len, 'name').text;
  const problem = propNameProblem(name);
  if (problem !== undefined) {
    throw fail(
      `property name "${name}" at strings offset ${hex(nameoff)} (struct offset ${hex(at)}) ${problem}`,
      at,
    );
  }
  return name;
}
