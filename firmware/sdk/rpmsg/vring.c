/* Device side of a legacy split virtqueue (vring.h); mirrors the checks of src/virtio/vring-device.ts. */
#include "vring.h"

#include <errno.h>
#include <string.h>

#include "board.h"
#include "mmio.h"

/* The platform hooks' defaults, under names of their own: a queue whose hooks were not overridden
 * runs them inline (see buf_da), off the call path of every descriptor. */
static inline int default_shm_contains(uintptr_t da, uint32_t len) {
  return len <= FW_SHM_SIZE && da >= FW_SHM_BASE && da - FW_SHM_BASE <= FW_SHM_SIZE - len;
}

uintptr_t vring_default_pa_to_da(uint64_t pa);
int vring_default_shm_contains(uintptr_t da, uint32_t len);

uintptr_t vring_default_pa_to_da(uint64_t pa) { return pa > 0xffffffffu ? RPROC_DA_INVALID : (uintptr_t)pa; }

int vring_default_shm_contains(uintptr_t da, uint32_t len) { return default_shm_contains(da, len); }

uintptr_t rproc_pa_to_da(uint64_t pa) __attribute__((weak, alias("vring_default_pa_to_da")));
int rproc_shm_contains(uintptr_t da, uint32_t len) __attribute__((weak, alias("vring_default_shm_contains")));

/* A descriptor's buffer as a device address inside the shared window, or RPROC_DA_INVALID. */
static inline uintptr_t buf_da(const struct vring_dev *vq, uint32_t lo, uint32_t hi, uint32_t len) {
  if (vq->default_hooks) return hi == 0 && default_shm_contains(lo, len) ? (uintptr_t)lo : RPROC_DA_INVALID;
  uintptr_t da = rproc_pa_to_da(((uint64_t)hi << 32) | lo);
  return da != RPROC_DA_INVALID && rproc_shm_contains(da, len) ? da : RPROC_DA_INVALID;
}

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1u) & ~(a - 1u); }

uint32_t vring_size(uint32_t num, uint32_t align) {
  return align_up(16u * num + 2u * (3u + num), align) + 2u * 3u + 8u * num;
}

static int is_pow2(uint32_t v) { return v != 0 && (v & (v - 1u)) == 0; }

int vring_dev_init(struct vring_dev *vq, uintptr_t da, uint32_t num, uint32_t align, uint32_t notifyid) {
  memset(vq, 0, sizeof *vq);
  if (!is_pow2(num) || num > VRING_NUM_MAX || !is_pow2(align) || align < 4) return -EINVAL;
  if ((da & (align - 1u)) != 0 || (da & 15u) != 0) return -EINVAL;
  vq->base = da;
  vq->size = vring_size(num, align);
  vq->num = (uint16_t)num;
  vq->notifyid = notifyid;
  vq->desc = (volatile struct vring_desc *)da;
  vq->avail = (volatile struct vring_avail *)(da + 16u * num);
  vq->used = (volatile struct vring_used *)(da + align_up(16u * num + 2u * (3u + num), align));
  vq->default_hooks = rproc_pa_to_da == vring_default_pa_to_da && rproc_shm_contains == vring_default_shm_contains;
  /* Linux starts every index at 0 and zeroes the ring before DRIVER_OK; so do we (in our shadows). */
  return 0;
}

static int fail(struct vring_dev *vq, const char *why, uint32_t value) {
  if (vq->error == 0) {
    vq->error = why;
    vq->error_value = value;
  }
  return -EIO;
}

/* Load avail.idx and accept it if it moved by at most num. 1 if something new. */
int vring_dev_refresh(struct vring_dev *vq) {
  uint16_t idx = vq->avail->idx;
  if (idx == vq->last_avail) return 0;
  uint16_t ahead = (uint16_t)(idx - vq->last_avail);
  if (ahead > vq->num) return fail(vq, "avail.idx runs more than num entries ahead", idx), 0;
  vq->avail_seen = idx;
  /* The entries covered by avail.idx (and their descriptors) are read after it: one fence here
   * orders every take up to avail_seen. */
  fw_rmb();
  return 1;
}

uint32_t vring_dev_avail_count(struct vring_dev *vq) {
  if (vq->error != 0) return 0;
  if (vq->last_avail == vq->avail_seen && !vring_dev_refresh(vq)) return 0;
  return (uint16_t)(vq->avail_seen - vq->last_avail);
}

static uint32_t add_sat(uint32_t a, uint32_t b) { return a + b < a ? 0xffffffffu : a + b; }

