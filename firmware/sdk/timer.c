/* CLINT time and software timers on mtimecmp (timer.h). */
#include "fw.h"

static struct fw_timer *timers;

uint64_t timer_now(void) {
  uint32_t hi, lo;
  do {
    hi = mmio_read32(FW_CLINT_BASE + FW_CLINT_MTIME_HI);
    lo = mmio_read32(FW_CLINT_BASE + FW_CLINT_MTIME_LO);
  } while (hi != mmio_read32(FW_CLINT_BASE + FW_CLINT_MTIME_HI));
  return ((uint64_t)hi << 32) | lo;
}

static void set_mtimecmp(uint64_t when) {
  /* The usual rv32 sequence: never let a half-written value lie in the past. */
  mmio_write32(FW_CLINT_BASE + FW_CLINT_MTIMECMP_LO, 0xffffffffu);
  mmio_write32(FW_CLINT_BASE + FW_CLINT_MTIMECMP_HI, (uint32_t)(when >> 32));
  mmio_write32(FW_CLINT_BASE + FW_CLINT_MTIMECMP_LO, (uint32_t)when);
}

/* With interrupts off: mtimecmp := the earliest deadline (or never). */
static void reprogram(void) {
  uint64_t next = UINT64_MAX;
  for (struct fw_timer *t = timers; t != 0; t = t->next)
    if (t->deadline < next) next = t->deadline;
  set_mtimecmp(next);
}

static void unlink_timer(struct fw_timer *t) {
  for (struct fw_timer **p = &timers; *p != 0; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      break;
    }
  }
  t->next = 0;
  t->active = 0;
}

void timer_start(struct fw_timer *t, uint64_t delay, uint64_t period, fw_timer_fn fn, void *arg) {
  uint32_t flags = fw_irq_save();
  if (t->active) unlink_timer(t);
  t->deadline = timer_now() + delay;
  t->period = period;
  t->fn = fn;
  t->arg = arg;
  t->next = timers;
  t->active = 1;
  timers = t;
  reprogram();
  fw_irq_restore(flags);
}

void timer_stop(struct fw_timer *t) {
  uint32_t flags = fw_irq_save();
  if (t->active) {
    unlink_timer(t);
    reprogram();
  }
  fw_irq_restore(flags);
}

void timer_init(void) {
  timers = 0;
  set_mtimecmp(UINT64_MAX);
}

void timer_isr(void) {
  /* One expired timer at a time, since a callback may start or stop timers. A periodic timer
   * that fell behind skips the periods it missed instead of firing for each. Bounded, so a
   * callback that keeps re-arming in the past cannot hold the core in here. */
  for (int round = 0; round < 32; round++) {
    uint64_t now = timer_now();
    struct fw_timer *t = timers;
    while (t != 0 && t->deadline > now) t = t->next;
    if (t == 0) break;
    fw_timer_fn fn = t->fn;
    void *arg = t->arg;
    if (t->period != 0) {
      t->deadline += t->period;
      if (t->deadline <= now) t->deadline = now + t->period;
    } else {
      unlink_timer(t);
    }
    if (fn != 0) fn(t, arg);
  }
  reprogram();
}

uint32_t timer_to_ms(uint64_t ticks) { return (uint32_t)fw_div64(ticks, FW_TICKS_PER_MS, 0); }

void delay_us(uint32_t us) {
  uint64_t end = timer_now() + timer_us(us);
  while (timer_now() < end) {
  }
}

void delay_ms(uint32_t ms) {
  uint64_t end = timer_now() + timer_ms(ms);
  while (timer_now() < end) {
  }
}
