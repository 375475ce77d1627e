/*
 * ping: announces "rpmsg-ping". The host speaks first — that is how the remote learns its
 * address. A message holding a decimal count N (1..100000) makes the firmware send N messages
 * back, "1" to "N" in order, then "done N"; anything else gets "error: ...". Counts above the
 * host's 256 buffers exercise the blocking send (waiting for the host to post buffers again).
 */
#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

FW_RSC_TABLE_STD(resource_table, 64, 16);

#define MAX_COUNT 100000u

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;
static uint32_t total;

static int parse_count(const char *s, size_t len, uint32_t *out) {
  uint32_t v = 0;
  if (len == 0 || len > 6) return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10u + (uint32_t)(s[i] - '0');
  }
  if (v == 0 || v > MAX_COUNT) return -1;
  *out = v;
  return 0;
}

static int ping_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)priv;
  char msg[32];
  uint32_t n;
  if (parse_count(data, len, &n) != 0) {
    static const char err[] = "error: send a count from 1 to 100000";
    rpmsg_sendto(e, err, sizeof err - 1, src);
    return 0;
  }
  uint32_t sent = 0;
  for (uint32_t i = 1; i <= n; i++) {
    int k = fw_snprintf(msg, sizeof msg, "%u", (unsigned)i);
    int rc = rpmsg_sendto(e, msg, (size_t)k, src);
    if (rc < 0) {
      trace_printf("ping: message %u to 0x%x failed: %d\n", (unsigned)i, (unsigned)src, rc);
      return 0;
    }
    sent++;
  }
  total += sent;
  int k = fw_snprintf(msg, sizeof msg, "done %u", (unsigned)sent);
  rpmsg_sendto(e, msg, (size_t)k, src);
  trace_printf("ping: sent %u to 0x%x (%u in all)\n", (unsigned)sent, (unsigned)src, (unsigned)total);
  return 0;
}

static void on_state(struct rpmsg_device *d, int state) {
  (void)d;
  if (state == RPMSG_READY) trace_printf("ping: host up, rpmsg-ping at 0x%x\n", (unsigned)ept.addr);
  else if (state == RPMSG_WAIT_DRIVER_OK) trace_puts("ping: host reset\n");
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_puts("ping: firmware up\n");
  trace_puts("ping: firmware up\n");
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, "rpmsg-ping", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, ping_cb, 0) != 0) {
    trace_puts("ping: unusable resource table\n");
    fw_park();
  }
  rdev.state_cb = on_state;
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}
