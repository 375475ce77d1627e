/*
 * A small printf formatter (no heap, no locale, no floating point) shared by uart_printf,
 * trace_printf and fw_snprintf. Conversions: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ',
 * width and precision (also '*'), length modifiers hh h l ll z t j.
 */
#ifndef FW_FORMAT_H
#define FW_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*fw_putc_fn)(char c, void *ctx);

/* Format through out(c, ctx); returns the number of characters produced. */
int fw_vformat(fw_putc_fn out, void *ctx, const char *fmt, va_list ap);
/* Like vsnprintf: always NUL-terminates when size > 0; returns the untruncated length. */
int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fw_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* n / d for 1 <= d < 65536 without libgcc's 64-bit division; the remainder in *rem if not NULL. */
uint64_t fw_div64(uint64_t n, uint32_t d, uint32_t *rem);

#endif
