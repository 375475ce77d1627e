// Resource-table constants with their spec spelling: resource types, FW_RSC_ADDR_ANY, vendor handler
// results, vring limits, and the virtio ids / feature and status bits that a table dump names.
// Mirrors include/linux/rsc_table.h (formerly remoteproc.h), include/uapi/linux/virtio_ids.h,
// virtio_config.h and drivers/rpmsg/virtio_rpmsg_bus.c.

import { hex } from '../util/errors.ts';

/** enum fw_resource_type. */
export const FW_RESOURCE_TYPE = {
  RSC_CARVEOUT: 0,
  RSC_DEVMEM: 1,
  RSC_TRACE: 2,
  RSC_VDEV: 3,
  RSC_LAST: 4,
  RSC_VENDOR_START: 128,
  RSC_VENDOR_END: 512,
} as const;

export const { RSC_CARVEOUT, RSC_DEVMEM, RSC_TRACE, RSC_VDEV, RSC_LAST, RSC_VENDOR_START, RSC_VENDOR_END } =
  FW_RESOURCE_TYPE;

/** (-1) in a u32 field: "host, pick the address". */
export const FW_RSC_ADDR_ANY = 0xffff_ffff;

/** enum rsc_handling_status: what a platform driver's handleRsc returns for a vendor entry. */
export const RSC_HANDLING_STATUS = {
  RSC_HANDLED: 0,
  RSC_IGNORED: 1,
} as const;

export const { RSC_HANDLED, RSC_IGNORED } = RSC_HANDLING_STATUS;

/** The only table version Linux accepts. */
export const RSC_TABLE_VERSION = 1;

/** Maximum vrings per vdev entry. */
export const RVDEV_NUM_VRINGS = 2;

/** Size of the name[] field of carveout, devmem and trace entries. */
export const RSC_NAME_LEN = 32;

/** Largest split-virtqueue size the virtio spec allows (queue sizes are powers of two up to 32768). */
export const VRING_MAX_NUM = 32768;

/** include/uapi/linux/virtio_ids.h */
export const VIRTIO_ID = {
  VIRTIO_ID_NET: 1,
  VIRTIO_ID_BLOCK: 2,
  VIRTIO_ID_CONSOLE: 3,
  VIRTIO_ID_RNG: 4,
  VIRTIO_ID_BALLOON: 5,
  VIRTIO_ID_IOMEM: 6,
  VIRTIO_ID_RPMSG: 7,
  VIRTIO_ID_SCSI: 8,
  VIRTIO_ID_9P: 9,
  VIRTIO_ID_MAC80211_WLAN: 10,
  VIRTIO_ID_RPROC_SERIAL: 11,
  VIRTIO_ID_CAIF: 12,
  VIRTIO_ID_MEMORY_BALLOON: 13,
  VIRTIO_ID_GPU: 16,
  VIRTIO_ID_CLOCK: 17,
  VIRTIO_ID_INPUT: 18,
  VIRTIO_ID_VSOCK: 19,
  VIRTIO_ID_CRYPTO: 20,
  VIRTIO_ID_SIGNAL_DIST: 21,
  VIRTIO_ID_PSTORE: 22,
  VIRTIO_ID_IOMMU: 23,
  VIRTIO_ID_MEM: 24,
  VIRTIO_ID_SOUND: 25,
  VIRTIO_ID_FS: 26,
  VIRTIO_ID_PMEM: 27,
  VIRTIO_ID_RPMB: 28,
  VIRTIO_ID_MAC80211_HWSIM: 29,
  VIRTIO_ID_VIDEO_ENCODER: 30,
  VIRTIO_ID_VIDEO_DECODER: 31,
  VIRTIO_ID_SCMI: 32,
  VIRTIO_ID_NITRO_SEC_MOD: 33,
  VIRTIO_ID_I2C_ADAPTER: 34,
  VIRTIO_ID_WATCHDOG: 35,
  VIRTIO_ID_CAN: 36,
  VIRTIO_ID_DMABUF: 37,
  VIRTIO_ID_PARAM_SERV: 38,
  VIRTIO_ID_AUDIO_POLICY: 39,
  VIRTIO_ID_BT: 40,
  VIRTIO_ID_GPIO: 41,
} as const;

