/*
 * crash: announces "crasher" and echoes, except for two commands that fault on purpose:
 * "illegal" executes an illegal instruction (crash_illegal), "store" stores to the unmapped
 * address 0x0000_1000 (crash_store). Both are left unhandled (sdk/trap.h): after a line on the
 * UART and in the trace buffer the instruction re-executes with mtvec = 0, and the core reports
 * the fault with its pc, mcause and mtval.
 */
#include <string.h>

#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

FW_RSC_TABLE_STD(resource_table, 64, 16);

#define BAD_ADDRESS 0x00001000u

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;

__attribute__((noinline)) static void crash_illegal(void) { __asm__ volatile("unimp" ::: "memory"); }

__attribute__((noinline)) static void crash_store(void) { *(volatile uint32_t *)BAD_ADDRESS = 0xdeadbeefu; }

static int is_cmd(const void *data, size_t len, const char *cmd) {
  size_t n = strlen(cmd);
  return len == n && memcmp(data, cmd, n) == 0;
}

static int crash_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)priv;
  if (is_cmd(data, len, "illegal")) {
    trace_puts("crash: executing an illegal instruction\n");
    crash_illegal();
  } else if (is_cmd(data, len, "store")) {
    trace_printf("crash: storing to 0x%08x\n", BAD_ADDRESS);
    crash_store();
  }
  rpmsg_sendto(e, data, len, src);
  return 0;
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_puts("crash: firmware up\n");
  trace_puts("crash: firmware up\n");
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, "crasher", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, crash_cb, 0) != 0) {
    trace_puts("crash: unusable resource table\n");
    fw_park();
  }
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}
