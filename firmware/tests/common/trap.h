/*
 * Machine-mode trap plumbing for the bare-metal test programs: a vectored mtvec table whose
 * entry 0 (exceptions) and entries 3/7/11 (software/timer/external interrupts) all go through
 * one assembly stub that saves the caller-saved registers and calls trap_c(), which returns the
 * mepc to resume at. Tests read what the last trap reported from `last_trap`.
 */
#ifndef TESTS_TRAP_H
#define TESTS_TRAP_H
#include <stdint.h>

struct trap_record {
  uint32_t cause, tval, epc, mstatus, count;
};
extern volatile struct trap_record last_trap;

/* Called from the stub with the trap CSRs; returns the pc to resume at. Defined by each program. */
uint32_t trap_c(uint32_t cause, uint32_t tval, uint32_t epc);

/* Install the vector table in vectored mode (mtvec = table | 1). */
void trap_install(void);

static inline uint32_t csr_read_mstatus(void) {
  uint32_t v;
  __asm__ volatile("csrr %0, mstatus" : "=r"(v));
  return v;
}

/* Length of the instruction at pc (2 for compressed), to step past a faulting one. */
static inline uint32_t insn_len(uint32_t pc) {
  return ((*(volatile uint16_t *)pc) & 3u) == 3u ? 4u : 2u;
}

#define CHECK(cond, code)                          \
  do {                                             \
    if (!(cond)) {                                 \
      put_hex("check failed at line", __LINE__);   \
      finish(0, (code));                           \
    }                                              \
  } while (0)

#endif
