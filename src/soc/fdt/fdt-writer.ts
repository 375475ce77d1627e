// Serialises an Fdt to a version-17 flattened devicetree blob laid out as dtc lays it out (header,
// memory reservation block, structure block, strings block, no padding), so that the output is
// deterministic and, for a tree read from a dtc-built blob, byte-identical to it. Mirrors the
// Devicetree Specification v0.4 chapter 5 and what scripts/dtc's flattree.c produces.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import {
  FDT_HEADER,
  FDT_LIMITS,
  FDT_MAGIC,
  FDT_RESERVE_ENTRY_SIZE,
  FDT_TAG_ALIGN,
  FDT_TOKEN,
  FDT_V17_HEADER_SIZE,
  FDT_WRITE_LAST_COMP_VERSION,
  FDT_WRITE_VERSION,
} from './fdt-constants.ts';
import { nodeNameProblem, propNameProblem } from './fdt-names.ts';
import type { FdtNode } from './fdt-node.ts';
import { checkPhandles, type Fdt } from './fdt-tree.ts';

const OP = 'fdt-write';
const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const utf8 = new TextEncoder();

/**
 * The strings block. A name is stored once; a name that is the tail of one already stored
 * ("patible" after "compatible") reuses its bytes, as dtc does, so that our output matches dtc's.
 */
class StringTable {
  private table = '';

  offset(name: string): number {
    const found = this.table.indexOf(`${name}\0`);
    if (found >= 0) return found;
    const at = this.table.length;
    this.table += `${name}\0`;
    return at;
  }

  bytes(): Uint8Array {
    // Names are checked to be ASCII, so one character is one byte.
    return Uint8Array.from(this.table, (c) => c.charCodeAt(0));
  }
}

interface Planned {
  readonly structSize: number;
  readonly strings: Uint8Array;
  readonly nameOffsets: Map<string, number>;
}

/** Check every name and depth and size the structure block, filling the strings table in order. */
function plan(fdt: Fdt): Planned {
  if (fdt.root.name !== '')
    throw new RprocError('EINVAL', OP, `the root node is named "${fdt.root.name}", not ""`);
  const strings = new StringTable();
  const nameOffsets = new Map<string, number>();
  let size = 4; // FDT_END
  for (const node of fdt.nodes()) {
    if (node.depth >= FDT_LIMITS.maxDepth) {
      throw new RprocError('EINVAL', OP, `${node.path} nests deeper than ${FDT_LIMITS.maxDepth} levels`);
    }
    if (node !== fdt.root) {
      const problem = nodeNameProblem(node.name);
      if (problem !== undefined)
        throw new RprocError('EINVAL', OP, `node name "${node.name}" of ${node.path} ${problem}`);
    }
    size += 4 + align(node.name.length + 1, FDT_TAG_ALIGN) + 4; // BEGIN_NODE name ... END_NODE
    for (const [name, value] of node.props) {
      const problem = propNameProblem(name);
      if (problem !== undefined)
        throw new RprocError('EINVAL', OP, `property name "${name}" of ${node.path} ${problem}`);
      if (!nameOffsets.has(name)) nameOffsets.set(name, strings.offset(name));
      size += 12 + align(value.length, FDT_TAG_ALIGN);
    }
    if (size > 0x7fff_ffff)
      throw new RprocError('EFBIG', OP, `the structure block passes ${hex(0x7fff_ffff)} bytes`);
  }
  return { structSize: size, strings: strings.bytes(), nameOffsets };
}

/** Serialise `fdt` to a .dtb (version 17, last_comp_version 16). Throws EINVAL for an invalid tree. */
export function writeFdt(fdt: Fdt): Uint8Array {
  checkPhandles(fdt.root, OP);
  for (const r of fdt.memReserve) {
    if (r.address === 0n && r.size === 0n) {
      throw new RprocError('EINVAL', OP, 'a (0, 0) memory reservation would end the reservation map early');
    }
  }
  const { structSize, strings, nameOffsets } = plan(fdt);
  const offMemRsvmap = FDT_V17_HEADER_SIZE;
  const offDtStruct = offMemRsvmap + (fdt.memReserve.length + 1) * FDT_RESERVE_ENTRY_SIZE;
  const offDtStrings = offDtStruct + structSize;
  const totalsize = offDtStrings + strings.length;
  const out = new ByteView(new Uint8Array(totalsize), 'be', { what: 'device tree blob', op: OP });

  out.setU32(FDT_HEADER.magic, FDT_MAGIC, 'magic');
  out.setU32(FDT_HEADER.totalsize, totalsize, 'totalsize');
  out.setU32(FDT_HEADER.off_dt_struct, offDtStruct, 'off_dt_struct');
  out.setU32(FDT_HEADER.off_dt_strings, offDtStrings, 'off_dt_strings');
  out.setU32(FDT_HEADER.off_mem_rsvmap, offMemRsvmap, 'off_mem_rsvmap');
  out.setU32(FDT_HEADER.version, FDT_WRITE_VERSION, 'version');
  out.setU32(FDT_HEADER.last_comp_version, FDT_WRITE_LAST_COMP_VERSION, 'last_comp_version');
  out.setU32(FDT_HEADER.boot_cpuid_phys, fdt.bootCpuidPhys, 'boot_cpuid_phys');
  out.setU32(FDT_HEADER.size_dt_strings, strings.length, 'size_dt_strings');
  out.setU32(FDT_HEADER.size_dt_struct, structSize, 'size_dt_struct');

  let off = offMemRsvmap;
  for (const r of fdt.memReserve) {
    out.setU64(off, r.address, 'memory reservation address');
    out.setU64(off + 8, r.size, 'memory reservation size');
    off += FDT_RESERVE_ENTRY_SIZE;
  }
  off += FDT_RESERVE_ENTRY_SIZE; // the (0, 0) terminator: the buffer is already zero

  // Iterative pre-order walk; a node's FDT_END_NODE is written when its marker is popped.
  const stack: (FdtNode | 'end')[] = [fdt.root];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item === 'end') {
      out.setU32(off, FDT_TOKEN.FDT_END_NODE, 'FDT_END_NODE');
      off += 4;
      continue;
    }
    out.setU32(off, FDT_TOKEN.FDT_BEGIN_NODE, 'FDT_BEGIN_NODE');
    out.setBytes(off + 4, utf8.encode(item.name), 'node name');
    off = align(off + 4 + item.name.length + 1, FDT_TAG_ALIGN);
    for (const [name, value] of item.props) {
      out.setU32(off, FDT_TOKEN.FDT_PROP, 'FDT_PROP');
      out.setU32(off + 4, value.length, 'property length');
      out.setU32(off + 8, nameOffsets.get(name) ?? 0, 'property name offset');
      out.setBytes(off + 12, value, `property "${name}"`);
      off = align(off + 12 + value.length, FDT_TAG_ALIGN);
    }
    stack.push('end');
    for (let i = item.children.length - 1; i >= 0; i--) {
      const c = item.children[i];
      if (c !== undefined) stack.push(c);
    }
  }
  out.setU32(off, FDT_TOKEN.FDT_END, 'FDT_END');
  out.setBytes(offDtStrings, strings, 'strings block');
  return out.bytes;
}
