/*
 * sdtrig: the debug trigger CSRs (Sdtrig) from machine mode, checked from inside as riscv-tests'
 * isa/rv64mi/breakpoint.S does: an execute trigger traps (mcause 3) before the instruction runs
 * while a load from the same address does not; a load trigger traps before the load (the
 * destination keeps its value) and not on a store; a store trigger traps before the store (memory
 * keeps its value); a second trigger works alongside the first. Also: tselect ignores an index past
 * the last trigger (how software counts them), a trigger enabled only for U/S mode never fires in
 * M-mode, and the fields QEMU does not implement (action, match, ...) read back as 0. Values that
 * differ between our core and QEMU 7.2 (trigger count, mtval) are printed, not checked, so the
 * program also passes on qemu-system-riscv32 -M virt.
 */
#include <stdint.h>

#include "common/platform.h"
#include "common/trap.h"

#define TYPE2 (2u << 28)
#define M_MODE (1u << 6)
#define S_MODE (1u << 4)
#define U_MODE (1u << 3)
#define EXECUTE (1u << 2)
#define STORE (1u << 1)
#define LOAD (1u << 0)
#define ACTION_DEBUG (1u << 12)
#define MATCH_GE (2u << 7)

static volatile uint32_t data1, data2;

/* A 4-byte instruction to put an execute trigger on: a0 + 1, or a0 if it trapped (and was skipped). */
__asm__(
    "  .section .text.trig_target, \"ax\"\n"
    "  .balign 4\n"
    "  .globl trig_target\n"
    "trig_target:\n"
    "  .option push\n"
    "  .option norvc\n"
    "  addi a0, a0, 1\n"
    "  .option pop\n"
    "  ret\n"
    "  .text\n");
uint32_t trig_target(uint32_t);

uint32_t trap_c(uint32_t cause, uint32_t tval, uint32_t epc) {
  last_trap.cause = cause;
  last_trap.tval = tval;
  last_trap.epc = epc;
  last_trap.count++;
  return epc + insn_len(epc);
}

static void csr_tselect(uint32_t v) { __asm__ volatile("csrw tselect, %0" ::"r"(v)); }
static uint32_t csr_read_tselect(void) {
  uint32_t v;
  __asm__ volatile("csrr %0, tselect" : "=r"(v));
  return v;
}
static void csr_tdata1(uint32_t v) { __asm__ volatile("csrw tdata1, %0" ::"r"(v)); }
static uint32_t csr_read_tdata1(void) {
  uint32_t v;
  __asm__ volatile("csrr %0, tdata1" : "=r"(v));
  return v;
}
static void csr_tdata2(uint32_t v) { __asm__ volatile("csrw tdata2, %0" ::"r"(v)); }

static void arm(uint32_t index, uint32_t tdata1, uint32_t addr) {
  csr_tselect(index);
  csr_tdata1(TYPE2); /* disarmed while the address changes */
  csr_tdata2(addr);
  csr_tdata1(tdata1);
}

static void disarm(uint32_t index) {
  csr_tselect(index);
  csr_tdata1(TYPE2);
}

/* Load and store with the exact instructions the checks talk about. */
static uint32_t load(volatile uint32_t *p, uint32_t keep) {
  __asm__ volatile(".option push\n.option norvc\nlw %0, 0(%1)\n.option pop" : "+r"(keep) : "r"(p) : "memory");
  return keep;
}
static void store(volatile uint32_t *p, uint32_t v) {
  __asm__ volatile(".option push\n.option norvc\nsw %0, 0(%1)\n.option pop" ::"r"(v), "r"(p) : "memory");
}

int main(void) {
  trap_install();

  /* tcontrol is optional (QEMU has none): a trap here is skipped by the handler. */
  uint32_t n = last_trap.count;
  __asm__ volatile("csrsi 0x7a5, 8");
  put_hex("tcontrol_traps", last_trap.count - n);

  csr_tselect(0);
  CHECK(csr_read_tselect() == 0, 1);
  uint32_t count = 0;
  for (uint32_t i = 0; i < 16; i++) {
    csr_tselect(i);
    if (csr_read_tselect() == i) count = i + 1;
  }
  put_hex("triggers", count);
  CHECK(count >= 2, 2);
  uint32_t tinfo;
  __asm__ volatile("csrr %0, tinfo" : "=r"(tinfo));
  put_hex("tinfo", tinfo);
  CHECK((tinfo & (1u << 2)) != 0, 3);

  /* Execute trigger: traps before the instruction; the handler skips it. */
  uint32_t target = (uint32_t)(uintptr_t)trig_target;
  arm(0, TYPE2 | M_MODE | EXECUTE, target);
  CHECK(csr_read_tdata1() == (TYPE2 | M_MODE | EXECUTE), 10);
  n = last_trap.count;
  uint32_t r = trig_target(5);
  CHECK(r == 5 && last_trap.count == n + 1 && last_trap.cause == 3 && last_trap.epc == target, 11);
  put_hex("exec_tval_is_pc", last_trap.tval == target);
  /* Reading the instruction's word is not executing it. */
  n = last_trap.count;
  (void)load((volatile uint32_t *)(uintptr_t)target, 0);
  CHECK(last_trap.count == n, 12);
  disarm(0);
  CHECK(trig_target(5) == 6 && last_trap.count == n, 13);

  /* Load trigger: the load traps and its destination keeps its value; a store does not trap. */
  data1 = 0x1234;
  arm(0, TYPE2 | M_MODE | LOAD, (uint32_t)(uintptr_t)&data1);
  n = last_trap.count;
  r = load(&data1, 0x77);
  CHECK(r == 0x77 && last_trap.count == n + 1 && last_trap.cause == 3, 20);
  put_hex("load_tval_is_addr", last_trap.tval == (uint32_t)(uintptr_t)&data1);
  n = last_trap.count;
  store(&data1, 0);
  CHECK(last_trap.count == n, 21);

  /* Store trigger: the store traps and memory keeps its value. */
  arm(0, TYPE2 | M_MODE | STORE, (uint32_t)(uintptr_t)&data1);
  n = last_trap.count;
  store(&data1, 0x55);
  CHECK(last_trap.count == n + 1 && last_trap.cause == 3, 30);
  CHECK(load(&data1, 0x99) == 0, 31);

  /* A second trigger (load on data2) alongside the first (store on data1). */
  csr_tselect(1);
  CHECK(csr_read_tselect() == 1, 40);
  arm(1, TYPE2 | M_MODE | LOAD, (uint32_t)(uintptr_t)&data2);
  n = last_trap.count;
  r = load(&data2, 0x42);
  CHECK(r == 0x42 && last_trap.count == n + 1, 41);
  n = last_trap.count;
  store(&data1, 0x66);
  CHECK(last_trap.count == n + 1 && load(&data1, 0x99) == 0 && last_trap.count == n + 1, 42);
  disarm(0);
  disarm(1);

  /* A trigger for U and S mode only never fires in M-mode. */
  arm(0, TYPE2 | U_MODE | S_MODE | EXECUTE, target);
  n = last_trap.count;
  CHECK(trig_target(1) == 2 && last_trap.count == n, 50);
  /* Fields beyond type, size and the mode/access bits read 0 (QEMU keeps only those). */
  arm(0, TYPE2 | ACTION_DEBUG | MATCH_GE | M_MODE | LOAD, (uint32_t)(uintptr_t)&data2);
  put_hex("tdata1_legal", csr_read_tdata1());
  CHECK(csr_read_tdata1() == (TYPE2 | M_MODE | LOAD), 51);
  disarm(0);

  put_str("sdtrig: PASS\n");
  finish(1, 0);
}
