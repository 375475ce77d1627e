/*
 * Reset entry for the bare-metal test programs: gp, sp, clear .bss, main(), then the verdict
 * through the test finisher (main returns 0 for pass). mtvec stays 0 unless the program sets it:
 * a stray trap then reaches no handler, which the hart reports as fatal.
 */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la   gp, __global_pointer$
    .option pop
    la   sp, __stack_top
    la   t0, __bss_start
    la   t1, __bss_end
1:  bgeu t0, t1, 2f
    sw   zero, 0(t0)
    addi t0, t0, 4
    j    1b
2:  call main
    seqz a0, a0
    li   a1, 0
    call finish
