// Build a resource table from typed entry specifications, laid out as a firmware's C struct would
// be: header, offset[], then each entry aligned. Writes exactly the values given (so tests can build
// deliberately odd tables); checkRscTable decides validity. The inverse of rsc-parse.ts, following
// the struct layouts of include/linux/rsc_table.h.

import { RprocError, hex } from '../util/errors.ts';
import { ByteView, type Endian } from '../util/bytes.ts';
import {
  FW_RSC_ADDR_ANY,
  RSC_CARVEOUT,
  RSC_DEVMEM,
  RSC_NAME_LEN,
  RSC_TABLE_VERSION,
  RSC_TRACE,
  RSC_VDEV,
  isVendorRscType,
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
import type { RscCarveoutSpec, RscDevmemSpec, RscEntrySpec, RscTraceSpec, RscVdevSpec } from './rsc-types.ts';

const OP = 'rsc-build';

export interface RscBuildOptions {
  readonly endian?: Endian;
  /** Alignment of each entry's fw_rsc_hdr (a power of two); default 8, as C structs in firmware. */
  readonly align?: number;
}

/** Lay out `entries` in order and return the table bytes; throws RprocError for unencodable specs. */
export function buildRscTable(entries: readonly RscEntrySpec[], options: RscBuildOptions = {}): Uint8Array {
  const align = options.align ?? 8;
  if (!Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0) {
    throw new RprocError('EINVAL', OP, `entry alignment ${hex(align)} is not a power of two`);
  }
  const offsets: number[] = [];
  let end = rscTableHeaderSize(entries.length);
  for (const spec of entries) {
    const offset = alignUp(end, align);
    offsets.push(offset);
    end = offset + FW_RSC_HDR.size + bodySize(spec);
  }
  const view = new ByteView(new Uint8Array(end), options.endian ?? 'le', {
    what: 'resource table being built',
    op: OP,
  });
  view.setU32(RESOURCE_TABLE.ver, RSC_TABLE_VERSION, 'ver');
  view.setU32(RESOURCE_TABLE.num, entries.length, 'num');
  // Linux assigns vring notifyids rproc-wide in table order; defaulting to the same numbers makes a
  // built table look like one the host has already processed, as firmware authors usually write it.
  let nextNotifyId = 0;
  entries.forEach((spec, i) => {
    const offset = offsets[i] ?? 0;
    view.setU32(rscOffsetSlot(i), offset, `offset[${i}]`);
    view.setU32(offset + FW_RSC_HDR.type, typeOf(spec), `entry ${i} type`);
    const body = offset + FW_RSC_HDR.size;
    switch (spec.kind) {
      case 'carveout':
      case 'devmem':
        writeMemory(view, body, spec, i);
        break;
      case 'trace':
        writeTrace(view, body, spec, i);
        break;
      case 'vdev':
        nextNotifyId = writeVdev(view, body, spec, i, nextNotifyId);
        break;
      case 'vendor':
      case 'unknown':
        view.setBytes(body, spec.body ?? new Uint8Array(0), `entry ${i} body`);
        break;
    }
  });
  return view.bytes;
}

function bodySize(spec: RscEntrySpec): number {
  switch (spec.kind) {
    case 'carveout':
    case 'devmem':
      return FW_RSC_CARVEOUT.size;
    case 'trace':
      return FW_RSC_TRACE.size;
    case 'vdev':
      return vdevBodySize(spec.vrings.length, spec.config?.length ?? 0);
    case 'vendor':
    case 'unknown':
      return spec.body?.length ?? 0;
  }
}

/** The type word; refuses a vendor/unknown spec whose type says otherwise, which would not round-trip. */
function typeOf(spec: RscEntrySpec): number {
  switch (spec.kind) {
    case 'carveout':
      return RSC_CARVEOUT;
    case 'devmem':
      return RSC_DEVMEM;
    case 'trace':
      return RSC_TRACE;
    case 'vdev':
      return RSC_VDEV;
    case 'vendor':
      if (!isVendorRscType(spec.type)) {
        throw new RprocError('EINVAL', OP, `vendor entry type ${hex(spec.type)} is outside 0x80..0x200`);
      }
      return spec.type;
    case 'unknown':
      if (spec.type <= RSC_VDEV || isVendorRscType(spec.type)) {
        throw new RprocError('EINVAL', OP, `unknown entry type ${hex(spec.type)} is a known or vendor type`);
      }
      return spec.type;
  }
}

function writeMemory(view: ByteView, body: number, spec: RscCarveoutSpec | RscDevmemSpec, i: number): void {
  const L = FW_RSC_CARVEOUT;
  const what = `entry ${i} (${spec.kind})`;
  view.setU32(body + L.da, spec.da ?? FW_RSC_ADDR_ANY, `${what} da`);
  view.setU32(body + L.pa, spec.pa ?? 0, `${what} pa`);
  view.setU32(body + L.len, spec.len, `${what} len`);
  view.setU32(body + L.flags, spec.flags ?? 0, `${what} flags`);
  view.setU32(body + L.reserved, spec.reserved ?? 0, `${what} reserved`);
  view.setCString(body + L.name, RSC_NAME_LEN, spec.name ?? '', `${what} name`);
}

function writeTrace(view: ByteView, body: number, spec: RscTraceSpec, i: number): void {
  const L = FW_RSC_TRACE;
  const what = `entry ${i} (trace)`;
  view.setU32(body + L.da, spec.da, `${what} da`);
  view.setU32(body + L.len, spec.len, `${what} len`);
  view.setU32(body + L.reserved, spec.reserved ?? 0, `${what} reserved`);
  view.setCString(body + L.name, RSC_NAME_LEN, spec.name ?? '', `${what} name`);
}

/** Returns the next default notifyid. */
function writeVdev(view: ByteView, body: number, spec: RscVdevSpec, i: number, nextNotifyId: number): number {
  const L = FW_RSC_VDEV;
  const what = `entry ${i} (vdev)`;
  const config = spec.config ?? new Uint8Array(0);
  const [reserved0, reserved1] = spec.reserved ?? [0, 0];
  view.setU32(body + L.id, spec.id, `${what} id`);
  view.setU32(body + L.notifyid, spec.notifyId ?? 0, `${what} notifyid`);
  view.setU32(body + L.dfeatures, spec.dfeatures ?? 0, `${what} dfeatures`);
  view.setU32(body + L.gfeatures, spec.gfeatures ?? 0, `${what} gfeatures`);
  view.setU32(body + L.config_len, config.length, `${what} config_len`);
  setByte(view, body + L.status, spec.status ?? 0, `${what} status`);
  setByte(view, body + L.num_of_vrings, spec.vrings.length, `${what} num_of_vrings`);
  setByte(view, body + L.reserved, reserved0, `${what} reserved[0]`);
  setByte(view, body + L.reserved + 1, reserved1, `${what} reserved[1]`);
  let notifyId = nextNotifyId;
  spec.vrings.forEach((vring, j) => {
    const V = FW_RSC_VDEV_VRING;
    const at = vringOffset(body, j);
    const vw = `${what} vring ${j}`;
    view.setU32(at + V.da, vring.da ?? FW_RSC_ADDR_ANY, `${vw} da`);
    view.setU32(at + V.align, vring.align, `${vw} align`);
    view.setU32(at + V.num, vring.num, `${vw} num`);
    view.setU32(at + V.notifyid, vring.notifyId ?? notifyId, `${vw} notifyid`);
    view.setU32(at + V.pa, vring.pa ?? 0, `${vw} pa`);
    notifyId++;
  });
  view.setBytes(vdevConfigOffset(body, spec.vrings.length), config, `${what} config`);
  return notifyId;
}

/** ByteView.setU8 wraps silently; a u8 field given 256 is a caller bug worth naming. */
function setByte(view: ByteView, off: number, value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RprocError('EINVAL', OP, `${field} value ${hex(value)} does not fit in a byte`, {
      offset: off,
    });
  }
  view.setU8(off, value, field);
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
