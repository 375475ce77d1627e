// Decoded resource-table entries (what the parser returns) and entry specifications (what the
// builder takes). Field names follow struct fw_rsc_* in include/linux/rsc_table.h, in camelCase where
// C uses two words (notifyid → notifyId, config_len → configLen, num_of_vrings → numOfVrings).

import type { Endian } from '../util/bytes.ts';
import type { Problem } from '../util/problems.ts';

interface RscEntryHead {
  /** Position in the header's offset[] array. */
  readonly index: number;
  /** Table offset of the entry's fw_rsc_hdr. */
  readonly offset: number;
  /** Table offset of the body (offset + 4): the offset Linux hands to handlers. */
  readonly bodyOffset: number;
  /** The fw_rsc_hdr type word. */
  readonly type: number;
}

/** Fields shared by carveout and devmem entries, which have the same layout. */
interface RscMemoryFields {
  readonly da: number;
  readonly pa: number;
  readonly len: number;
  readonly flags: number;
  readonly reserved: number;
  /** Read literally from at most 32 bytes; bytes outside printable ASCII appear as \xNN. */
  readonly name: string;
  /** False when name[32] holds no NUL, which Linux would read past. */
  readonly nameTerminated: boolean;
}

export interface RscCarveout extends RscEntryHead, RscMemoryFields {
  readonly kind: 'carveout';
}

export interface RscDevmem extends RscEntryHead, RscMemoryFields {
  readonly kind: 'devmem';
}

export interface RscTrace extends RscEntryHead {
  readonly kind: 'trace';
  readonly da: number;
  readonly len: number;
  readonly reserved: number;
  readonly name: string;
  readonly nameTerminated: boolean;
}

export interface RscVring {
  readonly da: number;
  readonly align: number;
  readonly num: number;
  readonly notifyId: number;
  readonly pa: number;
}

export interface RscVdev extends RscEntryHead {
  readonly kind: 'vdev';
  /** Virtio device id (VIRTIO_ID_*). */
  readonly id: number;
  readonly notifyId: number;
  readonly dfeatures: number;
  readonly gfeatures: number;
  readonly configLen: number;
  readonly status: number;
  readonly numOfVrings: number;
  readonly reserved: readonly [number, number];
  readonly vrings: readonly RscVring[];
  /** A copy of the config space as the table held it when parsed. */
  readonly config: Uint8Array;
}

export interface RscVendor extends RscEntryHead {
  readonly kind: 'vendor';
  /** Bytes from the body to the end of the table: what Linux passes to handle_rsc as avail. */
  readonly avail: number;
}

/** Types 4..127 and above 512: skipped with a warning, as Linux does. */
export interface RscUnknown extends RscEntryHead {
  readonly kind: 'unknown';
}

export type RscEntry = RscCarveout | RscDevmem | RscTrace | RscVdev | RscVendor | RscUnknown;

export type RscKind = RscEntry['kind'];

export interface RscTable {
  /** Header fields; 0 when the table is too short to hold them. */
  readonly ver: number;
  readonly num: number;
  /** Table size in bytes (the section or buffer the table was read from). */
  readonly size: number;
  readonly endian: Endian;
  /** Entries whose bytes could be decoded, in offset[] order; see problems for the others. */
  readonly entries: readonly RscEntry[];
  /** Every error and warning found, in the order found. */
  readonly problems: readonly Problem[];
}

/** A carveout the firmware asks the host to allocate (da defaults to FW_RSC_ADDR_ANY). */
export interface RscCarveoutSpec {
  readonly kind: 'carveout';
  readonly da?: number;
  readonly pa?: number;
  readonly len: number;
  readonly flags?: number;
  readonly reserved?: number;
  readonly name?: string;
}

/** A device-memory mapping: da and pa are the point of the entry, so both are required. */
export interface RscDevmemSpec {
  readonly kind: 'devmem';
  readonly da: number;
  readonly pa: number;
  readonly len: number;
  readonly flags?: number;
  readonly reserved?: number;
  readonly name?: string;
}

export interface RscTraceSpec {
  readonly kind: 'trace';
  readonly da: number;
  readonly len: number;
  readonly reserved?: number;
  readonly name?: string;
}

export interface RscVringSpec {
  /** Default FW_RSC_ADDR_ANY: the host places the vring. */
  readonly da?: number;
  readonly align: number;
  readonly num: number;
  /** Default: the id Linux will assign (0, 1 for the first vdev, 2, 3 for the next, ...). */
  readonly notifyId?: number;
  readonly pa?: number;
}

export interface RscVdevSpec {
  readonly kind: 'vdev';
  readonly id: number;
  readonly notifyId?: number;
  readonly dfeatures?: number;
  readonly gfeatures?: number;
  readonly status?: number;
  readonly reserved?: readonly [number, number];
  readonly vrings: readonly RscVringSpec[];
  /** Config space bytes; config_len is their length. */
  readonly config?: Uint8Array;
}

/** A vendor entry (type 128..512) with its raw body. */
export interface RscVendorSpec {
  readonly kind: 'vendor';
  readonly type: number;
  readonly body?: Uint8Array;
}

/** An entry of a type Linux does not know (4..127, above 512), for testing the skip path. */
export interface RscUnknownSpec {
  readonly kind: 'unknown';
  readonly type: number;
  readonly body?: Uint8Array;
}

export type RscEntrySpec =
  RscCarveoutSpec | RscDevmemSpec | RscTraceSpec | RscVdevSpec | RscVendorSpec | RscUnknownSpec;
