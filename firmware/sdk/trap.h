/*
 * Traps: interrupts go to the handlers registered here; exceptions go to fw_fault().
 *
 * What happens on a fault. The host learns of a fault only through the core model, which reports
 * an *unhandled* trap: one taken while mtvec does not point into RAM, or a trap loop inside the
 * handler. So the default fw_fault() writes one line with the cause to the UART and the trace
 * buffer, then calls fw_fault_unhandled(): mtvec := 0 and mstatus.MPIE := 0, and the trap returns
 * (mret) to the faulting instruction with interrupts off. That instruction faults again with no
 * handler, and the core stops and reports it with the original pc, mcause and mtval and every
 * register as they were at the fault (the vector restores them before mret).
 *
 * A firmware that wants to survive some faults overrides fw_fault (it is weak): fix the cause,
 * or move mepc past the instruction (fw_csr_write(mepc, ...)), and return — the trap then resumes
 * at mepc; call fw_fault_unhandled() for the faults it does not handle.
 */
#ifndef FW_TRAP_H
#define FW_TRAP_H

#include <stdint.h>

/* Interrupt numbers (mcause codes and mie/mip bits). */
#define FW_IRQ_SOFTWARE 3u
#define FW_IRQ_TIMER 7u
#define FW_IRQ_EXTERNAL 11u

/* Exception codes (mcause with the interrupt bit clear). */
#define FW_EXC_ILLEGAL_INSTRUCTION 2u
#define FW_EXC_BREAKPOINT 3u
#define FW_EXC_LOAD_ACCESS_FAULT 5u
#define FW_EXC_STORE_ACCESS_FAULT 7u
#define FW_EXC_ECALL_M 11u

typedef void (*fw_irq_handler)(void);

/* Point mtvec at the SDK's vector (direct mode). */
void fw_trap_init(void);
/*
 * Install (and enable in mie) the handler of interrupt irq, or disable it with NULL. Handlers run
 * with interrupts off; the event flag is signalled after each. An interrupt without a handler is
 * disabled in mie when it fires.
 */
void fw_irq_set_handler(uint32_t irq, fw_irq_handler handler);

/* Called for every exception; weak, see above. */
void fw_fault(uint32_t mcause, uint32_t mepc, uint32_t mtval);
/* One line naming the fault, to the UART and the trace buffer. */
void fw_fault_report(uint32_t mcause, uint32_t mepc, uint32_t mtval);
/* Make the fault unhandled: it recurs with no handler when the trap returns. */
void fw_fault_unhandled(void);
/* Text for an exception code. */
const char *fw_fault_name(uint32_t mcause);

/* The C side of the vector (called by trap.S). */
void fw_trap_dispatch(uint32_t mcause, uint32_t mepc, uint32_t mtval);

/*
 * With interrupts off: run the handlers of the interrupts pending and enabled in mie (external,
 * software, timer: the vector's priority order), each once, as the vector would once interrupts are
 * back on, without taking the trap. For a waiter that wfi has just woken (fw_wait_event).
 */
void fw_irq_take_pending(void);

#endif
