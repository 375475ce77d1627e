/*
 * atomics: the A extension from inside: every AMO's result and old value, LR/SC success, SC
 * failing without a reservation, after another store to the reserved word, and after a second
 * SC, and an LR/SC counter loop. Results that depend on implementation choices the spec leaves
 * open (SC after a trap) are printed for the host test to check, not checked here.
 */
#include <stdint.h>

#include "common/platform.h"
#include "common/trap.h"

static volatile int32_t word __attribute__((aligned(4)));

static int32_t amo(int op, int32_t init, int32_t src, int32_t *old) {
  int32_t r = 0;
  word = init;
  switch (op) {
    case 0: __asm__ volatile("amoswap.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 1: __asm__ volatile("amoadd.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 2: __asm__ volatile("amoxor.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 3: __asm__ volatile("amoand.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 4: __asm__ volatile("amoor.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 5: __asm__ volatile("amomin.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 6: __asm__ volatile("amomax.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    case 7: __asm__ volatile("amominu.w %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
    default: __asm__ volatile("amomaxu.w.aqrl %0, %1, (%2)" : "=r"(r) : "r"(src), "r"(&word) : "memory"); break;
  }
  *old = r;
  return word;
}

static int32_t lr(volatile int32_t *p) {
  int32_t v;
  __asm__ volatile("lr.w %0, (%1)" : "=r"(v) : "r"(p) : "memory");
  return v;
}

static int32_t sc(volatile int32_t *p, int32_t v) {
  int32_t r;
  __asm__ volatile("sc.w %0, %1, (%2)" : "=r"(r) : "r"(v), "r"(p) : "memory");
  return r;
}

uint32_t trap_c(uint32_t cause, uint32_t tval, uint32_t epc) {
  last_trap.cause = cause;
  last_trap.tval = tval;
  last_trap.count++;
  return epc + insn_len(epc);
}

int main(void) {
  static const struct {
    int32_t init, src, result;
  } cases[9] = {
      {5, 9, 9},                                  /* swap */
      {0x7fffffff, 1, (int32_t)0x80000000},       /* add wraps */
      {0x0f0f, 0x00ff, 0x0ff0},                   /* xor */
      {0x0f0f, 0x00ff, 0x000f},                   /* and */
      {0x0f00, 0x00ff, 0x0fff},                   /* or */
      {-5, 3, -5},                                /* min (signed) */
      {-5, 3, 3},                                 /* max (signed) */
      {-5, 3, 3},                                 /* minu: 3 < 0xfffffffb */
      {-5, 3, -5},                                /* maxu */
  };
  for (int i = 0; i < 9; i++) {
    int32_t old;
    int32_t r = amo(i, cases[i].init, cases[i].src, &old);
    CHECK(old == cases[i].init && r == cases[i].result, 1 + i);
  }
  /* LR/SC pairs. */
  word = 10;
  CHECK(lr(&word) == 10 && sc(&word, 11) == 0 && word == 11, 20);
  CHECK(sc(&word, 12) != 0 && word == 11, 21); /* the reservation went with the first SC */
  (void)lr(&word);
  word = 13; /* another store to the reserved word */
  CHECK(sc(&word, 14) != 0 && word == 13, 22);
  /* A counter incremented by an LR/SC loop. */
  word = 0;
  for (int i = 0; i < 100; i++) {
    int32_t v;
    do v = lr(&word);
    while (sc(&word, v + 1) != 0);
  }
  CHECK(word == 100, 23);
  /* SC after a trap between LR and SC: our core clears the reservation on trap entry. */
  trap_install();
  (void)lr(&word);
  __asm__ volatile("ecall" ::: "memory");
  put_hex("sc_after_trap", (uint32_t)sc(&word, 7));
  put_str("atomics: PASS\n");
  return 0;
}
