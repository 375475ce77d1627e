/* The trace buffer (trace.h): NUL-terminated text appended in a ring that starts over when full. */
#include "fw.h"

#include <string.h>

char fw_trace_buf[FW_TRACE_LEN] __attribute__((aligned(4)));
static size_t trace_pos;

void trace_write(const char *s, size_t n) {
  if (FW_TRACE_LEN < 2) return;
  if (n >= FW_TRACE_LEN) {
    /* Longer than the whole buffer: keep its end. */
    s += n - (FW_TRACE_LEN - 1);
    n = FW_TRACE_LEN - 1;
  }
  uint32_t flags = fw_irq_save();
  if (trace_pos + n + 1 > FW_TRACE_LEN) trace_pos = 0;
  memcpy(fw_trace_buf + trace_pos, s, n);
  trace_pos += n;
  fw_trace_buf[trace_pos] = 0;
  fw_irq_restore(flags);
}

void trace_puts(const char *s) { trace_write(s, strlen(s)); }

int trace_printf(const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = fw_vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  trace_write(line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
  return n;
}

void trace_clear(void) {
  uint32_t flags = fw_irq_save();
  trace_pos = 0;
  fw_trace_buf[0] = 0;
  fw_irq_restore(flags);
}
