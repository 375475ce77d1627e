/* fw_init, the event flag and wait, and the ways out (fw.h). */
#include "fw.h"

static volatile uint32_t fw_events;

void fw_init(const void *rsc_table, uint32_t rsc_size) {
  fw_irq_disable();
  fw_trap_init();
  timer_init();
  fw_irq_set_handler(FW_IRQ_TIMER, timer_isr);
  fw_irq_set_handler(FW_IRQ_EXTERNAL, mbox_isr);
  mbox_irq_enable(1);
  if (rsc_table != 0) mbox_publish_table(rsc_table, rsc_size);
  fw_irq_enable();
}

void fw_event_signal(void) { fw_events = 1; }

void fw_wait_event(uint64_t timeout_ticks) {
  struct fw_timer wake;
  wake.active = 0; /* timer_start fills in the rest */
  uint32_t flags = fw_irq_save();
  if (fw_events == 0) {
    if (timeout_ticks != 0) timer_start(&wake, timeout_ticks, 0, 0, 0);
    /* wfi returns once an interrupt enabled in mie is pending, even with MIE clear: nothing that
     * happened after the check above is missed. */
    if (fw_events == 0) fw_wfi();
    if (timeout_ticks != 0) timer_stop(&wake);
    /* What woke us is handled here, interrupts still off, as the vector would have at the restore
     * below: the same handlers, without saving and restoring sixteen registers around them. */
    if (flags != 0) fw_irq_take_pending();
  }
  fw_irq_restore(flags); /* anything still pending is taken here */
  fw_events = 0;
}

void fw_exit(uint32_t code) {
  uint32_t v = code == 0 ? FW_FINISHER_PASS : ((code & 0xffffu) << 16) | FW_FINISHER_FAIL;
  if (code != 0 && (code & 0xffffu) == 0) v = (1u << 16) | FW_FINISHER_FAIL;
  mmio_write32(FW_FINISHER_BASE, v);
  fw_park();
}

void fw_reset(void) {
  mmio_write32(FW_FINISHER_BASE, FW_FINISHER_RESET);
  fw_park();
}

void fw_park(void) {
  fw_irq_disable();
  fw_csr_write(mie, 0); /* nothing can wake it: wfi sleeps for good */
  for (;;) fw_wfi();
}
