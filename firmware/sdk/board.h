/*
 * The memory map of a remote core of the virtual AMP SoC, as the core itself sees it. Devices
 * shared with QEMU's riscv virt machine sit at QEMU's addresses (SiFive test finisher, CLINT,
 * ns16550a UART, RAM at 0x8000_0000); the mailbox and the watchdog are the SoC's own, in a hole
 * of QEMU's map. All device registers are 32 bits wide except the UART's, which are bytes.
 */
#ifndef FW_BOARD_H
#define FW_BOARD_H

/* Firmware RAM (1 MiB on the default board; board.ld links into its first 256 KiB). */
#define FW_RAM_BASE 0x80000000u
#define FW_RAM_SIZE 0x00100000u

/*
 * The shared window: vrings, rpmsg buffers and carveouts that the host places for this core.
 * Every address the host hands over (vring da, descriptor buffers) must lie inside it, or the
 * rpmsg library refuses it. Core0 of the default board sees 0x8010_0000..0x801F_FFFF at the same
 * physical addresses; override with -DFW_SHM_BASE=... -DFW_SHM_SIZE=... (or the weak hook
 * rproc_shm_contains) for another core.
 */
#ifndef FW_SHM_BASE
#define FW_SHM_BASE 0x80100000u
#endif
#ifndef FW_SHM_SIZE
#define FW_SHM_SIZE 0x00100000u
#endif

/* SiFive test finisher: 0x5555 = pass (exit 0), (code << 16) | 0x3333 = fail, 0x7777 = reset. */
#define FW_FINISHER_BASE 0x00100000u
#define FW_FINISHER_PASS 0x5555u
#define FW_FINISHER_FAIL 0x3333u
#define FW_FINISHER_RESET 0x7777u

/* CLINT (QEMU virt layout), 10 MHz timebase. */
#define FW_CLINT_BASE 0x02000000u
#define FW_CLINT_MSIP 0x0000u
#define FW_CLINT_MTIMECMP_LO 0x4000u
#define FW_CLINT_MTIMECMP_HI 0x4004u
#define FW_CLINT_MTIME_LO 0xBFF8u
#define FW_CLINT_MTIME_HI 0xBFFCu
#define FW_TIMEBASE_HZ 10000000u

/* Mailbox: doorbells in both directions, carrying notify ids. */
#define FW_MBOX_BASE 0x02010000u
#define FW_MBOX_H2C_TAKE 0x00u   /* read: ids kicked by the host since the last read (clears) */
#define FW_MBOX_C2H_NOTIFY 0x04u /* write: ring the host with this notify id */
#define FW_MBOX_IRQ_ENABLE 0x08u /* bit 0: raise MEIP while host -> core ids are pending */
#define FW_MBOX_RSC_DA 0x0Cu     /* write: where the running firmware's resource table is */
#define FW_MBOX_RSC_SIZE 0x10u   /* write: its size */
#define FW_MBOX_EVENTS 0x14u     /* read: host events since the last read (clears) */
#define FW_MBOX_EVENT_DETACHED (1u << 0) /* the host detached: virtio devices start over */
#define FW_MBOX_H2C_OVERFLOW (1u << 31) /* some id >= 31 was kicked: check everything */

/* Watchdog: arm with a period in ms (0 disarms), kick by writing anything. */
#define FW_WDT_BASE 0x02011000u
#define FW_WDT_PERIOD_MS 0x0u
#define FW_WDT_KICK 0x4u

/* ns16550a UART, byte registers (QEMU virt's uart0); its interrupt is PLIC source 10. */
#define FW_UART_BASE 0x10000000u
#define FW_UART_THR 0u
#define FW_UART_RBR 0u
#define FW_UART_IER 1u
#define FW_UART_FCR 2u
#define FW_UART_IIR 2u
#define FW_UART_LSR 5u
#define FW_UART_IER_RDI 0x01u    /* receive data available (and character timeout) */
#define FW_UART_FCR_ENABLE 0x07u /* FIFOs on and reset, trigger level 1 byte */
#define FW_UART_LSR_DR 0x01u
#define FW_UART_LSR_OE 0x02u
#define FW_UART_LSR_THRE 0x20u

/* PLIC (QEMU virt layout), hart 0's machine-mode context; drives the external interrupt (11). */
#define FW_PLIC_BASE 0x0C000000u
#define FW_PLIC_PRIORITY(src) (4u * (src))
#define FW_PLIC_ENABLE 0x2000u
#define FW_PLIC_THRESHOLD 0x200000u
#define FW_PLIC_CLAIM 0x200004u
#define FW_PLIC_SOURCES 96u
#define FW_PLIC_UART0_IRQ 10u

#endif
