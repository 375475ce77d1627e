/*
 * The core's mailbox: notify ids in both directions (the remoteproc kick), and the address of the
 * running firmware's resource table for a host that attaches. fw_init() installs the mailbox
 * interrupt: it takes the pending ids and host events (which lowers MEIP), accumulates them for
 * mbox_pending() and mbox_detach_count(), and signals the event flag.
 */
#ifndef FW_MAILBOX_H
#define FW_MAILBOX_H

#include <stdint.h>

/* Read and clear the ids the host kicked (bit n = id n; bit 31 = some id >= 31). */
uint32_t mbox_take(void);
/* Ring the host with a notify id. Ordered after every earlier store to memory. */
void mbox_notify(uint32_t notifyid);
/* Raise the machine external interrupt while host -> core ids are pending (1) or not (0). */
void mbox_irq_enable(int on);
void mbox_publish_table(const void *table, uint32_t size);
/* The ids taken by the interrupt handler since the last call (and clears them). */
uint32_t mbox_pending(void);
/*
 * How many times the host has detached (rproc_detach) since reset. A counter, not a flag, so that
 * every rpmsg device sees each detach once: one that sees it change starts its session over.
 */
uint32_t mbox_detach_count(void);
/* The interrupt handler fw_init() installs. */
void mbox_isr(void);

#endif
