/*
 * watchdog: arms a 100 ms watchdog at boot and kicks it every 20 ms from the CLINT timer
 * interrupt. Announces "watchdog" and echoes; the message "starve" stops the kicks (reply
 * "starving"), so the watchdog bites within 100 ms and the host gets a watchdog crash report.
 */
#include <string.h>

#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

FW_RSC_TABLE_STD(resource_table, 64, 16);

#define WDT_PERIOD_MS 100u
#define KICK_PERIOD_MS 20u

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;
static struct fw_timer kicker;
static volatile uint32_t starving;
static volatile uint32_t kicks;

static void kick_fn(struct fw_timer *t, void *arg) {
  (void)t;
  (void)arg;
  if (starving) return;
  wdt_kick();
  kicks++;
}

static int wdt_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)priv;
  if (len == 6 && memcmp(data, "starve", 6) == 0) {
    starving = 1;
    trace_printf("watchdog: starving after %u kicks; expect a bite within %u ms\n", (unsigned)kicks,
                 WDT_PERIOD_MS);
    static const char reply[] = "starving";
    rpmsg_sendto(e, reply, sizeof reply - 1, src);
    return 0;
  }
  rpmsg_sendto(e, data, len, src);
  return 0;
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_puts("watchdog: firmware up\n");
  wdt_start(WDT_PERIOD_MS);
  timer_start(&kicker, timer_ms(KICK_PERIOD_MS), timer_ms(KICK_PERIOD_MS), kick_fn, 0);
  trace_printf("watchdog: armed for %u ms, kicking every %u ms\n", WDT_PERIOD_MS, KICK_PERIOD_MS);
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, "watchdog", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, wdt_cb, 0) != 0) {
    trace_puts("watchdog: unusable resource table\n");
    for (;;) fw_wait_event(0);
  }
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}
