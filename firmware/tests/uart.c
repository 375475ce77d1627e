/*
 * uart: the ns16550a receive side and its interrupt through the PLIC, checked from inside. The
 * UART runs in loopback (MCR.LOOP: what is transmitted is received instead of sent), so that the
 * program needs no input and passes unchanged on qemu-system-riscv32 -M virt: PLIC source 10
 * (priority, enable, threshold, claim/complete on hart 0's M-mode context), IER receive-data
 * interrupts with the FIFO at trigger levels 1 and 4, the character timeout that delivers a short
 * tail, IIR and LSR values, an overrun (LSR.OE, line-status interrupt) when a 17th byte arrives in
 * a full FIFO, and WFI waking on the UART's interrupt. Output only once loopback is off again.
 */
#include <stdint.h>

#include "common/platform.h"
#include "common/trap.h"

#define UART ((volatile uint8_t *)0x10000000u)
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define MCR 4
#define LSR 5
#define LSR_DR 0x01u
#define LSR_OE 0x02u
#define MCR_OUT2 0x08u
#define MCR_LOOP 0x10u

#define PLIC_BASE 0x0c000000u
#define PLIC_PRIORITY(s) ((volatile uint32_t *)(PLIC_BASE + 4u * (s)))
#define PLIC_PENDING ((volatile uint32_t *)(PLIC_BASE + 0x1000u))
#define PLIC_ENABLE ((volatile uint32_t *)(PLIC_BASE + 0x2000u))
#define PLIC_THRESHOLD ((volatile uint32_t *)(PLIC_BASE + 0x200000u))
#define PLIC_CLAIM ((volatile uint32_t *)(PLIC_BASE + 0x200004u))
#define UART0_IRQ 10u

#define CLINT_MTIME_LO ((volatile uint32_t *)0x0200bff8u)
#define MIE_MEIE (1u << 11)
#define MIP_MEIP (1u << 11)
#define MSTATUS_MIE (1u << 3)

static volatile char rx[64];
static volatile uint32_t rx_len;
static volatile uint32_t uart_irqs;
static volatile uint32_t first_iir;

/* A failed check: loopback off first, or the report would go back into the receiver. */
static void fail(uint32_t line) {
  UART[MCR] = MCR_OUT2;
  put_hex("check failed at line", line);
  finish(0, line);
}
#define UCHECK(cond) \
  do {               \
    if (!(cond)) fail(__LINE__); \
  } while (0)

uint32_t trap_c(uint32_t cause, uint32_t tval, uint32_t epc) {
  last_trap.cause = cause;
  last_trap.tval = tval;
  last_trap.epc = epc;
  last_trap.count++;
  if (cause != 0x8000000bu) fail(0xbad);
  uint32_t source;
  while ((source = *PLIC_CLAIM) != 0) {
    if (source == UART0_IRQ) {
      uart_irqs++;
      if (first_iir == 0) first_iir = UART[IIR];
      while ((UART[LSR] & LSR_DR) != 0) {
        uint8_t c = UART[RBR];
        if (rx_len < sizeof rx) rx[rx_len++] = (char)c;
      }
    }
    *PLIC_CLAIM = source;
  }
  return epc;
}

static uint32_t mtime(void) { return *CLINT_MTIME_LO; }

static void send(const char *s) {
  while (*s != 0) UART[THR] = (uint8_t)*s++;
}

/* Wait (interrupts on) until `n` bytes were received, or about 50 ms of mtime. */
static void wait_rx(uint32_t n) {
  uint32_t start = mtime();
  while (rx_len < n && mtime() - start < 500000u) {
  }
}

static int rx_is(const char *s) {
  uint32_t i = 0;
  for (; s[i] != 0; i++)
    if (i >= rx_len || rx[i] != s[i]) return 0;
  return i == rx_len;
}

static void test_interrupt_driven(void) {
  UART[FCR] = 0x07; /* FIFO on and reset, trigger level 1 */
  UART[IER] = 0x01; /* receive data available */
  __asm__ volatile("csrs mstatus, %0" ::"r"(MSTATUS_MIE));
  send("hello");
  wait_rx(5);
  __asm__ volatile("csrc mstatus, %0" ::"r"(MSTATUS_MIE));
  UCHECK(rx_is("hello"));
  UCHECK(uart_irqs >= 1);
  /* FIFO enabled (0xc0) with receive data (0x04) or, had it waited, the character timeout (0x0c). */
  UCHECK(first_iir == 0xc4u || first_iir == 0xccu);
  UCHECK((UART[IIR] & 0x0fu) == 0x01u);
  UCHECK((*PLIC_PENDING & (1u << UART0_IRQ)) == 0);
}

