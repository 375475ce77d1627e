/*
 * The bench kernels and what they need from where they run: bench_main() computes, checks and
 * prints; the platform prints text and ends the program. Two platforms: main.c (a core of the
 * virtual SoC, or qemu-system-riscv32 -M virt -bios none: UART, trace buffer, test finisher) and
 * linux.c (qemu-riscv32 user mode: Linux write/exit).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

void bench_out(const char *s);
/* Returns 0 when every check passed, else the number of the first kernel that failed. */
int bench_main(void);

#endif
