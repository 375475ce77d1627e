// Test firmware for the loopback board: a small ELF whose resource table declares one rpmsg vdev
// (id 7) with the vring sizes, alignment, features and config space a test asks for, its table
// where firmwareWithTable (rproc-rig.ts) puts tables.

import { buildRscTable } from '../rsc/rsc-build.ts';
import type { RscEntrySpec, RscVringSpec } from '../rsc/rsc-types.ts';
import { VIRTIO_ID_RPMSG } from '../rsc/rsc-constants.ts';
import { TABLE_DA, firmwareWithTable } from './rproc-rig.ts';
import { VIRTIO_RPMSG_F_NS } from '../rpmsg/rpmsg-wire.ts';

export const NS_FEATURE = 1 << VIRTIO_RPMSG_F_NS;

export interface RpmsgFirmwareOptions {
  /** Entries of vring0 (host RX) and vring1 (host TX); default 256 each, as Linux samples. */
  readonly num?: number;
  readonly rxNum?: number;
  readonly txNum?: number;
  /** Used-ring alignment of both vrings; default 4096. */
  readonly align?: number;
  /** Features the firmware offers; default VIRTIO_RPMSG_F_NS. */
  readonly dfeatures?: number;
  /** Config space bytes (config_len is their length); default none. */
  readonly config?: Uint8Array;
  /** How many vrings the vdev declares (rpmsg needs 2); default 2. */
  readonly vrings?: 1 | 2;
  /** Fixed vring device addresses (default: ANY, the host places them). */
  readonly vringDa?: readonly [number | undefined, number | undefined];
  /** Virtio device id; default 7 (rpmsg). */
  readonly deviceId?: number;
  /** The vdev's own notifyid; default 31 (distinct from the vring ids, as OpenAMP needs). */
  readonly vdevNotifyId?: number;
  /** Entries placed before the vdev. */
  readonly before?: readonly RscEntrySpec[];
}

export interface RpmsgFirmware {
  readonly elf: Uint8Array;
  /** The resource table as linked: its device address and size (what a firmware's symbol says). */
  readonly tableDa: number;
  readonly tableSize: number;
}

export function rpmsgFirmware(options: RpmsgFirmwareOptions = {}): RpmsgFirmware {
  const align = options.align ?? 4096;
  const rxNum = options.rxNum ?? options.num ?? 256;
  const txNum = options.txNum ?? options.num ?? 256;
  const vring = (num: number, da: number | undefined): RscVringSpec =>
    da === undefined ? { align, num } : { align, num, da };
  const vrings =
    (options.vrings ?? 2) === 1
      ? [vring(rxNum, options.vringDa?.[0])]
      : [vring(rxNum, options.vringDa?.[0]), vring(txNum, options.vringDa?.[1])];
  const table = buildRscTable([
    ...(options.before ?? []),
    {
      kind: 'vdev',
      id: options.deviceId ?? VIRTIO_ID_RPMSG,
      notifyId: options.vdevNotifyId ?? 31,
      dfeatures: options.dfeatures ?? NS_FEATURE,
      vrings,
      ...(options.config === undefined ? {} : { config: options.config }),
    },
  ]);
  return { elf: firmwareWithTable(table), tableDa: TABLE_DA, tableSize: table.length };
}
