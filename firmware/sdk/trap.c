/* Trap dispatch: interrupts to registered handlers, exceptions to the weak fw_fault (trap.h). */
#include "fw.h"

extern void fw_trap_entry(void);

/* Indexed by interrupt code; only 3 (software), 7 (timer) and 11 (external) exist. */
static fw_irq_handler irq_handlers[12];

void fw_trap_init(void) { fw_csr_write(mtvec, (uintptr_t)fw_trap_entry); }

void fw_irq_set_handler(uint32_t irq, fw_irq_handler handler) {
  if (irq != FW_IRQ_SOFTWARE && irq != FW_IRQ_TIMER && irq != FW_IRQ_EXTERNAL) return;
  uint32_t flags = fw_irq_save();
  irq_handlers[irq] = handler;
  if (handler != 0)
    fw_csr_set(mie, 1u << irq);
  else
    fw_csr_clear(mie, 1u << irq);
  fw_irq_restore(flags);
}

const char *fw_fault_name(uint32_t mcause) {
  switch (mcause) {
    case 0: return "instruction address misaligned";
    case 1: return "instruction access fault";
    case 2: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "load address misaligned";
    case 5: return "load access fault";
    case 6: return "store/AMO address misaligned";
    case 7: return "store/AMO access fault";
    case 11: return "environment call from M-mode";
    default: return "exception";
  }
}

void fw_fault_report(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  char line[128];
  int n = fw_snprintf(line, sizeof line, "fault: %s (mcause 0x%x) at pc 0x%08x, mtval 0x%08x\n",
                      fw_fault_name(mcause), (unsigned)mcause, (unsigned)mepc, (unsigned)mtval);
  if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
  uart_write(line, (size_t)n);
  trace_write(line, (size_t)n);
}

void fw_fault_unhandled(void) {
  /* No handler for the next trap, and no interrupt between mret and the faulting instruction. */
  fw_csr_write(mtvec, 0);
  fw_csr_clear(mstatus, FW_MSTATUS_MPIE);
}

__attribute__((weak)) void fw_fault(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  fw_fault_report(mcause, mepc, mtval);
  fw_fault_unhandled();
}

void fw_trap_dispatch(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  if ((int32_t)mcause >= 0) {
    fw_fault(mcause, mepc, mtval);
    return;
  }
  uint32_t code = mcause & 0x7fffffffu;
  fw_irq_handler h = code < sizeof irq_handlers / sizeof irq_handlers[0] ? irq_handlers[code] : 0;
  if (h != 0)
    h();
  else if (code < 32)
    fw_csr_clear(mie, 1u << code); /* nobody wants it: stop it from firing again */
  fw_event_signal();
}

void fw_irq_take_pending(void) {
  /* One pass: whatever is pending after it (or raised by a handler) is the vector's, at the restore. */
  uint32_t p = fw_csr_read(mip) & fw_csr_read(mie);
  if (p == 0) return;
  if (p & (1u << FW_IRQ_EXTERNAL)) fw_trap_dispatch(0x80000000u | FW_IRQ_EXTERNAL, 0, 0);
  if (p & (1u << FW_IRQ_SOFTWARE)) fw_trap_dispatch(0x80000000u | FW_IRQ_SOFTWARE, 0, 0);
  if (p & (1u << FW_IRQ_TIMER)) fw_trap_dispatch(0x80000000u | FW_IRQ_TIMER, 0, 0);
}
