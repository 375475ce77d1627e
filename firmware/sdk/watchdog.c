/* The core's watchdog (watchdog.h). */
#include "fw.h"

void wdt_start(uint32_t period_ms) { mmio_write32(FW_WDT_BASE + FW_WDT_PERIOD_MS, period_ms); }

void wdt_kick(void) { mmio_write32(FW_WDT_BASE + FW_WDT_KICK, 1); }

void wdt_stop(void) { mmio_write32(FW_WDT_BASE + FW_WDT_PERIOD_MS, 0); }
