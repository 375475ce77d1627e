/*
 * The PLIC (platform-level interrupt controller, QEMU virt layout): device interrupts such as the
 * UART's (source 10) reach the core as the machine external interrupt, which it shares with the
 * mailbox. plic_set_handler() routes one source to a handler; from then on the external interrupt
 * serves the mailbox (as fw_init set it up) and then claims and completes every pending PLIC source.
 */
#ifndef FW_PLIC_H
#define FW_PLIC_H

#include <stdint.h>

#include "trap.h"

/* Enable `source` at `priority` (1..7) with `handler`, or disable it with NULL. */
void plic_set_handler(uint32_t source, uint32_t priority, fw_irq_handler handler);

/* The external interrupt handler plic_set_handler() installs: mailbox, then the PLIC's sources. */
void plic_external_isr(void);

#endif
