/*
 * branchy: the branch- and call-heavy kind of code that blocks of a few instructions are made of —
 * linked lists (build, reverse, merge sort, filter), a table-less state machine (a tokenizer and
 * an evaluator of generated arithmetic), and many small functions the compiler must not inline.
 * Each part is checked against a property that does not depend on the code under test (a sorted
 * list keeps its sum and length, reversing twice is the identity, the evaluator agrees with the
 * values the generator computed), then a checksum line per part. ITERS scales the work (1 for the
 * tests, more for the benchmark); main returns 0 when every check passed.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/platform.h"

#ifndef ITERS
#define ITERS 1
#endif

#define NOINLINE __attribute__((noinline))
#define NODES 1024
#define TEXT_LEN 4096

static uint32_t rng_state = 0x9e3779b9u;

static NOINLINE uint32_t rng(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

/* ---- linked lists ------------------------------------------------------------------------------ */

struct node {
  struct node *next;
  int32_t value;
};

static struct node pool[NODES];

static NOINLINE struct node *build(int n) {
  struct node *head = 0;
  for (int i = 0; i < n; i++) {
    pool[i].value = (int32_t)(rng() % 100000u) - 50000;
    pool[i].next = head;
    head = &pool[i];
  }
  return head;
}

static NOINLINE struct node *reverse(struct node *l) {
  struct node *out = 0;
  while (l != 0) {
    struct node *next = l->next;
    l->next = out;
    out = l;
    l = next;
  }
  return out;
}

static NOINLINE int less(const struct node *a, const struct node *b) { return a->value < b->value; }

static NOINLINE struct node *merge(struct node *a, struct node *b) {
  struct node head;
  struct node *tail = &head;
  while (a != 0 && b != 0) {
    if (less(b, a)) {
      tail->next = b;
      b = b->next;
    } else {
      tail->next = a;
      a = a->next;
    }
    tail = tail->next;
  }
  tail->next = a != 0 ? a : b;
  return head.next;
}

static NOINLINE struct node *merge_sort(struct node *l) {
  if (l == 0 || l->next == 0) return l;
  struct node *slow = l, *fast = l->next;
  while (fast != 0 && fast->next != 0) {
    slow = slow->next;
    fast = fast->next->next;
  }
  struct node *right = slow->next;
  slow->next = 0;
  return merge(merge_sort(l), merge_sort(right));
}

static NOINLINE int keep(int32_t v) { return (v & 3) != 0; }

static NOINLINE struct node *filter(struct node *l, int *dropped) {
  struct node head = {l, 0};
  struct node *p = &head;
  while (p->next != 0) {
    if (keep(p->next->value)) {
      p = p->next;
    } else {
      p->next = p->next->next;
      ++*dropped;
    }
  }
  return head.next;
}

static NOINLINE int64_t sum(const struct node *l, int *len) {
  int64_t s = 0;
  *len = 0;
  for (; l != 0; l = l->next) {
    s += l->value;
    ++*len;
  }
  return s;
}

static int check_lists(uint32_t *out) {
  uint32_t acc = 0;
  for (int it = 0; it < ITERS; it++) {
    struct node *l = build(NODES);
    int n0, n1, n2, dropped = 0;
    int64_t s0 = sum(l, &n0);
    const struct node *first = l;
    l = reverse(reverse(l));
    if (l != first) return 0;
    l = merge_sort(l);
    int64_t s1 = sum(l, &n1);
    if (n1 != n0 || s1 != s0) return 0;
    for (const struct node *p = l; p->next != 0; p = p->next)
      if (p->value > p->next->value) return 0;
    int64_t dropped_sum = 0;
    for (const struct node *p = l; p != 0; p = p->next)
      if (!keep(p->value)) dropped_sum += p->value;
    l = filter(l, &dropped);
    int64_t s2 = sum(l, &n2);
    if (n2 + dropped != n0 || s2 + dropped_sum != s0) return 0;
    for (const struct node *p = l; p != 0; p = p->next) acc = acc * 33u + (uint32_t)p->value;
  }
  *out = acc;
  return 1;
}

/* ---- a state machine: tokenize and evaluate generated expressions ------------------------------ */

static char text[TEXT_LEN];
static int32_t expected[TEXT_LEN / 4];

/* "a op b op c ...;" with + - * on small numbers, evaluated left to right: the generator keeps
 * the running value, so the evaluator's result can be checked against it. */
static NOINLINE int generate(void) {
  int at = 0, exprs = 0;
  while (at < TEXT_LEN - 64) {
    int terms = 2 + (int)(rng() % 6u);
    int32_t value = 0;
    for (int t = 0; t < terms; t++) {
      int32_t n = (int32_t)(rng() % 1000u);
      char op = t == 0 ? '+' : "+-*"[rng() % 3u];
      if (t != 0) {
        text[at++] = ' ';
        text[at++] = op;
        text[at++] = ' ';
      }
      char digits[4];
      int k = 0;
      do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
      } while (n != 0);
      int32_t m = 0;
      while (k != 0) {
        char d = digits[--k];
        text[at++] = d;
        m = m * 10 + (d - '0');
      }
      value = op == '+' ? value + m : op == '-' ? value - m : value * m;
    }
    text[at++] = ';';
    expected[exprs++] = value;
  }
  text[at] = 0;
  return exprs;
}

enum state { S_START, S_NUMBER, S_SPACE, S_OP };

static NOINLINE int is_digit(char c) { return c >= '0' && c <= '9'; }
static NOINLINE int32_t apply(char op, int32_t a, int32_t b) {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    default: return a * b;
  }
}

static NOINLINE int evaluate(int32_t *results) {
  enum state s = S_START;
  int32_t value = 0, number = 0;
  char op = '+';
  int n = 0;
  for (const char *p = text; *p != 0; p++) {
    char c = *p;
    switch (s) {
      case S_START:
      case S_OP:
        if (is_digit(c)) {
          number = c - '0';
          s = S_NUMBER;
        } else if (c != ' ') {
          return -1;
        }
        break;
      case S_NUMBER:
        if (is_digit(c)) {
          number = number * 10 + (c - '0');
        } else {
          value = apply(op, value, number);
          if (c == ';') {
            results[n++] = value;
            value = 0;
            op = '+';
            s = S_START;
          } else if (c == ' ') {
            s = S_SPACE;
          } else {
            return -1;
          }
        }
        break;
      case S_SPACE:
        if (c == '+' || c == '-' || c == '*') {
          op = c;
          s = S_OP;
        } else if (c != ' ') {
          return -1;
        }
        break;
    }
  }
  return s == S_START ? n : -1;
}

static int32_t results[TEXT_LEN / 4];

static int check_machine(uint32_t *out) {
  uint32_t acc = 0;
  for (int it = 0; it < ITERS; it++) {
    int exprs = generate();
    if (evaluate(results) != exprs) return 0;
    for (int i = 0; i < exprs; i++) {
      if (results[i] != expected[i]) return 0;
      acc = (acc ^ (uint32_t)results[i]) * 0x01000193u;
    }
  }
  *out = acc;
  return 1;
}

int main(void) {
  uint32_t lists = 0, machine = 0;
  int ok = 1;
  if (!check_lists(&lists)) {
    put_str("lists: FAILED\n");
    ok = 0;
  }
  put_hex("lists", lists);
  if (!check_machine(&machine)) {
    put_str("machine: FAILED\n");
    ok = 0;
  }
  put_hex("machine", machine);
  put_str(ok ? "branchy: PASS\n" : "branchy: FAIL\n");
  return ok ? 0 : 1;
}
