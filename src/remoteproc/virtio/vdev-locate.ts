// The firmware side's view of one vdev entry of its own resource table, for any virtio device id:
// find the entry (by id, in table order), keep what the firmware itself wrote there (dfeatures,
// vring num/align, config_len), and read what the host writes at run time (status, gfeatures,
// vring da/notifyid) at offsets fixed when the table was parsed. Used by every device-side virtio
// device (rpmsg remote, console); OpenAMP's handle_rsc_table / rproc_virtio_* accessors in device role.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../../rsc/rsc-layout.ts';
import { parseRscTable } from '../../rsc/rsc-parse.ts';
import type { RscVdev } from '../../rsc/rsc-types.ts';
import { vringGeometryProblem } from '../../virtio/vring-layout.ts';

export interface VringGeometry {
  readonly num: number;
  readonly align: number;
  /** As the table held it when parsed (host-written later: read it live). */
  readonly da: number;
  readonly notifyId: number;
}

/** Where a vdev entry lies and what the firmware wrote into it (fixed at parse time). */
export interface VdevLocation {
  /** Position of the entry in the table's offset[]. */
  readonly entryIndex: number;
  /** Table offset of the fw_rsc_vdev body: the base of every field offset. */
  readonly bodyOffset: number;
  /** The entry's virtio device id. */
  readonly id: number;
  /** num_of_vrings as parsed (≥ 2); never re-read from the live table. */
  readonly numOfVrings: number;
  readonly configLen: number;
  /** Features the firmware offers (firmware-owned). */
  readonly dfeatures: number;
  /** The vdev's own notifyid (Linux never assigns it). */
  readonly notifyId: number;
  /** vring0 and vring1 as parsed; num/align are the firmware's. */
  readonly vrings: readonly [VringGeometry, VringGeometry];
}

export interface FindVdevOptions {
  /** Accepted virtio device ids. */
  readonly ids: readonly number[];
  /** Which matching entry, counting from 0 in table order; default 0. */
  readonly index?: number;
  /** For messages: 'console vdev'; default 'vdev'. */
  readonly what?: string;
  /** Operation named in errors; default 'vdev-locate'. */
  readonly op?: string;
  /** How errors name `index` (the caller's option name); default 'vdev index'. */
  readonly indexName?: string;
  /** Why 2 vrings, for the error on fewer; default 'it needs 2'. */
  readonly needsTwo?: string;
}

/**
 * Find the `index`-th vdev entry whose id is one of `ids`. The table may be the live one (host-
 * writable: Linux copies its edited table over ours before starting the core): parseRscTable
 * range-checks every offset and length, and only the entry's position and firmware-owned fields
 * are kept; the two vrings' geometry is re-checked. Problems elsewhere in the table are not the
 * device's business. Throws RprocError: ENODEV when there is no such entry, EINVAL when it has
 * fewer than 2 vrings or geometry a split ring cannot use.
 */
