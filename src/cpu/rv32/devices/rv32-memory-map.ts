// The rv32 core's device map: QEMU riscv virt addresses for the devices QEMU has (test finisher,
// CLINT, PLIC, ns16550a UART), so firmware built for `qemu-system-riscv32 -M virt -bios none` runs
// unchanged, and our mailbox and watchdog in the gap QEMU leaves after the CLINT. docs/rv32-core.md
// documents every register.

export const RV32_MAP = {
  TEST_FINISHER: 0x0010_0000,
  CLINT: 0x0200_0000,
  MAILBOX: 0x0201_0000,
  WATCHDOG: 0x0201_1000,
  PLIC: 0x0c00_0000,
  UART0: 0x1000_0000,
  RAM: 0x8000_0000,
} as const;

/** PLIC interrupt sources of the devices, as QEMU virt wires them (UART0_IRQ). */
export const PLIC_IRQ = { UART0: 10 } as const;

/** CLINT timebase: QEMU virt's 10 MHz. */
export const CLINT_HZ = 10_000_000;