static void test_trigger_level_and_timeout(void) {
  UART[FCR] = 0x47; /* trigger level 4 */
  rx_len = 0;
  send("ab");
  /* Two bytes, below the trigger level: no interrupt yet. */
  UCHECK((UART[LSR] & LSR_DR) != 0);
  UCHECK(UART[IIR] == 0xc1u);
  /* Four character times later (9600 baud at reset: ~4.2 ms) the timeout says the line went quiet. */
  uint32_t start = mtime();
  while (mtime() - start < 200000u && (UART[IIR] & 0x0fu) != 0x0cu) {
  }
  UCHECK(UART[IIR] == 0xccu);
  UCHECK((*PLIC_PENDING & (1u << UART0_IRQ)) != 0);
  UCHECK(UART[RBR] == 'a');
  UCHECK(UART[IIR] == 0xc1u); /* reading restarts the timeout */
  UCHECK(UART[RBR] == 'b');
  UCHECK((UART[LSR] & LSR_DR) == 0);
  send("wxyz");
  UCHECK(UART[IIR] == 0xc4u); /* four bytes: at the trigger level */
  for (const char *p = "wxyz"; *p != 0; p++) UCHECK(UART[RBR] == (uint8_t)*p);
  UCHECK(UART[IIR] == 0xc1u);
}

static void test_overrun(void) {
  UART[FCR] = 0x07;
  UART[IER] = 0x05; /* receive data + receiver line status */
  send("0123456789ABCDEFG"); /* 17 bytes into a 16-byte FIFO */
  UCHECK(UART[IIR] == 0xc6u); /* line status outranks data */
  uint8_t lsr = UART[LSR];
  UCHECK((lsr & (LSR_OE | LSR_DR)) == (LSR_OE | LSR_DR));
  UCHECK((UART[LSR] & LSR_OE) == 0); /* reading LSR cleared it */
  UCHECK(UART[IIR] == 0xc4u);
  for (const char *p = "0123456789ABCDEF"; *p != 0; p++) UCHECK(UART[RBR] == (uint8_t)*p);
  UCHECK((UART[LSR] & LSR_DR) == 0); /* "G" was lost */
}

static void test_wfi_wakes(void) {
  UART[IER] = 0x01;
  uint32_t mip;
  send("z");
  /* Interrupts off: WFI still returns on the pending, enabled MEIP, and the claim names the UART. */
  __asm__ volatile("wfi");
  __asm__ volatile("csrr %0, mip" : "=r"(mip));
  UCHECK((mip & MIP_MEIP) != 0);
  UCHECK(*PLIC_CLAIM == UART0_IRQ);
  UCHECK(UART[RBR] == 'z');
  *PLIC_CLAIM = UART0_IRQ;
  __asm__ volatile("csrr %0, mip" : "=r"(mip));
  UCHECK((mip & MIP_MEIP) == 0);
  /* Above the source's priority, the threshold masks it. */
  *PLIC_THRESHOLD = 1;
  send("q");
  __asm__ volatile("csrr %0, mip" : "=r"(mip));
  UCHECK((mip & MIP_MEIP) == 0);
  UCHECK(*PLIC_CLAIM == 0);
  *PLIC_THRESHOLD = 0;
  UCHECK(*PLIC_CLAIM == UART0_IRQ);
  UCHECK(UART[RBR] == 'q');
  *PLIC_CLAIM = UART0_IRQ;
}

int main(void) {
  trap_install();
  *PLIC_PRIORITY(UART0_IRQ) = 1;
  *PLIC_ENABLE = 1u << UART0_IRQ;
  *PLIC_THRESHOLD = 0;
  __asm__ volatile("csrs mie, %0" ::"r"(MIE_MEIE));
  UART[MCR] = MCR_LOOP | MCR_OUT2;
  test_interrupt_driven();
  test_trigger_level_and_timeout();
  test_overrun();
  test_wfi_wakes();
  UART[IER] = 0;
  UART[MCR] = MCR_OUT2;
  put_hex("uart_irqs", uart_irqs);
  put_str("uart: PASS\n");
  return 0;
}
