/* bench under qemu-riscv32 user mode (Linux write/exit system calls), linked by linux.ld. */
#include "bench.h"

static long syscall3(long n, long a, long b, long c) {
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

void bench_out(const char *s) {
  long n = 0;
  while (s[n] != 0) n++;
  syscall3(64 /* write */, 1, (long)s, n);
}

void linux_main(void) __attribute__((noreturn));
void linux_main(void) {
  int rc = bench_main();
  syscall3(93 /* exit */, rc, 0, 0);
  for (;;) {
  }
}
