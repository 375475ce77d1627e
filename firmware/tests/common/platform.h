/*
 * What a self-checking test program needs from where it runs: print text and end with a verdict.
 * Two implementations: virt/platform.c (bare metal on QEMU's riscv virt machine or our rv32 core:
 * ns16550a UART at 0x1000_0000, SiFive test finisher at 0x0010_0000) and linux/platform.c
 * (qemu-riscv32 user mode: Linux write/exit system calls), so that the same computation runs
 * under both and the printed checksums can be compared.
 */
#ifndef TESTS_PLATFORM_H
#define TESTS_PLATFORM_H
#include <stdint.h>

void put_str(const char *s);
/* Prints "label=xxxxxxxx\n" (8 lower-case hex digits). */
void put_hex(const char *label, uint32_t v);
/* Ends the program: pass (finisher 0x5555 / exit 0) or fail (0x3333 with code / exit code). */
void finish(int pass, uint32_t code) __attribute__((noreturn));

#endif
