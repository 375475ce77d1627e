/*
 * The machine-mode trap vector (direct mode): save the registers a C function may clobber, call
 * fw_trap_dispatch(mcause, mepc, mtval), restore them and mret. Callee-saved registers are kept
 * by the C code itself, so after the restore every register holds what it held at the trap —
 * which lets fw_fault_unhandled() re-run a faulting instruction unchanged (see trap.h).
 * Handlers run on the interrupted code's stack with interrupts off (no nesting).
 */
    .section .text.fw_trap, "ax"
    .globl fw_trap_entry
    .balign 4
fw_trap_entry:
    addi sp, sp, -64
    sw   ra, 0(sp)
    sw   t0, 4(sp)
    sw   t1, 8(sp)
    sw   t2, 12(sp)
    sw   a0, 16(sp)
    sw   a1, 20(sp)
    sw   a2, 24(sp)
    sw   a3, 28(sp)
    sw   a4, 32(sp)
    sw   a5, 36(sp)
    sw   a6, 40(sp)
    sw   a7, 44(sp)
    sw   t3, 48(sp)
    sw   t4, 52(sp)
    sw   t5, 56(sp)
    sw   t6, 60(sp)
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call fw_trap_dispatch
    lw   ra, 0(sp)
    lw   t0, 4(sp)
    lw   t1, 8(sp)
    lw   t2, 12(sp)
    lw   a0, 16(sp)
    lw   a1, 20(sp)
    lw   a2, 24(sp)
    lw   a3, 28(sp)
    lw   a4, 32(sp)
    lw   a5, 36(sp)
    lw   a6, 40(sp)
    lw   a7, 44(sp)
    lw   t3, 48(sp)
    lw   t4, 52(sp)
    lw   t5, 56(sp)
    lw   t6, 60(sp)
    addi sp, sp, 64
    mret
