/*
 * Console on the ns16550a UART. Output (uart.c) is safe from interrupt handlers. Input (uart_rx.c)
 * is interrupt-driven: uart_rx_start() enables the receive interrupt through the PLIC; received
 * bytes wait in a 256-byte buffer and signal the event flag (fw_wait_event returns); while the
 * buffer is full, the rest waits in the UART.
 */
#ifndef FW_UART_H
#define FW_UART_H

#include <stddef.h>
#include <stdint.h>

void uart_putc(char c);
void uart_write(const char *s, size_t n);
/* The string as is (no newline added). */
void uart_puts(const char *s);
/* Formats into a 256-byte buffer (longer output is cut), then writes it in one piece. */
int uart_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start receiving: FIFO on, receive interrupt enabled, PLIC source 10 routed to the buffer. */
void uart_rx_start(void);
/* The next received byte, or -1 when none is waiting. */
int uart_getc(void);

#endif
