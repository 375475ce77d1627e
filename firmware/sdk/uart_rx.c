/*
 * The UART's receive side (uart.h): the receive interrupt (PLIC source 10) moves the bytes the
 * UART holds into a 256-byte buffer; the trap dispatcher then signals the event flag, so a main
 * loop sleeping in fw_wait_event() wakes up and reads them with uart_getc(). When the buffer is
 * full the receive interrupt is switched off until uart_getc() has made room, so the bytes wait in
 * the UART and on the line instead of being lost (and a level interrupt nobody serves cannot keep
 * the core in its handler).
 */
#include "fw.h"
#include "plic.h"

#define RX_BUF 256u

static volatile uint8_t rx_buf[RX_BUF];
static volatile uint32_t rx_head; /* written by the interrupt handler */
static volatile uint32_t rx_tail; /* written by uart_getc */
static volatile uint8_t rx_paused;

static void uart_rx_isr(void) {
  while ((mmio_read8(FW_UART_BASE + FW_UART_LSR) & FW_UART_LSR_DR) != 0) {
    if (rx_head - rx_tail >= RX_BUF) {
      rx_paused = 1;
      mmio_write8(FW_UART_BASE + FW_UART_IER, 0);
      return;
    }
    rx_buf[rx_head % RX_BUF] = mmio_read8(FW_UART_BASE + FW_UART_RBR);
    rx_head++;
  }
}

void uart_rx_start(void) {
  mmio_write8(FW_UART_BASE + FW_UART_FCR, FW_UART_FCR_ENABLE);
  mmio_write8(FW_UART_BASE + FW_UART_IER, FW_UART_IER_RDI);
  plic_set_handler(FW_PLIC_UART0_IRQ, 1, uart_rx_isr);
}

int uart_getc(void) {
  uint32_t flags = fw_irq_save();
  int c = -1;
  if (rx_tail != rx_head) {
    c = rx_buf[rx_tail % RX_BUF];
    rx_tail++;
    if (rx_paused) {
      rx_paused = 0;
      mmio_write8(FW_UART_BASE + FW_UART_IER, FW_UART_IER_RDI);
    }
  }
  fw_irq_restore(flags);
  return c;
}
