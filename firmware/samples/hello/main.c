/*
 * hello: the smallest firmware that a Linux remoteproc host would boot. Its resource table asks
 * for a carveout, a trace buffer and an rpmsg vdev (two vrings, name service); it writes one line
 * to the trace buffer and sleeps. Used by `rproc inspect` tests and as a loader fixture.
 */
#include <stdint.h>
#include <string.h>

#include "rsc_table.h"

#define TRACE_LEN 1024u
#define VRING_NUM 256u
#define VRING_ALIGN 16u

static char trace_buf[TRACE_LEN];

struct hello_rsc_table {
  struct resource_table_hdr hdr;
  uint32_t offset[3];
  struct fw_rsc_carveout heap;
  struct fw_rsc_trace trace;
  struct fw_rsc_vdev2 rpmsg;
} __attribute__((packed));

RSC_TABLE_SECTION struct hello_rsc_table resource_table = {
    .hdr = {.ver = 1, .num = 3},
    .offset =
        {
            __builtin_offsetof(struct hello_rsc_table, heap),
            __builtin_offsetof(struct hello_rsc_table, trace),
            __builtin_offsetof(struct hello_rsc_table, rpmsg),
        },
    .heap = {.type = RSC_CARVEOUT, .da = FW_RSC_ADDR_ANY, .pa = FW_RSC_ADDR_ANY, .len = 0x8000, .name = "hello-heap"},
    .trace = {.type = RSC_TRACE, .da = (uint32_t)(uintptr_t)trace_buf, .len = TRACE_LEN, .name = "trace0"},
    .rpmsg =
        {
            .type = RSC_VDEV,
            .id = VIRTIO_ID_RPMSG,
            .notifyid = 0,
            .dfeatures = 1u << VIRTIO_RPMSG_F_NS,
            .num_of_vrings = 2,
            .vring =
                {
                    {.da = FW_RSC_ADDR_ANY, .align = VRING_ALIGN, .num = VRING_NUM, .notifyid = 0},
                    {.da = FW_RSC_ADDR_ANY, .align = VRING_ALIGN, .num = VRING_NUM, .notifyid = 1},
                },
        },
};

int main(void) {
  static const char line[] = "hello: firmware up\n";
  memcpy(trace_buf, line, sizeof line);
  for (;;) __asm__ volatile("wfi");
}
