/* The core's mailbox (mailbox.h): doorbells in both directions and the published table address. */
#include "fw.h"

static volatile uint32_t pending_ids;
static volatile uint32_t detach_count;

static void take_events(void) {
  if (mmio_read32(FW_MBOX_BASE + FW_MBOX_EVENTS) & FW_MBOX_EVENT_DETACHED) detach_count++;
}

uint32_t mbox_take(void) { return mmio_read32(FW_MBOX_BASE + FW_MBOX_H2C_TAKE); }

void mbox_notify(uint32_t notifyid) {
  /* Everything written to shared memory before the doorbell is visible to the host when it
   * rings (mmio_write32 fences earlier stores before the device store). */
  fw_mb();
  mmio_write32(FW_MBOX_BASE + FW_MBOX_C2H_NOTIFY, notifyid);
}

void mbox_irq_enable(int on) { mmio_write32(FW_MBOX_BASE + FW_MBOX_IRQ_ENABLE, on ? 1u : 0u); }

void mbox_publish_table(const void *table, uint32_t size) {
  mmio_write32(FW_MBOX_BASE + FW_MBOX_RSC_DA, (uint32_t)(uintptr_t)table);
  mmio_write32(FW_MBOX_BASE + FW_MBOX_RSC_SIZE, size);
}

uint32_t mbox_pending(void) {
  uint32_t flags = fw_irq_save();
  uint32_t ids = pending_ids;
  pending_ids = 0;
  fw_irq_restore(flags);
  return ids;
}

uint32_t mbox_detach_count(void) {
  /* Read here too: a firmware that polls without the mailbox interrupt still sees a detach. */
  uint32_t flags = fw_irq_save();
  take_events();
  uint32_t n = detach_count;
  fw_irq_restore(flags);
  return n;
}

void mbox_isr(void) {
  /* Taking the ids and events lowers MEIP; the event flag (set by the dispatcher) wakes the main loop. */
  pending_ids |= mbox_take();
  take_events();
}
