/*
 * compute: CRC-32 (bitwise and table-driven), quicksort and an integer matrix multiply, each
 * checked against a property that does not depend on the code under test (the CRC-32 check
 * value, sortedness plus an order-independent fingerprint, (A*B)*v == A*(B*v)), then a checksum
 * line per kernel so that runs on different engines can be compared. ITERS scales the work
 * (1 for the tests, more for the benchmark); main returns 0 when every check passed.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/platform.h"

#ifndef ITERS
#define ITERS 1
#endif

#define BUF_LEN 4096
#define SORT_LEN 2048
#define DIM 24

static uint8_t buf[BUF_LEN];
static uint32_t crc_table[256];
static int32_t sort_data[SORT_LEN];
static int32_t mat_a[DIM][DIM], mat_b[DIM][DIM], mat_c[DIM][DIM];
static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void) {
  /* xorshift32: shifts and xors only, so the sequence is the same on every engine */
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

static uint32_t crc32_bitwise(const uint8_t *p, size_t n, uint32_t crc) {
  crc = ~crc;
  while (n-- != 0) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void crc32_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32_table(const uint8_t *p, size_t n, uint32_t crc) {
  crc = ~crc;
  while (n-- != 0) crc = crc_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

static void quicksort(int32_t *a, int lo, int hi) {
  while (lo < hi) {
    int32_t pivot = a[lo + (hi - lo) / 2];
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
    /* recurse into the smaller half, loop on the larger: bounded stack */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
}

/* Order-independent fingerprint: sum and xor of a mixing function of each element. */
static uint64_t fingerprint(const int32_t *a, int n) {
  uint32_t sum = 0, x = 0;
  for (int i = 0; i < n; i++) {
    uint32_t v = (uint32_t)a[i];
    uint64_t m = (uint64_t)v * 0x9E3779B1u; /* mulhu + mul */
    sum += (uint32_t)(m >> 32) ^ (uint32_t)m;
    x ^= v;
  }
  return ((uint64_t)sum << 32) | x;
}

static int check_crc(uint32_t *out) {
  static const uint8_t check[] = "123456789";
  if (crc32_bitwise(check, 9, 0) != 0xCBF43926u) return 0;
  crc32_init();
  if (crc32_table(check, 9, 0) != 0xCBF43926u) return 0;
  uint32_t a = 0, b = 0;
  for (int it = 0; it < ITERS; it++) {
    a = crc32_bitwise(buf, BUF_LEN, a);
    b = crc32_table(buf, BUF_LEN, b);
  }
  if (a != b) return 0;
  *out = a;
  return 1;
}

static int check_sort(uint32_t *out) {
  uint32_t acc = 0;
  for (int it = 0; it < ITERS; it++) {
    for (int i = 0; i < SORT_LEN; i++) sort_data[i] = (int32_t)rng() / ((int32_t)(rng() & 0xff) + 1); /* div */
    uint64_t before = fingerprint(sort_data, SORT_LEN);
    quicksort(sort_data, 0, SORT_LEN - 1);
    for (int i = 1; i < SORT_LEN; i++)
      if (sort_data[i - 1] > sort_data[i]) return 0;
    if (fingerprint(sort_data, SORT_LEN) != before) return 0;
    for (int i = 0; i < SORT_LEN; i++) acc = acc * 31u + (uint32_t)sort_data[i] % 1000003u; /* remu */
  }
  *out = acc;
  return 1;
}

static int check_matrix(uint32_t *out) {
  int32_t v[DIM], bv[DIM], abv[DIM], cv[DIM];
  uint32_t acc = 0;
  for (int it = 0; it < ITERS; it++) {
    for (int i = 0; i < DIM; i++) {
      v[i] = (int32_t)(rng() % 201u) - 100;
      for (int j = 0; j < DIM; j++) {
        mat_a[i][j] = (int32_t)(rng() % 2001u) - 1000;
        mat_b[i][j] = (int32_t)(rng() % 2001u) - 1000;
      }
    }
    for (int i = 0; i < DIM; i++)
      for (int j = 0; j < DIM; j++) {
        int32_t s = 0;
        for (int k = 0; k < DIM; k++) s += mat_a[i][k] * mat_b[k][j];
        mat_c[i][j] = s;
      }
    for (int i = 0; i < DIM; i++) {
      int32_t s = 0, t = 0;
      for (int k = 0; k < DIM; k++) s += mat_b[i][k] * v[k];
      bv[i] = s;
      for (int k = 0; k < DIM; k++) t += mat_c[i][k] * v[k];
      cv[i] = t;
    }
    for (int i = 0; i < DIM; i++) {
      int32_t s = 0;
      for (int k = 0; k < DIM; k++) s += mat_a[i][k] * bv[k];
      abv[i] = s;
      if (abv[i] != cv[i]) return 0;
    }
    for (int i = 0; i < DIM; i++) acc ^= (uint32_t)mat_c[i][i] + (uint32_t)i * 0x01000193u;
  }
  *out = acc;
  return 1;
}

int main(void) {
  for (int i = 0; i < BUF_LEN; i++) buf[i] = (uint8_t)(i * 31 + 7);
  uint32_t crc = 0, sorted = 0, matrix = 0;
  int ok = 1;
  if (!check_crc(&crc)) {
    put_str("crc: FAIL\n");
    ok = 0;
  }
  if (!check_sort(&sorted)) {
    put_str("sort: FAIL\n");
    ok = 0;
  }
  if (!check_matrix(&matrix)) {
    put_str("matrix: FAIL\n");
    ok = 0;
  }
  put_hex("crc", crc);
  put_hex("sort", sorted);
  put_hex("matrix", matrix);
  put_str(ok ? "compute: PASS\n" : "compute: FAIL\n");
  return ok ? 0 : 1;
}
