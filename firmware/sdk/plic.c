/* PLIC source routing (plic.h). */
#include "fw.h"
#include "plic.h"

static fw_irq_handler source_handlers[FW_PLIC_SOURCES];

static volatile uint32_t *plic_reg(uint32_t offset) { return (volatile uint32_t *)(FW_PLIC_BASE + offset); }

void plic_set_handler(uint32_t source, uint32_t priority, fw_irq_handler handler) {
  if (source == 0 || source >= FW_PLIC_SOURCES) return;
  uint32_t flags = fw_irq_save();
  source_handlers[source] = handler;
  volatile uint32_t *enable = plic_reg(FW_PLIC_ENABLE + 4u * (source / 32u));
  if (handler != 0) {
    *plic_reg(FW_PLIC_PRIORITY(source)) = priority;
    *enable |= 1u << (source % 32u);
    *plic_reg(FW_PLIC_THRESHOLD) = 0;
    fw_irq_set_handler(FW_IRQ_EXTERNAL, plic_external_isr);
  } else {
    *enable &= ~(1u << (source % 32u));
  }
  fw_irq_restore(flags);
}

void plic_external_isr(void) {
  mbox_isr();
  uint32_t source;
  while ((source = *plic_reg(FW_PLIC_CLAIM)) != 0) {
    fw_irq_handler h = source < FW_PLIC_SOURCES ? source_handlers[source] : 0;
    if (h != 0) h();
    *plic_reg(FW_PLIC_CLAIM) = source;
  }
}
