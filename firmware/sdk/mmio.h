/*
 * Device register access, memory barriers and machine-mode CSR helpers for the remote cores.
 * Register accesses are volatile and fenced the way Linux's riscv readl/writel are: a store to a
 * device is ordered after earlier memory stores (fence w,o) — so a doorbell never overtakes the
 * ring update it announces — and a device load is ordered before later memory loads (fence i,r).
 */
#ifndef FW_MMIO_H
#define FW_MMIO_H

#include <stdint.h>

static inline void mmio_write32(uintptr_t addr, uint32_t value) {
  __asm__ volatile("fence w,o" ::: "memory");
  *(volatile uint32_t *)addr = value;
}

static inline uint32_t mmio_read32(uintptr_t addr) {
  uint32_t value = *(volatile uint32_t *)addr;
  __asm__ volatile("fence i,r" ::: "memory");
  return value;
}

static inline void mmio_write8(uintptr_t addr, uint8_t value) {
  __asm__ volatile("fence w,o" ::: "memory");
  *(volatile uint8_t *)addr = value;
}

static inline uint8_t mmio_read8(uintptr_t addr) {
  uint8_t value = *(volatile uint8_t *)addr;
  __asm__ volatile("fence i,r" ::: "memory");
  return value;
}

/* Barriers for memory shared with the host (virtio's virt_mb/virt_rmb/virt_wmb). */
static inline void fw_mb(void) { __asm__ volatile("fence rw,rw" ::: "memory"); }
static inline void fw_rmb(void) { __asm__ volatile("fence r,r" ::: "memory"); }
static inline void fw_wmb(void) { __asm__ volatile("fence w,w" ::: "memory"); }
/* A compiler barrier only. */
static inline void fw_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* CSR access by name: fw_csr_read(mcause), fw_csr_write(mtvec, x), fw_csr_set(mie, bits). */
#define fw_csr_read(csr)                                   \
  ({                                                       \
    uint32_t v_;                                           \
    __asm__ volatile("csrr %0, " #csr : "=r"(v_)::"memory"); \
    v_;                                                    \
  })
#define fw_csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint32_t)(val)) : "memory")
#define fw_csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint32_t)(bits)) : "memory")
#define fw_csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint32_t)(bits)) : "memory")

#define FW_MSTATUS_MIE (1u << 3)
#define FW_MSTATUS_MPIE (1u << 7)

/* Disable machine interrupts; returns the previous MIE bit for fw_irq_restore. Nests. */
static inline uint32_t fw_irq_save(void) {
  uint32_t old;
  __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(old)::"memory");
  return old & FW_MSTATUS_MIE;
}

static inline void fw_irq_restore(uint32_t flags) {
  if (flags != 0) __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}

static inline void fw_irq_enable(void) { __asm__ volatile("csrsi mstatus, 8" ::: "memory"); }
static inline void fw_irq_disable(void) { __asm__ volatile("csrci mstatus, 8" ::: "memory"); }

/* Sleep until an interrupt enabled in mie is pending (it wakes even with MIE clear). */
static inline void fw_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
