/*
 * Resource-table building blocks for SDK firmware: the standard table every sample ships (a trace
 * buffer and an rpmsg vdev with two vrings), entry initialisers, and the vring geometry rules.
 * The table layouts themselves are in include/rsc_table.h (byte-compatible with Linux's).
 *
 *   FW_RSC_TABLE_STD(resource_table, 256, 0x1000);   // vring num, align
 *   int main(void) { fw_init(&resource_table, sizeof resource_table); ... }
 */
#ifndef FW_RSC_H
#define FW_RSC_H

#include <stdint.h>

#include "rsc_table.h"
#include "trace.h"

/* The host must reserve vring_size(num, align) for each vring; the default board has 0x4000. */
#define FW_VRING_SIZE(num, align) \
  ((((16u * (num) + 2u * (3u + (num))) + (align)-1u) & ~((align)-1u)) + 2u * 3u + 8u * (num))
#define FW_VRING_REGION 0x4000u

/* vdev notify id: distinct from the vring ids Linux assigns (0, 1, ...), as OpenAMP requires. */
#define FW_RPMSG_VDEV_NOTIFYID 31u

#define FW_RSC_TRACE_ENTRY(name_)                                                     \
  {                                                                                   \
    .type = RSC_TRACE, .da = (uint32_t)(uintptr_t)fw_trace_buf, .len = FW_TRACE_LEN, \
    .reserved = 0, .name = name_                                                      \
  }

/* An rpmsg vdev (id 7) offering name service, vrings placed by the host (da FW_RSC_ADDR_ANY). */
#define FW_RSC_RPMSG_VDEV_ENTRY(num_, align_)                                                   \
  {                                                                                             \
    .type = RSC_VDEV, .id = VIRTIO_ID_RPMSG, .notifyid = FW_RPMSG_VDEV_NOTIFYID,                \
    .dfeatures = 1u << VIRTIO_RPMSG_F_NS, .gfeatures = 0, .config_len = 0, .status = 0,         \
    .num_of_vrings = 2, .reserved = {0, 0},                                                     \
    .vring = {                                                                                  \
      {.da = FW_RSC_ADDR_ANY, .align = (align_), .num = (num_), .notifyid = 0, .pa = 0},        \
      {.da = FW_RSC_ADDR_ANY, .align = (align_), .num = (num_), .notifyid = 1, .pa = 0},        \
    }                                                                                           \
  }

/* The standard table: trace buffer, then the rpmsg vdev. */
struct fw_rsc_table_std {
  struct resource_table_hdr hdr;
  uint32_t offset[2];
  struct fw_rsc_trace trace;
  struct fw_rsc_vdev2 rpmsg;
} __attribute__((packed));

#define FW_RSC_TABLE_STD(var, num_, align_)                                                   \
  _Static_assert(((num_) & ((num_)-1u)) == 0 && (num_) > 0, "vring num must be a power of 2"); \
  _Static_assert(((align_) & ((align_)-1u)) == 0 && (align_) >= 16, "vring align: power of 2, >= 16"); \
  _Static_assert(FW_VRING_SIZE(num_, align_) <= FW_VRING_REGION, "vring larger than the board's 0x4000"); \
  RSC_TABLE_SECTION struct fw_rsc_table_std var = {                                           \
      .hdr = {.ver = 1, .num = 2, .reserved = {0, 0}},                                        \
      .offset = {__builtin_offsetof(struct fw_rsc_table_std, trace),                          \
                 __builtin_offsetof(struct fw_rsc_table_std, rpmsg)},                         \
      .trace = FW_RSC_TRACE_ENTRY("trace0"),                                                  \
      .rpmsg = FW_RSC_RPMSG_VDEV_ENTRY(num_, align_),                                         \
  }

#endif
