/* Entry under qemu-riscv32 user mode: gp and sp, then linux_main (which exits). */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la   gp, __global_pointer$
    .option pop
    la   sp, __stack_top
    call linux_main
1:  j    1b
