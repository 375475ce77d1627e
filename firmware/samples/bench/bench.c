/*
 * bench kernels for the MIPS figure: CRC-32 over a buffer, quicksort, and integer matrix
 * multiplies from 8x8 to 32x32. Each result is checked by a property the kernel does not compute
 * itself (the CRC-32 check value and a bitwise cross-check; sortedness plus an order-independent
 * fingerprint; Freivalds' test C*v == A*(B*v)), and one checksum line per kernel is printed so
 * that runs on different engines can be compared. BENCH_ITERS scales the work. Plain C, no libc
 * calls, deterministic.
 */
#include "bench.h"

#include <stddef.h>

#ifndef BENCH_ITERS
#define BENCH_ITERS 8
#endif

#define CRC_LEN 16384
#define SORT_LEN 4096
#define MAT_MAX 32

static uint8_t crc_buf[CRC_LEN];
static uint32_t crc_tab[256];
static int32_t sort_buf[SORT_LEN];
static int32_t mat_a[MAT_MAX * MAT_MAX], mat_b[MAT_MAX * MAT_MAX], mat_c[MAT_MAX * MAT_MAX];
static uint32_t seed = 0x9e3779b9u;

static uint32_t next_rand(void) {
  /* xorshift32 */
  uint32_t x = seed;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  seed = x;
  return x;
}

static void out_hex(const char *label, uint32_t v) {
  char line[48];
  size_t n = 0;
  while (label[n] != 0 && n < 32) {
    line[n] = label[n];
    n++;
  }
  line[n++] = '=';
  for (int i = 7; i >= 0; i--) line[n++] = "0123456789abcdef"[(v >> (4 * i)) & 15u];
  line[n++] = '\n';
  line[n] = 0;
  bench_out(line);
}

/* ---- CRC-32 (IEEE 802.3, reflected) ---- */

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    crc_tab[i] = c;
  }
}

static uint32_t crc_table_driven(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) c = crc_tab[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return ~c;
}

static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static int bench_crc(uint32_t *sum) {
  static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  crc_init();
  if (crc_table_driven(check, sizeof check) != 0xcbf43926u) return -1;
  uint32_t acc = 0;
  for (int it = 0; it < BENCH_ITERS; it++) {
    for (size_t i = 0; i < CRC_LEN; i++) crc_buf[i] = (uint8_t)next_rand();
    uint32_t c = crc_table_driven(crc_buf, CRC_LEN);
    /* cross-check a slice with the bitwise form */
    if (crc_table_driven(crc_buf, 512) != crc_bitwise(crc_buf, 512)) return -1;
    acc = (acc << 1 | acc >> 31) ^ c;
  }
  *sum = acc;
  return 0;
}

/* ---- quicksort ---- */

static void insertion_sort(int32_t *a, int lo, int hi) {
  for (int i = lo + 1; i <= hi; i++) {
    int32_t v = a[i];
    int j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static void quicksort(int32_t *a, int lo, int hi) {
  while (hi - lo > 16) {
    int mid = lo + (hi - lo) / 2;
    /* median of three into a[mid] */
    if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
    if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
    if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
    int32_t pivot = a[mid];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    /* recurse into the smaller half, loop on the larger: stack depth O(log n) */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion_sort(a, lo, hi);
}

static int bench_sort(uint32_t *sum) {
  uint32_t acc = 0;
  for (int it = 0; it < BENCH_ITERS; it++) {
    uint32_t add = 0, xor = 0;
    for (int i = 0; i < SORT_LEN; i++) {
      int32_t v = (int32_t)next_rand() >> (it & 7);
      sort_buf[i] = v;
      add += (uint32_t)v;
      xor ^= (uint32_t)v * 0x9e3779b1u;
    }
    quicksort(sort_buf, 0, SORT_LEN - 1);
    uint32_t add2 = 0, xor2 = 0;
    for (int i = 0; i < SORT_LEN; i++) {
      if (i > 0 && sort_buf[i - 1] > sort_buf[i]) return -1;
      add2 += (uint32_t)sort_buf[i];
      xor2 ^= (uint32_t)sort_buf[i] * 0x9e3779b1u;
    }
    if (add != add2 || xor != xor2) return -1;
    acc = (acc << 1 | acc >> 31) ^ (uint32_t)sort_buf[SORT_LEN / 2] ^ add;
  }
  *sum = acc;
  return 0;
}

/* ---- matrix multiply ---- */

static void matmul(const int32_t *a, const int32_t *b, int32_t *c, int n) {
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      int32_t s = 0;
      for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
}

static void matvec(const int32_t *m, const int32_t *v, int32_t *out, int n) {
  for (int i = 0; i < n; i++) {
    int32_t s = 0;
    for (int k = 0; k < n; k++) s += m[i * n + k] * v[k];
    out[i] = s;
  }
}

static int bench_matmul(uint32_t *sum) {
  uint32_t acc = 0;
  int32_t v[MAT_MAX], bv[MAT_MAX], abv[MAT_MAX], cv[MAT_MAX];
  for (int it = 0; it < BENCH_ITERS; it++) {
    for (int n = 8; n <= MAT_MAX; n += 8) {
      for (int i = 0; i < n * n; i++) {
        mat_a[i] = (int32_t)(next_rand() & 0x3ffu) - 512;
        mat_b[i] = (int32_t)(next_rand() & 0x3ffu) - 512;
      }
      matmul(mat_a, mat_b, mat_c, n);
      for (int r = 0; r < 2; r++) {
        for (int i = 0; i < n; i++) v[i] = (int32_t)(next_rand() & 0xffu) - 128;
        matvec(mat_b, v, bv, n);
        matvec(mat_a, bv, abv, n);
        matvec(mat_c, v, cv, n);
        for (int i = 0; i < n; i++)
          if (cv[i] != abv[i]) return -1;
      }
      for (int i = 0; i < n * n; i++) acc = (acc << 1 | acc >> 31) ^ (uint32_t)mat_c[i];
    }
  }
  *sum = acc;
  return 0;
}

int bench_main(void) {
  uint32_t crc = 0, sort = 0, mat = 0;
  bench_out("bench: crc32, quicksort, matmul\n");
  if (bench_crc(&crc) != 0) {
    bench_out("bench: crc32 FAILED\n");
    return 1;
  }
  out_hex("crc32", crc);
  if (bench_sort(&sort) != 0) {
    bench_out("bench: quicksort FAILED\n");
    return 2;
  }
  out_hex("sort", sort);
  if (bench_matmul(&mat) != 0) {
    bench_out("bench: matmul FAILED\n");
    return 3;
  }
  out_hex("matmul", mat);
  bench_out("bench: PASS\n");
  return 0;
}
