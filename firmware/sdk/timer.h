/*
 * CLINT time (64-bit mtime at FW_TIMEBASE_HZ), busy delays, and software timers multiplexed on
 * mtimecmp: any number of caller-owned struct fw_timer, one-shot or periodic, whose callbacks run
 * in the timer interrupt. timer_start/timer_stop may be called from anywhere, callbacks included.
 */
#ifndef FW_TIMER_H
#define FW_TIMER_H

#include <stdint.h>

#include "board.h"

#define FW_TICKS_PER_MS (FW_TIMEBASE_HZ / 1000u)
#define FW_TICKS_PER_US (FW_TIMEBASE_HZ / 1000000u)

struct fw_timer;
typedef void (*fw_timer_fn)(struct fw_timer *timer, void *arg);

struct fw_timer {
  uint64_t deadline;
  uint64_t period; /* 0: one-shot */
  fw_timer_fn fn;  /* may be NULL: the expiry only signals the event flag */
  void *arg;
  struct fw_timer *next;
  uint8_t active;
};

uint64_t timer_now(void);
static inline uint64_t timer_ms(uint32_t ms) { return (uint64_t)ms * FW_TICKS_PER_MS; }
static inline uint64_t timer_us(uint32_t us) { return (uint64_t)us * FW_TICKS_PER_US; }
/* Ticks to whole milliseconds (truncated to 32 bits: wraps after 49 days). */
uint32_t timer_to_ms(uint64_t ticks);

/* (Re)start: first expiry after delay ticks, then every period ticks (0 = once). */
void timer_start(struct fw_timer *t, uint64_t delay, uint64_t period, fw_timer_fn fn, void *arg);
void timer_stop(struct fw_timer *t);

void delay_us(uint32_t us);
void delay_ms(uint32_t ms);

/* Hardware: disarm mtimecmp. The interrupt handler fw_init() installs. */
void timer_init(void);
void timer_isr(void);

#endif