/* Take and check a chain of any length at last_avail, descriptor by descriptor. */
__attribute__((noinline)) static int take_chain_walk(struct vring_dev *vq, struct vring_buf *buf) {
  uint16_t mask = (uint16_t)(vq->num - 1u);
  uint16_t head = vq->avail->ring[vq->last_avail & mask];
  if (head >= vq->num) return fail(vq, "avail ring names a head descriptor >= num", head);
  if (vq->held[head >> 3] & (1u << (head & 7u)))
    return fail(vq, "avail ring offers a head the device still holds", head);
  uint32_t readable = 0, writable = 0;
  uint16_t d = head;
  uint32_t steps = 0;
  for (;;) {
    /* Distinct descriptors number at most num: a longer walk has come back on itself. */
    if (++steps > vq->num) return fail(vq, "descriptor chain loops", head);
    /* Each field read once, checked, then used. */
    uint32_t lo = vq->desc[d].addr_lo;
    uint32_t hi = vq->desc[d].addr_hi;
    uint32_t len = vq->desc[d].len;
    uint16_t flags = vq->desc[d].flags;
    uint16_t next = vq->desc[d].next;
    if (flags & VRING_DESC_F_INDIRECT) return fail(vq, "INDIRECT descriptor (not negotiated)", d);
    if (len == 0) return fail(vq, "descriptor of length 0", d);
    int write = (flags & VRING_DESC_F_WRITE) != 0;
    if (!write && writable != 0) return fail(vq, "device-readable buffer after a writable one", d);
    uintptr_t da = buf_da(vq, lo, hi, len);
    if (da == RPROC_DA_INVALID) return fail(vq, "buffer outside the shared window", lo);
    if (steps == 1) {
      buf->flags = flags;
      buf->len = len;
      buf->da = da;
    }
    if (write)
      writable = add_sat(writable, len);
    else
      readable = add_sat(readable, len);
    if ((flags & VRING_DESC_F_NEXT) == 0) break;
    if (next >= vq->num) return fail(vq, "descriptor links to an id >= num", next);
    d = next;
  }
  buf->head = head;
  buf->count = (uint16_t)steps;
  buf->readable = readable;
  buf->writable = writable;
  vq->held[head >> 3] |= (uint8_t)(1u << (head & 7u));
  vq->in_flight++;
  vq->last_avail++;
  return 1;
}

/* Take and check the chain at last_avail (avail.idx says there is one). A chain of one
 * descriptor (all rpmsg ever posts) is taken here without a call; a longer one, or any problem,
 * goes to take_chain_walk, which reads it all again and reports what is wrong. */
int vring_dev_take(struct vring_dev *vq, struct vring_buf *buf) {
  /* Only entries below avail_seen are taken, read after the fence of vring_dev_refresh. */
  uint32_t num = vq->num;
  uint32_t last = vq->last_avail;
  /* Host-written: each field read once, checked, then used. */
  uint32_t head = vq->avail->ring[last & (num - 1u)];
  if (head >= num) return take_chain_walk(vq, buf);
  volatile struct vring_desc *dp = &vq->desc[head];
  uint32_t lo = dp->addr_lo;
  uint32_t hi = dp->addr_hi;
  uint32_t len = dp->len;
  uint32_t flags = dp->flags;
  uint8_t *held = &vq->held[head >> 3];
  uint32_t h = *held;
  uint32_t bit = 1u << (head & 7u);
  /* One test for "held already, a chain or indirect, above 4 GiB"; then the default window:
   * 0 < len <= FW_SHM_SIZE and lo - FW_SHM_BASE <= FW_SHM_SIZE - len (which also fails for
   * lo < FW_SHM_BASE, the difference wrapping). */
  if (((h & bit) | (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) | hi) != 0 || !vq->default_hooks ||
      len - 1u >= FW_SHM_SIZE || lo - FW_SHM_BASE > FW_SHM_SIZE - len)
    return take_chain_walk(vq, buf);
  buf->head = (uint16_t)head;
  buf->count = 1;
  buf->flags = (uint16_t)flags;
  buf->len = len;
  buf->da = lo;
  uint32_t w = flags & VRING_DESC_F_WRITE ? len : 0;
  buf->readable = len - w;
  buf->writable = w;
  *held = (uint8_t)(h | bit);
  vq->in_flight++;
  vq->last_avail = (uint16_t)(last + 1u);
  return 1;
}

int vring_dev_get(struct vring_dev *vq, struct vring_buf *buf) {
  if (vq->error != 0) return -EIO;
  if (vq->last_avail == vq->avail_seen && !vring_dev_refresh(vq)) return vq->error != 0 ? -EIO : 0;
  return vring_dev_take(vq, buf);
}

int vring_dev_push(struct vring_dev *vq, uint16_t head, uint32_t len) {
  if (head >= vq->num || !(vq->held[head >> 3] & (1u << (head & 7u)))) return -EINVAL;
  uint16_t slot = vq->used_idx & (uint16_t)(vq->num - 1u);
  vq->used->ring[slot].id = head;
  vq->used->ring[slot].len = len;
  vq->held[head >> 3] &= (uint8_t)~(1u << (head & 7u));
  vq->in_flight--;
  vq->used_idx++;
  vq->unpublished = 1;
  vq->dirty = 1;
  return 0;
}

void vring_dev_publish(struct vring_dev *vq) {
  if (!vq->unpublished) return;
  /* The used elements before the index that covers them. */
  fw_wmb();
  vq->used->idx = vq->used_idx;
  vq->unpublished = 0;
}

int vring_dev_kick_needed(struct vring_dev *vq) {
  vring_dev_publish(vq);
  if (!vq->dirty) return 0;
  vq->dirty = 0;
  /* used.idx must be visible before we look at whether the host wants to hear about it. */
  fw_mb();
  uint16_t flags = vq->avail->flags; /* host-written: only bit 0 matters */
  return (flags & VRING_AVAIL_F_NO_INTERRUPT) == 0;
}

void vring_dev_notify_disable(struct vring_dev *vq) {
  if (vq->used_flags & VRING_USED_F_NO_NOTIFY) return;
  vq->used_flags |= VRING_USED_F_NO_NOTIFY;
  vq->used->flags = vq->used_flags;
}

int vring_dev_notify_enable(struct vring_dev *vq) {
  if (vq->used_flags & VRING_USED_F_NO_NOTIFY) {
    vq->used_flags &= (uint16_t)~VRING_USED_F_NO_NOTIFY;
    vq->used->flags = vq->used_flags;
  }
  /* The flag store before the avail.idx load: otherwise a buffer posted just before the host saw
   * the flag would announce itself to nobody. */
  fw_mb();
  return vring_dev_avail_count(vq) == 0;
}
