/* Console output on the ns16550a UART (transmit only). Safe from interrupt handlers. */
#ifndef FW_UART_H
#define FW_UART_H

#include <stddef.h>

void uart_putc(char c);
void uart_write(const char *s, size_t n);
/* The string as is (no newline added). */
void uart_puts(const char *s);
/* Formats into a 256-byte buffer (longer output is cut), then writes it in one piece. */
int uart_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