export const { VIRTIO_ID_NET, VIRTIO_ID_CONSOLE, VIRTIO_ID_RPMSG, VIRTIO_ID_RPROC_SERIAL } = VIRTIO_ID;

/** Feature bit numbers of virtio rpmsg (virtio_rpmsg_bus.c): the remote announces its services. */
export const VIRTIO_RPMSG_F = {
  VIRTIO_RPMSG_F_NS: 0,
} as const;

export const { VIRTIO_RPMSG_F_NS } = VIRTIO_RPMSG_F;

/**
 * Transport feature bit numbers that fit in the vdev entry's 32-bit feature words
 * (virtio_config.h, virtio_ring.h). VIRTIO_F_VERSION_1 (bit 32) cannot be expressed there,
 * which is why remoteproc vdevs are always legacy devices.
 */
export const VIRTIO_TRANSPORT_F = {
  VIRTIO_F_NOTIFY_ON_EMPTY: 24,
  VIRTIO_F_ANY_LAYOUT: 27,
  VIRTIO_RING_F_INDIRECT_DESC: 28,
  VIRTIO_RING_F_EVENT_IDX: 29,
} as const;

/** Device status bits written by the host into the vdev entry's status byte (virtio_config.h). */
export const VIRTIO_CONFIG_S = {
  VIRTIO_CONFIG_S_ACKNOWLEDGE: 1,
  VIRTIO_CONFIG_S_DRIVER: 2,
  VIRTIO_CONFIG_S_DRIVER_OK: 4,
  VIRTIO_CONFIG_S_FEATURES_OK: 8,
  VIRTIO_CONFIG_S_NEEDS_RESET: 0x40,
  VIRTIO_CONFIG_S_FAILED: 0x80,
} as const;

const standardTypeNames = ['carveout', 'devmem', 'trace', 'vdev'] as const;

export function isVendorRscType(type: number): boolean {
  // Linux's range check is inclusive at both ends: 512 is still a vendor type.
  return type >= RSC_VENDOR_START && type <= RSC_VENDOR_END;
}

/** "carveout", "devmem", "trace", "vdev", "vendor (0x80)" or "unknown (0x5)". */
export function rscTypeName(type: number): string {
  const standard = standardTypeNames[type];
  if (standard !== undefined) return standard;
  return isVendorRscType(type) ? `vendor (${hex(type)})` : `unknown (${hex(type)})`;
}

/** The VIRTIO_ID_* name of a virtio device id, or undefined for ids Linux does not define. */
export function virtioIdName(id: number): string | undefined {
  for (const [name, value] of Object.entries(VIRTIO_ID)) if (value === id) return name;
  return undefined;
}

/**
 * Names of the feature bits set in a vdev's 32-bit feature word: device-specific bits for the
 * devices this project speaks (rpmsg), transport bits for all, and "bit N" for the rest.
 */
export function virtioFeatureNames(id: number, features: number): string[] {
  const known = new Map<number, string>();
  if (id === VIRTIO_ID_RPMSG) for (const [name, bit] of Object.entries(VIRTIO_RPMSG_F)) known.set(bit, name);
  for (const [name, bit] of Object.entries(VIRTIO_TRANSPORT_F)) known.set(bit, name);
  const names: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (((features >>> bit) & 1) === 0) continue;
    names.push(known.get(bit) ?? `bit ${bit}`);
  }
  return names;
}

/** Names of the status bits set in a vdev status byte ("ACKNOWLEDGE", "DRIVER_OK", ...). */
export function virtioStatusNames(status: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(VIRTIO_CONFIG_S)) {
    if ((status & bit) !== 0) names.push(name.slice('VIRTIO_CONFIG_S_'.length));
  }
  const unknown = status & ~Object.values(VIRTIO_CONFIG_S).reduce((a, b) => a | b, 0);
  if (unknown !== 0) names.push(hex(unknown));
  return names;
}
