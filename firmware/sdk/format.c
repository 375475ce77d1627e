/* The SDK's printf formatter (format.h): integers, strings and characters, no floating point. */
#include "format.h"

#include <stdint.h>

struct spec {
  unsigned left : 1, zero : 1, plus : 1, space : 1;
  int width;
  int prec; /* -1: none */
};

static int emit_padded(fw_putc_fn out, void *ctx, const char *body, int len, const char *prefix,
                       int plen, const struct spec *sp, int zeros) {
  int n = 0;
  int total = plen + zeros + len;
  int pad = sp->width > total ? sp->width - total : 0;
  if (!sp->left && !(sp->zero && sp->prec < 0))
    for (; pad > 0; pad--, n++) out(' ', ctx);
  for (int i = 0; i < plen; i++, n++) out(prefix[i], ctx);
  if (!sp->left && sp->zero && sp->prec < 0)
    for (; pad > 0; pad--, n++) out('0', ctx);
  for (; zeros > 0; zeros--, n++) out('0', ctx);
  for (int i = 0; i < len; i++, n++) out(body[i], ctx);
  for (; pad > 0; pad--, n++) out(' ', ctx);
  return n;
}

uint64_t fw_div64(uint64_t n, uint32_t d, uint32_t *rem) {
  /* Long division in 16-bit steps: with d < 2^16 every step fits in 32 bits, so no libgcc
   * 64-bit division (2 KiB) is linked. */
  uint64_t q = 0;
  uint32_t r = 0;
  for (int shift = 48; shift >= 0; shift -= 16) {
    uint32_t cur = (r << 16) | (uint32_t)((n >> shift) & 0xffffu);
    q |= (uint64_t)(cur / d) << shift;
    r = cur % d;
  }
  if (rem != 0) *rem = r;
  return q;
}

static int emit_int(fw_putc_fn out, void *ctx, uint64_t v, int negative, unsigned base, int upper,
                    const char *prefix, const struct spec *sp) {
  char digits[24];
  int len = 0;
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  /* 32-bit values take the cheap path: no 64-bit division. */
  if (v <= 0xffffffffu) {
    uint32_t w = (uint32_t)v;
    do {
      digits[sizeof digits - 1 - len++] = set[w % base];
      w /= base;
    } while (w != 0);
  } else {
    do {
      uint32_t r;
      v = fw_div64(v, base, &r);
      digits[sizeof digits - 1 - len++] = set[r];
    } while (v != 0);
  }
  if (sp->prec == 0 && len == 1 && digits[sizeof digits - 1] == '0') len = 0;
  char sign[3];
  int plen = 0;
  if (negative)
    sign[plen++] = '-';
  else if (sp->plus)
    sign[plen++] = '+';
  else if (sp->space)
    sign[plen++] = ' ';
  for (; prefix != 0 && *prefix != 0 && plen < (int)sizeof sign; prefix++) sign[plen++] = *prefix;
  int zeros = sp->prec > len ? sp->prec - len : 0;
  return emit_padded(out, ctx, digits + sizeof digits - len, len, sign, plen, sp, zeros);
}

int fw_vformat(fw_putc_fn out, void *ctx, const char *fmt, va_list ap) {
  int n = 0;
  while (*fmt != 0) {
    char c = *fmt++;
    if (c != '%') {
      out(c, ctx);
      n++;
      continue;
    }
    struct spec sp = {0, 0, 0, 0, 0, -1};
    for (;; fmt++) {
      if (*fmt == '-') sp.left = 1;
      else if (*fmt == '0') sp.zero = 1;
      else if (*fmt == '+') sp.plus = 1;
      else if (*fmt == ' ') sp.space = 1;
      else if (*fmt == '#') continue;
      else break;
    }
    if (*fmt == '*') {
      sp.width = va_arg(ap, int);
      if (sp.width < 0) {
        sp.left = 1;
        sp.width = -sp.width;
      }
      fmt++;
    } else {
      while (*fmt >= '0' && *fmt <= '9') sp.width = sp.width * 10 + (*fmt++ - '0');
    }
    if (*fmt == '.') {
      fmt++;
      sp.prec = 0;
      if (*fmt == '*') {
        sp.prec = va_arg(ap, int);
        if (sp.prec < 0) sp.prec = -1;
        fmt++;
      } else {
        while (*fmt >= '0' && *fmt <= '9') sp.prec = sp.prec * 10 + (*fmt++ - '0');
      }
    }
    int lng = 0; /* 0 int, 1 long, 2 long long, -1 char, -2 short */
    for (;; fmt++) {
      if (*fmt == 'l') lng = lng >= 1 ? 2 : 1;
      else if (*fmt == 'h') lng = lng == -2 ? -1 : -2;
      else if (*fmt == 'z' || *fmt == 't') lng = sizeof(size_t) > 4 ? 2 : 1;
      else if (*fmt == 'j') lng = 2;
      else break;
    }
    char conv = *fmt;
    if (conv == 0) break;
    fmt++;
    switch (conv) {
      case 'd':
      case 'i': {
        int64_t v = lng == 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
        if (lng == -1) v = (signed char)v;
        if (lng == -2) v = (short)v;
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        n += emit_int(out, ctx, mag, v < 0, 10, 0, 0, &sp);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        uint64_t v = lng == 2 ? va_arg(ap, unsigned long long)
                     : lng == 1 ? va_arg(ap, unsigned long)
                                : va_arg(ap, unsigned int);
        if (lng == -1) v = (unsigned char)v;
        if (lng == -2) v = (unsigned short)v;
        unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
        sp.plus = sp.space = 0;
        n += emit_int(out, ctx, v, 0, base, conv == 'X', 0, &sp);
        break;
      }
      case 'p': {
        uintptr_t v = (uintptr_t)va_arg(ap, void *);
        sp.plus = sp.space = 0;
        n += emit_int(out, ctx, v, 0, 16, 0, "0x", &sp);
        break;
      }
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (s == 0) s = "(null)";
        int len = 0;
        while ((sp.prec < 0 || len < sp.prec) && s[len] != 0) len++;
        sp.zero = 0;
        sp.prec = -1;
        n += emit_padded(out, ctx, s, len, 0, 0, &sp, 0);
        break;
      }
      case 'c': {
        char ch = (char)va_arg(ap, int);
        sp.zero = 0;
        sp.prec = -1;
        n += emit_padded(out, ctx, &ch, 1, 0, 0, &sp, 0);
        break;
      }
      case '%':
        out('%', ctx);
        n++;
        break;
      default: /* unknown conversion: print it as written */
        out('%', ctx);
        out(conv, ctx);
        n += 2;
        break;
    }
  }
  return n;
}

struct sink {
  char *buf;
  size_t size;
  size_t pos;
};

static void sink_putc(char c, void *ctx) {
  struct sink *s = ctx;
  if (s->pos + 1 < s->size) s->buf[s->pos] = c;
  s->pos++;
}

int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct sink s = {buf, size, 0};
  int n = fw_vformat(sink_putc, &s, fmt, ap);
  if (size > 0) buf[s.pos < size ? s.pos : size - 1] = 0;
  return n;
}

int fw_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = fw_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
