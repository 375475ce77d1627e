/*
 * The trace buffer: a region the firmware declares in its resource table as RSC_TRACE (use
 * FW_RSC_TRACE_ENTRY from fw_rsc.h), which the host reads as trace0: text up to the first NUL.
 * Lines are appended NUL-terminated; when the next one does not fit, writing starts over at the
 * beginning, so the host always sees the most recent lines (same rule as the js cores' writer).
 * Safe from interrupt handlers.
 */
#ifndef FW_TRACE_H
#define FW_TRACE_H

#include <stddef.h>

#ifndef FW_TRACE_LEN
#define FW_TRACE_LEN 4096u
#endif

extern char fw_trace_buf[FW_TRACE_LEN];

void trace_write(const char *s, size_t n);
void trace_puts(const char *s);
/* Formats into a 256-byte buffer (longer output is cut), then appends it. */
int trace_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Empty the buffer. */
void trace_clear(void);

#endif
