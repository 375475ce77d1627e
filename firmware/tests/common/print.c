/* Formatting on top of the platform's put_str; no libc, so the instruction stream is ours alone. */
#include "platform.h"

void put_hex(const char *label, uint32_t v) {
  char buf[48];
  int i = 0;
  while (label[i] != 0 && i < 32) {
    buf[i] = label[i];
    i++;
  }
  buf[i++] = '=';
  for (int k = 7; k >= 0; k--) {
    uint32_t d = (v >> (k * 4)) & 15u;
    buf[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
  }
  buf[i++] = '\n';
  buf[i] = 0;
  put_str(buf);
}
