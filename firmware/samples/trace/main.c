/*
 * trace: writes a numbered line into the trace buffer every 10 ms from the CLINT timer interrupt
 * ("trace: line N at T ms"), so the host sees the buffer fill and start over. Also announces
 * "rpmsg-trace", which answers any message with "lines N".
 */
#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

FW_RSC_TABLE_STD(resource_table, 64, 16);

#define PERIOD_MS 10u

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;
static struct fw_timer tick;
static volatile uint32_t lines;
static uint64_t start;

static void tick_fn(struct fw_timer *t, void *arg) {
  (void)t;
  (void)arg;
  uint32_t ms = timer_to_ms(timer_now() - start);
  lines++;
  trace_printf("trace: line %u at %u ms\n", (unsigned)lines, (unsigned)ms);
}

static int trace_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)data;
  (void)len;
  (void)priv;
  char msg[32];
  int k = fw_snprintf(msg, sizeof msg, "lines %u", (unsigned)lines);
  rpmsg_sendto(e, msg, (size_t)k, src);
  return 0;
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_puts("trace: firmware up\n");
  trace_puts("trace: firmware up\n");
  start = timer_now();
  timer_start(&tick, timer_ms(PERIOD_MS), timer_ms(PERIOD_MS), tick_fn, 0);
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, "rpmsg-trace", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, trace_cb, 0) != 0) {
    trace_puts("trace: unusable resource table\n");
    for (;;) fw_wait_event(0);
  }
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}
