/*
 * The firmware SDK for the remote cores of the virtual AMP SoC: one include for everything but
 * the rpmsg library (rpmsg/rpmsg.h). Call fw_init() first thing in main(); it installs the trap
 * vector, the timer and mailbox interrupts, and publishes the resource table.
 */
#ifndef FW_H
#define FW_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "format.h"
#include "mailbox.h"
#include "mmio.h"
#include "plic.h"
#include "timer.h"
#include "trace.h"
#include "trap.h"
#include "uart.h"
#include "watchdog.h"

/*
 * Bring the core up: trap vector, CLINT timer and mailbox interrupts enabled (mstatus.MIE set on
 * return), and the resource table published through the mailbox (RSC_DA/RSC_SIZE) for a host
 * that attaches later. rsc_table may be NULL (nothing published).
 */
void fw_init(const void *rsc_table, uint32_t rsc_size);

/*
 * Event flag for "something happened, look for work": set by every interrupt (mailbox doorbell,
 * timer) and by fw_event_signal(). fw_wait_event() sleeps in wfi until it is set or
 * timeout_ticks (CLINT ticks, 0 = no timeout) pass, then clears it. The check and the wfi run
 * with interrupts off, so an event between the caller's last look and the sleep is not lost.
 */
void fw_event_signal(void);
void fw_wait_event(uint64_t timeout_ticks);

/* End the program through the SiFive test finisher: 0 = pass, else fail with code (1..0xFFFF). */
void fw_exit(uint32_t code) __attribute__((noreturn));
/* Ask the board to reset the core (finisher 0x7777). */
void fw_reset(void) __attribute__((noreturn));
/* Park: interrupts off, wfi forever (the host sees a core that does nothing). */
void fw_park(void) __attribute__((noreturn));

#endif
