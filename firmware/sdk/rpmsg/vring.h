/*
 * The device side of a legacy split virtqueue (virtio 1.x §2.7, legacy layout; Linux's
 * include/uapi/linux/virtio_ring.h), as a remote core runs it: take the chains the host (driver)
 * makes available, give them back on the used ring, and decide whether the host wants a kick.
 *
 * Everything the host writes is input: avail.idx may run at most num entries ahead, head and next
 * ids must be < num, a head may not be offered while we hold it, chains are walked at most num
 * steps (a longer one is a loop), INDIRECT is refused (not negotiated), lengths must be non-zero,
 * a device-readable buffer may not follow a writable one, and every buffer must translate
 * (rproc_pa_to_da) into the shared window (rproc_shm_contains). A violation stops the queue
 * (sticky `error`) until the host resets the device; nothing past it is touched.
 *
 * Ordering: avail.idx is read before the entries it covers (fence r,r); used entries are written
 * before used.idx (fence w,w); used.idx/used.flags are published before avail.flags/avail.idx are
 * read for a notification decision (fence rw,rw), as virtio requires. Shared fields are accessed
 * through volatile pointers, each read once into a local before it is checked and used.
 */
#ifndef FW_VRING_H
#define FW_VRING_H

#include <errno.h>
#include <stdint.h>

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u
#define VRING_AVAIL_F_NO_INTERRUPT 1u
#define VRING_USED_F_NO_NOTIFY 1u

/* Largest queue this library drives (per-descriptor state is a static bitmap). */
#ifndef VRING_NUM_MAX
#define VRING_NUM_MAX 1024u
#endif

/* Returned by rproc_pa_to_da for an address the core cannot reach. */
#define RPROC_DA_INVALID ((uintptr_t)-1)

/*
 * Platform hooks, weak (override in the firmware):
 * rproc_pa_to_da: a descriptor address (the host's physical/DMA address) to this core's device
 * address; identity by default (da = pa, as on the default board's core0); RPROC_DA_INVALID if
 * unreachable.
 * rproc_shm_contains: whether [da, da + len) lies in memory shared with the host that the core
 * may read and write; by default the window FW_SHM_BASE/FW_SHM_SIZE of board.h.
 */
uintptr_t rproc_pa_to_da(uint64_t pa);
int rproc_shm_contains(uintptr_t da, uint32_t len);

struct vring_desc {
  uint32_t addr_lo;
  uint32_t addr_hi;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct vring_avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[];
};

struct vring_used_elem {
  uint32_t id;
  uint32_t len;
};

struct vring_used {
  uint16_t flags;
  uint16_t idx;
  struct vring_used_elem ring[];
};

/* A chain taken from the avail ring: its head and its first buffer (already translated). */
struct vring_buf {
  uint16_t head;
  uint16_t count;    /* descriptors in the chain */
  uint16_t flags;    /* of the first descriptor */
  uint32_t len;      /* of the first descriptor */
  uintptr_t da;      /* of the first descriptor's buffer, inside the shared window */
  uint32_t readable; /* bytes over the whole chain (saturating) */
  uint32_t writable;
};

struct vring_dev {
  volatile struct vring_desc *desc;
  volatile struct vring_avail *avail;
  volatile struct vring_used *used;
  uintptr_t base;     /* da of the ring */
  uint32_t size;      /* vring_size(num, align) */
  uint32_t notifyid;  /* host-assigned id of this ring, for mbox_notify */
  uint16_t num;
  uint16_t last_avail; /* next avail entry to take */
  uint16_t avail_seen; /* avail.idx as last validated */
  uint16_t used_idx;   /* our used.idx, published by vring_dev_publish */
  uint16_t used_flags; /* what we last wrote to used.flags */
  uint16_t in_flight;  /* chains taken and not returned */
  uint8_t unpublished; /* used entries written, used.idx not yet */
  uint8_t dirty;       /* used entries since the last kick decision */
  uint8_t default_hooks; /* rproc_pa_to_da and rproc_shm_contains are the SDK's own */
  const char *error;   /* why the queue stopped (host violation), or 0 */
  uint32_t error_value;
  uint8_t held[VRING_NUM_MAX / 8];
};

/* Bytes of a legacy split ring. */
uint32_t vring_size(uint32_t num, uint32_t align);

/* Set up over ring memory at da (nothing is written: the host owns the initial contents).
 * num a power of two <= VRING_NUM_MAX, align a power of two >= 4, da aligned to align and 16.
 * Returns 0 or -EINVAL. */
int vring_dev_init(struct vring_dev *vq, uintptr_t da, uint32_t num, uint32_t align, uint32_t notifyid);

/* Entries the host made available and we have not taken (0 after a violation). */
uint32_t vring_dev_avail_count(struct vring_dev *vq);

/* Take the next available chain: 1 (buf filled), 0 (none), -EIO (violation: see vq->error). */
int vring_dev_get(struct vring_dev *vq, struct vring_buf *buf);

/* vring_dev_get's two halves, for the inline form below: whether avail.idx moved (1), and the
 * take of the chain at last_avail once it has. */
int vring_dev_refresh(struct vring_dev *vq);
int vring_dev_take(struct vring_dev *vq, struct vring_buf *buf);

/* vring_dev_get without the call when nothing new was posted since the last look (the library's
 * own per-message path). */
static inline int vring_dev_get_inline(struct vring_dev *vq, struct vring_buf *buf) {
  if (vq->error != 0) return -EIO;
  if (vq->last_avail == vq->avail_seen && !vring_dev_refresh(vq)) return vq->error != 0 ? -EIO : 0;
  return vring_dev_take(vq, buf);
}

/* Return a chain taken with vring_dev_get, with len bytes written into it. 0 or -EINVAL. */
int vring_dev_push(struct vring_dev *vq, uint16_t head, uint32_t len);

/* vring_dev_push for a chain the caller took itself and has not returned yet (nothing checked: a
 * head pushed twice would hand the host a chain it already has back). */
static inline void vring_dev_push_held(struct vring_dev *vq, uint16_t head, uint32_t len) {
  volatile struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (uint16_t)(vq->num - 1u)];
  e->id = head;
  e->len = len;
  vq->held[head >> 3] &= (uint8_t)~(1u << (head & 7u));
  vq->in_flight--;
  vq->used_idx++;
  vq->unpublished = 1;
  vq->dirty = 1;
}

/* Make the pushed entries visible to the host (used.idx). */
void vring_dev_publish(struct vring_dev *vq);

/* Publish, then whether the host wants a notification for what was pushed since the last call
 * (VRING_AVAIL_F_NO_INTERRUPT clear). False when nothing was pushed. */
int vring_dev_kick_needed(struct vring_dev *vq);

/* Ask the host not to kick us for this ring (VRING_USED_F_NO_NOTIFY) / to kick us again. The
 * latter returns 1 if the ring is still empty, 0 if entries arrived meanwhile (take them: no
 * kick will announce them). */
void vring_dev_notify_disable(struct vring_dev *vq);
int vring_dev_notify_enable(struct vring_dev *vq);

#endif
