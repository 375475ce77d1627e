/*
 * Resource table layouts for firmware on the virtual AMP SoC, byte-compatible with Linux's
 * include/linux/remoteproc.h (rsc_table.h). The host reads this table from the ELF section
 * ".resource_table", fills in addresses and notify ids, and copies it back to the section's address.
 */
#ifndef RPROC_RSC_TABLE_H
#define RPROC_RSC_TABLE_H

#include <stdint.h>

#define RSC_CARVEOUT 0u
#define RSC_DEVMEM 1u
#define RSC_TRACE 2u
#define RSC_VDEV 3u

#define FW_RSC_ADDR_ANY 0xFFFFFFFFu

#define VIRTIO_ID_CONSOLE 3u
#define VIRTIO_ID_RPMSG 7u
#define VIRTIO_ID_RPROC_SERIAL 11u

#define VIRTIO_RPMSG_F_NS 0u /* feature bit: the remote announces channels via name service */

/* virtio status bits the host writes into fw_rsc_vdev.status */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1u
#define VIRTIO_CONFIG_S_DRIVER 2u
#define VIRTIO_CONFIG_S_DRIVER_OK 4u

struct resource_table_hdr {
  uint32_t ver; /* must be 1 */
  uint32_t num; /* entries in offset[] */
  uint32_t reserved[2];
} __attribute__((packed));

struct fw_rsc_carveout {
  uint32_t type; /* RSC_CARVEOUT */
  uint32_t da;
  uint32_t pa;
  uint32_t len;
  uint32_t flags;
  uint32_t reserved;
  char name[32];
} __attribute__((packed));

struct fw_rsc_trace {
  uint32_t type; /* RSC_TRACE */
  uint32_t da;
  uint32_t len;
  uint32_t reserved;
  char name[32];
} __attribute__((packed));

struct fw_rsc_vdev_vring {
  uint32_t da;       /* written by the host when it creates the virtqueue */
  uint32_t align;
  uint32_t num;
  uint32_t notifyid; /* written by the host before start */
  uint32_t pa;
} __attribute__((packed));

/* A vdev entry with two vrings and no config space: what rpmsg needs. */
struct fw_rsc_vdev2 {
  uint32_t type; /* RSC_VDEV */
  uint32_t id;
  uint32_t notifyid;
  uint32_t dfeatures;
  uint32_t gfeatures; /* written by the host */
  uint32_t config_len;
  uint8_t status;     /* written by the host */
  uint8_t num_of_vrings;
  uint8_t reserved[2];
  struct fw_rsc_vdev_vring vring[2];
} __attribute__((packed));

#define RSC_TABLE_SECTION __attribute__((section(".resource_table"), used, aligned(8)))

#endif
