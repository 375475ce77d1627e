/* The core's watchdog: armed with a period in ms, it bites (crash report) unless kicked in time. */
#ifndef FW_WATCHDOG_H
#define FW_WATCHDOG_H

#include <stdint.h>

void wdt_start(uint32_t period_ms);
void wdt_kick(void);
void wdt_stop(void);

#endif