export function findVdev(table: Uint8Array, options: FindVdevOptions): VdevLocation {
  const op = options.op ?? 'vdev-locate';
  const what = options.what ?? 'vdev';
  const want = options.index ?? 0;
  if (!Number.isSafeInteger(want) || want < 0) {
    const name = options.indexName ?? 'vdev index';
    throw new RprocError('EINVAL', op, `${name} ${String(want)} is not a non-negative integer`);
  }
  const parsed = parseRscTable(table);
  const matching = parsed.entries.filter(
    (e): e is RscVdev => e.kind === 'vdev' && options.ids.includes(e.id),
  );
  const vdev = matching[want];
  if (vdev === undefined) {
    const why = parsed.problems.find((p) => p.severity === 'error');
    throw new RprocError(
      'ENODEV',
      op,
      `the resource table (${hex(table.length)} bytes) has ${matching.length} ${what} entries (id ${options.ids.join(' or ')}), no entry ${want}` +
        (why === undefined ? '' : `; first table problem: ${why.message}`),
    );
  }
  const where = `${what} (resource entry ${vdev.index} at offset ${hex(vdev.offset)})`;
  const [v0, v1] = vdev.vrings;
  if (vdev.numOfVrings < 2 || v0 === undefined || v1 === undefined) {
    const needs = options.needsTwo ?? 'it needs 2';
    throw new RprocError('EINVAL', op, `${where} declares ${vdev.numOfVrings} vrings; ${needs}`, {
      offset: vdev.bodyOffset + FW_RSC_VDEV.num_of_vrings,
    });
  }
  for (const [i, v] of [v0, v1].entries()) {
    const problem = vringGeometryProblem(v.num, v.align);
    if (problem !== undefined) {
      throw new RprocError('EINVAL', op, `${where} vring ${i}: ${problem}`, {
        offset: vringOffset(vdev.bodyOffset, i),
      });
    }
  }
  const geometry = (v: VringGeometry): VringGeometry => ({
    num: v.num,
    align: v.align,
    da: v.da,
    notifyId: v.notifyId,
  });
  return {
    entryIndex: vdev.index,
    bodyOffset: vdev.bodyOffset,
    id: vdev.id,
    numOfVrings: vdev.numOfVrings,
    configLen: vdev.configLen,
    dfeatures: vdev.dfeatures,
    notifyId: vdev.notifyId,
    vrings: [geometry(v0), geometry(v1)],
  };
}

/** Whether the table has a vdev entry with one of `ids` (no throw; for optional devices). */
export function hasVdev(table: Uint8Array, ids: readonly number[]): boolean {
  try {
    return parseRscTable(table).entries.some((e) => e.kind === 'vdev' && ids.includes(e.id));
  } catch {
    return false;
  }
}

/** One vring's fields as the host left them in the live table: raw, for the caller to validate. */
export interface LiveVringFields {
  readonly da: number;
  readonly align: number;
  readonly num: number;
  readonly notifyId: number;
}

/**
 * Reads the host-written fields of one vdev entry from the live table at offsets fixed by the
 * location, so a host rewriting num_of_vrings cannot move what we read. Every read is bounds-
 * checked once here (the fixed part and both vrings lie inside the view, which never changes).
 * The values are whatever the host wrote: callers validate them before use.
 */
export class LiveVdevFields {
  private readonly table: Uint8Array;
  private readonly view: ByteView;
  private readonly loc: VdevLocation;
  private readonly statusOffset: number;

  /** `what` names the entry in the range error (a location from another table). */
  constructor(table: Uint8Array, loc: VdevLocation, op = 'vdev-locate', what = 'vdev entry') {
    this.table = table;
    this.loc = loc;
    this.view = new ByteView(table, 'le', { what: 'live resource table', op });
    this.statusOffset = loc.bodyOffset + FW_RSC_VDEV.status;
    // The one check that makes every later read in range: the whole fixed part and both vrings.
    this.view.check(loc.bodyOffset, vringOffset(0, 2), what);
  }

  /**
   * The status byte (host-written, polled). An atomic load: on a SharedArrayBuffer a fresh read
   * each time (never hoisted out of a polling loop), ordering our later reads of gfeatures and
   * vring fields after it. Any byte value is safe: callers only test bits.
   */
  status(): number {
    return Atomics.load(this.table, this.statusOffset);
  }

  /** gfeatures (host-written at finalize_features): any u32; callers mask it with what was offered. */
  gfeatures(): number {
    return this.view.u32(this.loc.bodyOffset + FW_RSC_VDEV.gfeatures, 'gfeatures');
  }

  /** vring i's fields (da and notifyid host-written; num and align may have been overwritten too). */
  vring(i: 0 | 1): LiveVringFields {
    const base = vringOffset(this.loc.bodyOffset, i);
    const V = FW_RSC_VDEV_VRING;
    return {
      da: this.view.u32(base + V.da, 'vring da'),
      align: this.view.u32(base + V.align, 'vring align'),
      num: this.view.u32(base + V.num, 'vring num'),
      notifyId: this.view.u32(base + V.notifyid, 'vring notifyid'),
    };
  }
}
