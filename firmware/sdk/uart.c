/* Console output on the ns16550a UART at FW_UART_BASE (uart.h). */
#include "fw.h"

static void uart_tx(char c) {
  /* The virtual SoC's UART is always ready; QEMU's may not be. */
  while ((mmio_read8(FW_UART_BASE + FW_UART_LSR) & FW_UART_LSR_THRE) == 0) {
  }
  mmio_write8(FW_UART_BASE + FW_UART_THR, (uint8_t)c);
}

void uart_putc(char c) { uart_tx(c); }

void uart_write(const char *s, size_t n) {
  /* One piece: output from an interrupt handler does not land in the middle of a line. */
  uint32_t flags = fw_irq_save();
  for (size_t i = 0; i < n; i++) uart_tx(s[i]);
  fw_irq_restore(flags);
}

void uart_puts(const char *s) {
  size_t n = 0;
  while (s[n] != 0) n++;
  uart_write(s, n);
}

int uart_printf(const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = fw_vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  uart_write(line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
  return n;
}
