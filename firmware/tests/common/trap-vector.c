/* The vectored trap table and the register-saving stub shared by the machine-mode test programs. */
#include "platform.h"
#include "trap.h"

volatile struct trap_record last_trap;

__asm__(
    "  .section .text.trap_vector, \"ax\"\n"
    "  .balign 64\n"
    "  .globl trap_vector\n"
    "trap_vector:\n"
    "  .option push\n"
    "  .option norvc\n"
    "  j trap_stub\n" /* 0: exceptions */
    "  j trap_stub\n"
    "  j trap_stub\n"
    "  j trap_stub\n" /* 3: MSI */
    "  j trap_stub\n"
    "  j trap_stub\n"
    "  j trap_stub\n"
    "  j trap_stub\n" /* 7: MTI */
    "  j trap_stub\n"
    "  j trap_stub\n"
    "  j trap_stub\n"
    "  j trap_stub\n" /* 11: MEI */
    "  .option pop\n"
    "trap_stub:\n"
    "  addi sp, sp, -64\n"
    "  sw ra, 0(sp)\n  sw t0, 4(sp)\n  sw t1, 8(sp)\n  sw t2, 12(sp)\n"
    "  sw a0, 16(sp)\n  sw a1, 20(sp)\n  sw a2, 24(sp)\n  sw a3, 28(sp)\n"
    "  sw a4, 32(sp)\n  sw a5, 36(sp)\n  sw a6, 40(sp)\n  sw a7, 44(sp)\n"
    "  sw t3, 48(sp)\n  sw t4, 52(sp)\n  sw t5, 56(sp)\n  sw t6, 60(sp)\n"
    "  csrr a0, mcause\n"
    "  csrr a1, mtval\n"
    "  csrr a2, mepc\n"
    "  call trap_c\n"
    "  csrw mepc, a0\n"
    "  lw ra, 0(sp)\n  lw t0, 4(sp)\n  lw t1, 8(sp)\n  lw t2, 12(sp)\n"
    "  lw a0, 16(sp)\n  lw a1, 20(sp)\n  lw a2, 24(sp)\n  lw a3, 28(sp)\n"
    "  lw a4, 32(sp)\n  lw a5, 36(sp)\n  lw a6, 40(sp)\n  lw a7, 44(sp)\n"
    "  lw t3, 48(sp)\n  lw t4, 52(sp)\n  lw t5, 56(sp)\n  lw t6, 60(sp)\n"
    "  addi sp, sp, 64\n"
    "  mret\n"
    "  .text\n");

extern char trap_vector[];

void trap_install(void) {
  __asm__ volatile("csrw mtvec, %0" ::"r"((uint32_t)trap_vector | 1u));
}

/* Programs that expect no trap keep this default: any trap is a failure. */
__attribute__((weak)) uint32_t trap_c(uint32_t cause, uint32_t tval, uint32_t epc) {
  put_hex("unexpected trap, mcause", cause);
  put_hex("mtval", tval);
  put_hex("mepc", epc);
  finish(0, 0xee);
}
