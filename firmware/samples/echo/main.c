/*
 * echo: announces the channel "rpmsg-echo" and sends every message back to its sender, unchanged.
 * A banner on the UART at boot; trace lines at boot, at each host handshake or reset, on the
 * first message and every 1024 messages. The firmware of the rv32 integration tests and of the
 * rpmsg benchmarks.
 */
#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

FW_RSC_TABLE_STD(resource_table, 256, 0x1000);

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;
static uint32_t echoed;

static int echo_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)priv;
  int rc = rpmsg_sendto(e, data, len, src);
  if (rc < 0) {
    trace_printf("echo: reply to 0x%x failed: %d\n", (unsigned)src, rc);
    return 0;
  }
  echoed++;
  if (echoed == 1)
    trace_printf("echo: first message, %u bytes from 0x%x\n", (unsigned)len, (unsigned)src);
  else if ((echoed & 1023u) == 0)
    trace_printf("echo: %u messages\n", (unsigned)echoed);
  return 0;
}

static void on_state(struct rpmsg_device *d, int state) {
  if (state == RPMSG_READY)
    trace_printf("echo: host up (features 0x%x), rpmsg-echo at 0x%x\n", (unsigned)d->features, (unsigned)ept.addr);
  else if (state == RPMSG_INVALID)
    trace_puts("echo: the host's vring setup was refused\n");
  else
    trace_puts("echo: host reset, waiting for it\n");
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_puts("echo: firmware up\n");
  trace_puts("echo: firmware up\n");
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, "rpmsg-echo", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, echo_cb, 0) != 0) {
    trace_puts("echo: unusable resource table\n");
    fw_park();
  }
  rdev.state_cb = on_state;
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}
