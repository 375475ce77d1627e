/*
 * rpmsg device role over the virtio rpmsg vdev of the resource table (rpmsg.h); plays the part of
 * OpenAMP's rpmsg_virtio.c (VIRTIO_DEV_DEVICE) and of src/rpmsg/remote/rpmsg-virtio-device.ts.
 */
#include "rpmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "fw.h"

#define SUPPORTED_FEATURES (1u << VIRTIO_RPMSG_F_NS)
#define REPORT_LIMIT 32u

#define NS_NONE 0u
#define NS_PENDING 1u
#define NS_ANNOUNCED 2u

__attribute__((weak)) void rpmsg_report(struct rpmsg_device *rdev, const char *text) {
  (void)rdev;
  trace_printf("rpmsg: %s\n", text);
}

static void report(struct rpmsg_device *rdev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct rpmsg_device *rdev, const char *fmt, ...) {
  rdev->stats.reports++;
  if (rdev->report_budget == 0) return;
  rdev->report_budget--;
  char text[160];
  va_list ap;
  va_start(ap, fmt);
  fw_vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  rpmsg_report(rdev, text);
}

/* DRIVER_OK set and FAILED clear in the live, host-written status byte. */
static int host_up(struct rpmsg_device *rdev) {
  uint8_t status = rdev->vdev->status;
  return (status & VIRTIO_CONFIG_S_DRIVER_OK) != 0 && (status & VIRTIO_CONFIG_S_FAILED) == 0;
}

static int is_pow2(uint32_t v) { return v != 0 && (v & (v - 1u)) == 0; }

static int overlaps(uintptr_t a, uint32_t alen, uintptr_t b, uint32_t blen) {
  return a < b + blen && b < a + alen;
}

static struct rpmsg_endpoint *find_ept(struct rpmsg_device *rdev, uint32_t addr) {
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next)
    if (e->addr == addr) return e;
  return 0;
}

static int ns_backlog(struct rpmsg_device *rdev) { return rdev->ns_destroy_count != 0 || rdev->ns_pending != 0; }

/* Recomputes tx_gate after any change of what it sums up (state, spare buffer, announcements). */
static void update_gate(struct rpmsg_device *rdev) {
  rdev->tx_gate = rdev->state != RPMSG_READY || rdev->has_spare || ns_backlog(rdev);
}

int rpmsg_init_vdev(struct rpmsg_device *rdev, struct fw_rsc_vdev2 *vdev, const void *table, uint32_t table_size) {
  if (rdev == 0 || vdev == 0) return -EINVAL;
  memset(rdev, 0, sizeof *rdev);
  volatile struct fw_rsc_vdev2 *v = vdev;
  if (v->type != RSC_VDEV || v->id != VIRTIO_ID_RPMSG || v->num_of_vrings != 2) return -EINVAL;
  for (int i = 0; i < 2; i++) {
    uint32_t num = v->vring[i].num, align = v->vring[i].align;
    if (!is_pow2(num) || num > VRING_NUM_MAX || !is_pow2(align) || align < 16 || align > 0x10000) return -EINVAL;
    rdev->num[i] = num;
    rdev->align[i] = align;
  }
  rdev->vdev = v;
  rdev->table = table;
  rdev->table_size = table_size;
  rdev->dfeatures = v->dfeatures;
  rdev->state = RPMSG_WAIT_DRIVER_OK;
  rdev->report_budget = REPORT_LIMIT;
  rdev->detach_seen = mbox_detach_count();
  update_gate(rdev);
  return 0;
}

/* ---- session: handshake and reset ---------------------------------------------------------- */

static void set_state(struct rpmsg_device *rdev, enum rpmsg_state state) {
  if (rdev->state == state) return;
  rdev->state = state;
  update_gate(rdev);
  if (rdev->state_cb != 0) rdev->state_cb(rdev, (int)state);
}

static int setup_ring(struct rpmsg_device *rdev, int i, struct vring_dev *vq) {
  volatile struct fw_rsc_vdev_vring *r = &rdev->vdev->vring[i];
  /* Host-written (da, notifyid) or host-writable (num, align): each read once, checked. */
  uint32_t da = r->da, align = r->align, num = r->num, notifyid = r->notifyid;
  if (num != rdev->num[i] || align != rdev->align[i]) {
    report(rdev, "vring%d num/align 0x%x/0x%x differ from the firmware's 0x%x/0x%x", i, (unsigned)num,
           (unsigned)align, (unsigned)rdev->num[i], (unsigned)rdev->align[i]);
    return -1;
  }
  if (da == FW_RSC_ADDR_ANY) {
    report(rdev, "vring%d da is still FW_RSC_ADDR_ANY: the host did not place it", i);
    return -1;
  }
  if (notifyid == 0xffffffffu) {
    report(rdev, "vring%d notifyid is 0xffffffff (unassigned)", i);
    return -1;
  }
  uint32_t size = vring_size(num, align);
  if (!rproc_shm_contains(da, size)) {
    report(rdev, "vring%d at da 0x%x (0x%x bytes) is outside the shared window", i, (unsigned)da, (unsigned)size);
    return -1;
  }
  if (vring_dev_init(vq, da, num, align, notifyid) != 0) {
    report(rdev, "vring%d da 0x%x is not aligned to its align 0x%x", i, (unsigned)da, (unsigned)align);
    return -1;
  }
  return 0;
}

static void handshake(struct rpmsg_device *rdev) {
  /* The fields the host wrote before DRIVER_OK are read after we saw it. */
  fw_rmb();
  uint32_t features = rdev->vdev->gfeatures & rdev->dfeatures & SUPPORTED_FEATURES;
  rdev->report_budget = REPORT_LIMIT;
  int bad = setup_ring(rdev, 0, &rdev->tx) != 0 || setup_ring(rdev, 1, &rdev->rx) != 0;
  if (!bad && rdev->tx.notifyid == rdev->rx.notifyid) {
    report(rdev, "vring0 and vring1 have the same notify id 0x%x", (unsigned)rdev->tx.notifyid);
    bad = 1;
  }
  if (!bad && overlaps(rdev->tx.base, rdev->tx.size, rdev->rx.base, rdev->rx.size)) {
    report(rdev, "vring0 and vring1 overlap");
    bad = 1;
  }
  if (!bad && (overlaps(rdev->tx.base, rdev->tx.size, (uintptr_t)rdev->table, rdev->table_size) ||
               overlaps(rdev->rx.base, rdev->rx.size, (uintptr_t)rdev->table, rdev->table_size))) {
    report(rdev, "a vring overlaps the resource table");
    bad = 1;
  }
  rdev->gen++;
  if (bad) {
    rdev->stats.config_errors++;
    set_state(rdev, RPMSG_INVALID);
    return;
  }
  /* acquire_tx's quick test: a TX buffer outside [lo, hi) cannot lie over a vring, nor over the
   * table when the table is outside the default shared window (where every buffer is). */
  uintptr_t lo = rdev->tx.base < rdev->rx.base ? rdev->tx.base : rdev->rx.base;
  uintptr_t hi = rdev->tx.base + rdev->tx.size > rdev->rx.base + rdev->rx.size ? rdev->tx.base + rdev->tx.size
                                                                               : rdev->rx.base + rdev->rx.size;
  if (!rdev->tx.default_hooks ||
      (rdev->table != 0 && overlaps((uintptr_t)rdev->table, rdev->table_size, FW_SHM_BASE, FW_SHM_SIZE))) {
    lo = 0; /* every buffer gets the full test */
    hi = (uintptr_t)-1;
  }
  rdev->tx_guard_lo = lo;
  rdev->tx_guard_hi = hi;
  /* As OpenAMP: the host need not kick when it recycles our TX buffers; we ask for those kicks
   * only while a sender waits for one. */
  vring_dev_notify_disable(&rdev->tx);
  rdev->features = features;
  rdev->ns = (features >> VIRTIO_RPMSG_F_NS) & 1u;
  rdev->has_spare = 0;
  rdev->ns_destroy_count = 0;
  rdev->queue_reported[0] = rdev->queue_reported[1] = 0;
  rdev->ns_pending = 0;
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next) {
    e->ns_state = rdev->ns && e->name[0] != 0 ? NS_PENDING : NS_NONE;
    if (e->ns_state == NS_PENDING) rdev->ns_pending++;
  }
  rdev->stats.handshakes++;
  set_state(rdev, RPMSG_READY);
  update_gate(rdev);
}

static void reset_session(struct rpmsg_device *rdev) {
  rdev->gen++;
  rdev->features = 0;
  rdev->ns = 0;
  rdev->has_spare = 0;
  rdev->ns_destroy_count = 0;
  rdev->ns_pending = 0;
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next) {
    e->dest_addr = e->cfg_dest;
    e->ns_state = NS_NONE;
  }
  rdev->stats.resets++;
  set_state(rdev, RPMSG_WAIT_DRIVER_OK);
  update_gate(rdev);
}

static void check_queue(struct rpmsg_device *rdev, int i) {
  struct vring_dev *vq = i == 0 ? &rdev->tx : &rdev->rx;
  if (vq->error == 0 || rdev->queue_reported[i]) return;
  rdev->queue_reported[i] = 1;
  rdev->stats.queue_errors++;
  report(rdev, "vring%d: %s (0x%x); the queue stopped until the host resets the device", i, vq->error,
         (unsigned)vq->error_value);
}

/* ---- kicks ------------------------------------------------------------------------------------ */

static void kick_ring(struct rpmsg_device *rdev, struct vring_dev *vq) {
  int pushed = vq->dirty;
  if (vring_dev_kick_needed(vq)) {
    mbox_notify(vq->notifyid);
    rdev->stats.kicks++;
  } else if (pushed) {
    rdev->stats.kicks_suppressed++;
  }
}

static void flush_kicks(struct rpmsg_device *rdev) {
  if (rdev->state != RPMSG_READY) return;
  kick_ring(rdev, &rdev->tx);
  kick_ring(rdev, &rdev->rx);
}

/* ---- sending ---------------------------------------------------------------------------------- */

/* Why TX buffer b cannot carry a message, or 0 if it can. */
static const char *tx_problem(const struct rpmsg_device *rdev, const struct vring_buf *b) {
  if ((b->flags & VRING_DESC_F_WRITE) == 0) return "is device-readable";
  if (b->len < RPMSG_HDR_SIZE + RPMSG_NS_MSG_SIZE) return "is shorter than a header and a name-service message";
  if (overlaps(b->da, b->len, rdev->tx.base, rdev->tx.size) || overlaps(b->da, b->len, rdev->rx.base, rdev->rx.size) ||
      (rdev->table != 0 && overlaps(b->da, b->len, (uintptr_t)rdev->table, rdev->table_size)))
    return "lies over the vrings or the resource table";
  return 0;
}

/* acquire_tx after a bad buffer: return each bad one unused and try the next. */
__attribute__((noinline)) static int acquire_tx_slow(struct rpmsg_device *rdev, struct vring_buf *b,
                                                     const char *problem) {
  for (uint32_t tries = 0; tries <= rdev->tx.num; tries++) {
    if (problem == 0) {
      if (b->len > RPMSG_BUF_SIZE) b->len = RPMSG_BUF_SIZE;
      return 1;
    }
    rdev->stats.tx_bad_buffers++;
    report(rdev, "TX buffer %u at 0x%x (0x%x bytes) %s; returned unused", (unsigned)b->head, (unsigned)b->da,
           (unsigned)b->len, problem);
    vring_dev_push(&rdev->tx, b->head, 0);
    int rc = vring_dev_get(&rdev->tx, b);
    if (rc <= 0) {
      check_queue(rdev, 0);
      return rc < 0 ? -EIO : 0;
    }
    problem = tx_problem(rdev, b);
  }
  return 0;
}

/* A usable TX buffer fresh from vring0: 1, 0 (none now) or -EIO (the queue stopped). */
static inline __attribute__((always_inline)) int acquire_tx_fresh(struct rpmsg_device *rdev, struct vring_buf *b) {
  int rc = vring_dev_get_inline(&rdev->tx, b);
  if (rc <= 0) {
    check_queue(rdev, 0);
    return rc < 0 ? -EIO : 0;
  }
  /* The usual buffer: writable, long enough, wholly outside the vrings' span (the take checked it
   * lies in the shared window, so da + len does not wrap). Anything else gets tx_problem's word. */
  uint32_t len = b->len;
  if ((b->flags & VRING_DESC_F_WRITE) == 0 || len < RPMSG_HDR_SIZE + RPMSG_NS_MSG_SIZE ||
      (b->da < rdev->tx_guard_hi && b->da + len > rdev->tx_guard_lo)) {
    const char *problem = tx_problem(rdev, b);
    if (problem != 0) return acquire_tx_slow(rdev, b, problem);
  }
  if (len > RPMSG_BUF_SIZE) b->len = RPMSG_BUF_SIZE;
  return 1;
}

/* The spare buffer if there is one, else acquire_tx_fresh. */
static int acquire_tx(struct rpmsg_device *rdev, struct vring_buf *b) {
  if (rdev->has_spare) {
    *b = rdev->spare;
    rdev->has_spare = 0;
    update_gate(rdev);
    return 1;
  }
  return acquire_tx_fresh(rdev, b);
}

typedef uint32_t __attribute__((may_alias)) word_t;

/*
 * Forward copy, a word at a time when both sides share their alignment (the usual case: host
 * buffers are 512-byte aligned): picolibc's size-optimised memmove moves one byte per 6
 * instructions. Overlapping ranges (only a hostile host makes them) just get mixed bytes.
 */
static void copy_fwd(uint8_t *d, const uint8_t *s, size_t n) {
  if (n >= 8 && (((uintptr_t)d ^ (uintptr_t)s) & 3u) == 0) {
    for (; n != 0 && ((uintptr_t)d & 3u) != 0; n--) *d++ = *s++;
    word_t *dw = (word_t *)d;
    const word_t *sw = (const word_t *)s;
    for (; n >= 16; n -= 16, dw += 4, sw += 4) {
      word_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
      dw[0] = a;
      dw[1] = b;
      dw[2] = c;
      dw[3] = e;
    }
    for (; n >= 4; n -= 4) *dw++ = *sw++;
    d = (uint8_t *)dw;
    s = (const uint8_t *)sw;
  }
  for (; n != 0; n--) *d++ = *s++;
}

/* The header's four words: word stores into a word-aligned buffer (the host's always are; the
 * packed struct would make gcc store byte by byte), else memcpy. */
static void put_hdr(uint8_t *p, uint32_t src, uint32_t dst, uint32_t len) {
  if (((uintptr_t)p & 3u) == 0) {
    word_t *w = (word_t *)p;
    w[0] = src;
    w[1] = dst;
    w[2] = 0;
    w[3] = len & 0xffffu; /* len, then flags 0 (little-endian) */
    return;
  }
  struct rpmsg_hdr h = {src, dst, 0, (uint16_t)len, 0};
  memcpy(p, &h, sizeof h);
}

static inline __attribute__((always_inline)) void commit_tx(struct rpmsg_device *rdev, const struct vring_buf *b,
                                                             uint32_t src, uint32_t dst, const void *data, size_t len) {
  uint8_t *p = (uint8_t *)b->da;
  copy_fwd(p + RPMSG_HDR_SIZE, data, len);
  put_hdr(p, src, dst, (uint32_t)len);
  /* Linux checks used.len <= its buffer and hdr.len <= used.len - 16. */
  vring_dev_push_held(&rdev->tx, b->head, RPMSG_HDR_SIZE + (uint32_t)len);
  rdev->stats.tx++;
  if (!rdev->in_poll) flush_kicks(rdev);
}

/* commit_tx out of line, for the callers off the per-message path. */
__attribute__((noinline)) static void commit_tx_cold(struct rpmsg_device *rdev, const struct vring_buf *b, uint32_t src,
                                                    uint32_t dst, const void *data, size_t len) {
  commit_tx(rdev, b, src, dst, data, len);
}

/* One NS message: 1 sent, 0 no buffer, -EIO. */
static int send_ns(struct rpmsg_device *rdev, const char *name, uint32_t addr, uint32_t flags) {
  struct vring_buf b;
  int rc = acquire_tx(rdev, &b);
  if (rc <= 0) return rc;
  struct rpmsg_ns_msg m;
  memset(&m, 0, sizeof m);
  strncpy(m.name, name, RPMSG_NAME_SIZE - 1);
  m.addr = addr;
  m.flags = flags;
  commit_tx_cold(rdev, &b, addr, RPMSG_NS_ADDR, &m, sizeof m);
  rdev->stats.ns_tx++;
  return 1;
}

/* Send pending announcements in order (withdrawals first) while buffers last. */
static int flush_ns_some(struct rpmsg_device *rdev) {
  int n = 0;
  while (rdev->ns_destroy_count != 0) {
    if (send_ns(rdev, rdev->ns_destroy[0].name, rdev->ns_destroy[0].addr, RPMSG_NS_DESTROY) <= 0) return n;
    rdev->ns_destroy_count--;
    memmove(&rdev->ns_destroy[0], &rdev->ns_destroy[1], rdev->ns_destroy_count * sizeof rdev->ns_destroy[0]);
    n++;
  }
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next) {
    if (e->ns_state != NS_PENDING) continue;
    if (send_ns(rdev, e->name, e->addr, RPMSG_NS_CREATE) <= 0) return n;
    e->ns_state = NS_ANNOUNCED;
    rdev->ns_pending--;
    n++;
  }
  return n;
}

__attribute__((noinline)) static int flush_ns_gated(struct rpmsg_device *rdev) {
  int n = flush_ns_some(rdev);
  update_gate(rdev);
  return n;
}

/* Inline: every poll asks, and there is almost never anything to send. */
static inline int flush_ns(struct rpmsg_device *rdev) { return ns_backlog(rdev) ? flush_ns_gated(rdev) : 0; }

static int linked(struct rpmsg_device *rdev, const struct rpmsg_endpoint *ept) {
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next)
    if (e == ept) return 1;
  return 0;
}

/* try_send when tx_gate is set: not ready, announcements first, or a spare buffer to use. */
__attribute__((noinline)) static int try_send_gated(struct rpmsg_endpoint *ept, const void *data, size_t len,
                                                    uint32_t dst) {
  struct rpmsg_device *rdev = ept->rdev;
  if (rdev->state != RPMSG_READY) return -EAGAIN;
  if (rdev->tx.error != 0) return -EIO;
  if (ns_backlog(rdev)) {
    /* Announcements go first. */
    flush_ns(rdev);
    if (ns_backlog(rdev)) {
      rdev->stats.tx_no_buffer++;
      rdev->tx_starved = 1;
      return rdev->tx.error != 0 ? -EIO : -ENOMEM;
    }
  }
  struct vring_buf b;
  int rc = acquire_tx(rdev, &b);
  if (rc < 0) return -EIO;
  if (rc == 0) {
    rdev->stats.tx_no_buffer++;
    rdev->tx_starved = 1;
    if (!rdev->in_poll) flush_kicks(rdev); /* buffers returned unused, if any */
    return -ENOMEM;
  }
  if (len > b.len - RPMSG_HDR_SIZE) {
    /* A host buffer shorter than ours: keep it for a smaller message. */
    rdev->spare = b;
    rdev->has_spare = 1;
    update_gate(rdev);
    return -EMSGSIZE;
  }
  commit_tx_cold(rdev, &b, ept->addr, dst, data, len);
  return (int)len;
}

/* The per-message send: one gate word stands for "ready, no announcement waiting, no spare
 * buffer", the buffer taken and filled without further calls. */
static inline __attribute__((always_inline)) int try_send(struct rpmsg_endpoint *ept, const void *data, size_t len,
                                                          uint32_t dst) {
  struct rpmsg_device *rdev = ept == 0 ? 0 : ept->rdev;
  if (rdev == 0 || dst == RPMSG_ADDR_ANY || (data == 0 && len != 0)) return -EINVAL;
  if (len > RPMSG_MTU) return -EMSGSIZE;
  if (!host_up(rdev)) return -EAGAIN;
  if (rdev->tx_gate) return try_send_gated(ept, data, len, dst);
  struct vring_buf b;
  int rc = acquire_tx_fresh(rdev, &b);
  if (rc <= 0) {
    if (rc < 0) return -EIO;
    rdev->stats.tx_no_buffer++;
    rdev->tx_starved = 1;
    if (!rdev->in_poll) flush_kicks(rdev); /* buffers returned unused, if any */
    return -ENOMEM;
  }
  if (len > b.len - RPMSG_HDR_SIZE) {
    rdev->spare = b;
    rdev->has_spare = 1;
    update_gate(rdev);
    return -EMSGSIZE;
  }
  commit_tx(rdev, &b, ept->addr, dst, data, len);
  return (int)len;
}

/* try_send out of line, for the callers that wait or only try. */
__attribute__((noinline)) static int try_send_cold(struct rpmsg_endpoint *ept, const void *data, size_t len,
                                                   uint32_t dst) {
  return try_send(ept, data, len, dst);
}

/* send after try_send found no buffer: wait for one (the first try's -ENOMEM already counted). */
__attribute__((noinline)) static int send_wait(struct rpmsg_endpoint *ept, const void *data, size_t len,
                                               uint32_t dst) {
  struct rpmsg_device *rdev = ept->rdev;
  uint32_t gen = rdev->gen;
  uint32_t no_buffer = rdev->stats.tx_no_buffer; /* one count per send, not per retry */
  uint64_t deadline = timer_now() + timer_ms(RPMSG_SEND_TIMEOUT_MS);
  int rc;
  rdev->waiting_tx = 1;
  for (;;) {
    /* Let the host see what we sent and returned so far, and ask it to kick vring0 when it
     * posts buffers again; buffers that came meanwhile need no kick. */
    flush_kicks(rdev);
    if (vring_dev_notify_enable(&rdev->tx)) {
      uint64_t now = timer_now();
      if (now >= deadline) {
        rc = -ETIMEDOUT;
        break;
      }
      uint64_t left = deadline - now, poll = timer_ms(RPMSG_POLL_MS);
      fw_wait_event(left < poll ? left : poll);
    }
    if (rdev->gen != gen || !host_up(rdev)) {
      rc = -ECONNRESET;
      break;
    }
    rc = try_send_cold(ept, data, len, dst);
    if (rc != -ENOMEM) break;
  }
  rdev->waiting_tx = 0;
  rdev->stats.tx_no_buffer = no_buffer;
  if (rdev->state == RPMSG_READY && rdev->gen == gen) vring_dev_notify_disable(&rdev->tx);
  return rc;
}

int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data, size_t len, uint32_t dst) {
  return try_send_cold(ept, data, len, dst);
}

int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data, size_t len) {
  if (ept == 0) return -EINVAL;
  if (ept->dest_addr == RPMSG_ADDR_ANY) return -ENOTCONN;
  return try_send_cold(ept, data, len, ept->dest_addr);
}

int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data, size_t len, uint32_t dst) {
  int rc = try_send(ept, data, len, dst);
  return rc != -ENOMEM ? rc : send_wait(ept, data, len, dst);
}

int rpmsg_send(struct rpmsg_endpoint *ept, const void *data, size_t len) {
  if (ept == 0) return -EINVAL;
  if (ept->dest_addr == RPMSG_ADDR_ANY) return -ENOTCONN;
  return rpmsg_sendto(ept, data, len, ept->dest_addr);
}

/* ---- receiving -------------------------------------------------------------------------------- */

static void handle_ns(struct rpmsg_device *rdev, const void *data, uint32_t len, uint32_t src) {
  if (len != RPMSG_NS_MSG_SIZE) {
    rdev->stats.rx_malformed++;
    report(rdev, "name-service message of %u bytes from 0x%x (must be 40); dropped", (unsigned)len, (unsigned)src);
    return;
  }
  struct rpmsg_ns_msg m;
  memcpy(&m, data, sizeof m);
  m.name[RPMSG_NAME_SIZE - 1] = 0;
  rdev->stats.ns_rx++;
  uint32_t destroy = m.flags & RPMSG_NS_DESTROY;
  for (struct rpmsg_endpoint *e = rdev->epts; e != 0; e = e->next) {
    if (e->name[0] == 0 || strncmp(e->name, m.name, RPMSG_NAME_SIZE) != 0) continue;
    if (!destroy && e->dest_addr == RPMSG_ADDR_ANY) {
      e->dest_addr = m.addr;
      return;
    }
    if (destroy && e->dest_addr == m.addr) {
      e->dest_addr = e->cfg_dest;
      if (e->ns_unbind_cb != 0) e->ns_unbind_cb(e);
      return;
    }
  }
  if (rdev->ns_bind_cb != 0) rdev->ns_bind_cb(rdev, m.name, m.addr, destroy);
}

static void return_rx(struct rpmsg_device *rdev, uint16_t head) { vring_dev_push_held(&rdev->rx, head, 0); }

/* The session a loop started in (generation gen) is still the current one and the host is up. */
static inline int session_up(struct rpmsg_device *rdev, uint32_t gen) { return rdev->gen == gen && host_up(rdev); }

/* Hand one RX buffer to its endpoint (or drop it) and return it. 1 while the session the loop
 * started in is still up (the next buffer may be taken), else 0. */
static int deliver(struct rpmsg_device *rdev, const struct vring_buf *b, uint32_t gen) {
  if (b->flags & VRING_DESC_F_WRITE) {
    rdev->stats.rx_malformed++;
    report(rdev, "RX buffer %u is device-writable; dropped", (unsigned)b->head);
    return_rx(rdev, b->head);
    return session_up(rdev, gen);
  }
  if (b->len < RPMSG_HDR_SIZE) {
    rdev->stats.rx_malformed++;
    report(rdev, "RX buffer %u holds 0x%x bytes, less than a header; dropped", (unsigned)b->head, (unsigned)b->len);
    return_rx(rdev, b->head);
    return session_up(rdev, gen);
  }
  /* The header is host-written: each of its words read once, then only the copies are used. */
  struct {
    uint32_t src, dst, len;
  } h;
  if ((b->da & 3u) == 0) {
    const volatile uint32_t *w = (const volatile uint32_t *)b->da;
    h.src = w[0];
    h.dst = w[1];
    h.len = w[3] & 0xffffu;
  } else {
    struct rpmsg_hdr raw;
    memcpy(&raw, (const void *)b->da, sizeof raw);
    h.src = raw.src;
    h.dst = raw.dst;
    h.len = raw.len;
  }
  if (h.len > b->len - RPMSG_HDR_SIZE) {
    rdev->stats.rx_malformed++;
    report(rdev, "RX buffer %u claims 0x%x payload bytes but holds 0x%x; dropped", (unsigned)b->head,
           (unsigned)h.len, (unsigned)(b->len - RPMSG_HDR_SIZE));
    return_rx(rdev, b->head);
    return session_up(rdev, gen);
  }
  void *data = (void *)(b->da + RPMSG_HDR_SIZE);
  if (h.dst == RPMSG_NS_ADDR && rdev->ns) {
    handle_ns(rdev, data, h.len, h.src);
    return_rx(rdev, b->head);
    return session_up(rdev, gen);
  }
  struct rpmsg_endpoint *ept = find_ept(rdev, h.dst);
  if (ept == 0 || ept->cb == 0) {
    rdev->stats.rx_unknown_dst++;
    if (rdev->stats.rx_unknown_dst <= 4)
      report(rdev, "message for 0x%x from 0x%x: no such endpoint; dropped", (unsigned)h.dst, (unsigned)h.src);
    return_rx(rdev, b->head);
    return session_up(rdev, gen);
  }
  /* OpenAMP's rule: an endpoint without a peer takes the sender of its first message. */
  if (ept->dest_addr == RPMSG_ADDR_ANY && h.src != RPMSG_ADDR_ANY) ept->dest_addr = h.src;
  rdev->stats.rx++;
  ept->cb(ept, data, h.len, h.src, ept->priv);
  /* The buffer goes back unless the host reset the device meanwhile (then it is not ours). */
  if (!session_up(rdev, gen)) return 0;
  return_rx(rdev, b->head);
  return 1;
}

static int process_rx(struct rpmsg_device *rdev) {
  uint32_t gen = rdev->gen;
  int n = 0;
  struct vring_buf b;
  /* deliver says after each message whether the session is still up; the first is checked here. */
  int up = session_up(rdev, gen);
  while (up && n < (int)rdev->rx.num) {
    if (vring_dev_get_inline(&rdev->rx, &b) <= 0) break;
    n++;
    up = deliver(rdev, &b, gen);
    /* Give the host its buffers back while the pass goes on (vhost-net returns used buffers in
     * batches of 64): a host that keeps sending would otherwise see none back until the pass
     * ends, run out and wait for an interrupt. */
    if ((n & 31) == 0) vring_dev_publish(&rdev->rx);
  }
  check_queue(rdev, 1);
  return n;
}

/* ---- the poll loop ---------------------------------------------------------------------------- */

int rpmsg_poll(struct rpmsg_device *rdev) {
  if (rdev == 0 || rdev->vdev == 0 || rdev->in_poll) return 0;
  /* Counts what is left to do now, not what was done: a poll that did all there was ends in
   * sleep (a doorbell or event that came meanwhile ends the sleep at once), and no second
   * poll just finds nothing. */
  int work = 0;
  uint32_t detached = mbox_detach_count();
  if (detached != rdev->detach_seen) {
    /* The host let go and may already have attached again: the status alone cannot tell. */
    rdev->detach_seen = detached;
    if (rdev->state == RPMSG_READY) reset_session(rdev);
    else set_state(rdev, RPMSG_WAIT_DRIVER_OK);
    work++;
  }
  int up = host_up(rdev);
  if (rdev->state == RPMSG_READY && !up) {
    reset_session(rdev);
    work++;
  } else if (rdev->state == RPMSG_INVALID && !up) {
    set_state(rdev, RPMSG_WAIT_DRIVER_OK);
    work++;
  }
  if (rdev->state == RPMSG_WAIT_DRIVER_OK && up) {
    handshake(rdev);
    work++;
  }
  if (rdev->state != RPMSG_READY) return work;
  uint32_t gen = rdev->gen;
  rdev->in_poll = 1;
  flush_ns(rdev);
  process_rx(rdev);
  rdev->in_poll = 0;
  if (rdev->gen != gen || !host_up(rdev)) return work + 1;
  flush_kicks(rdev);
  /* More than one round's budget arrived, or announcements wait for buffers that came. */
  if (vring_dev_avail_count(&rdev->rx) != 0) work++;
  if (ns_backlog(rdev) && vring_dev_avail_count(&rdev->tx) != 0) work++;
  return work;
}

void rpmsg_idle(struct rpmsg_device *rdev) {
  uint64_t timeout = 0;
  if (rdev->state != RPMSG_READY || ns_backlog(rdev)) timeout = timer_ms(RPMSG_POLL_MS);
  if (!rdev->tx_starved || rdev->state != RPMSG_READY || !host_up(rdev)) {
    fw_wait_event(timeout);
    return;
  }
  /* A trysend found vring0 empty. The host does not kick vring0 when it recycles buffers
   * (VRING_USED_F_NO_NOTIFY, set at the handshake): sleeping now would wait for a doorbell it
   * was told not to ring. Ask for one, as send_wait does, and take the request back once awake. */
  rdev->tx_starved = 0;
  flush_kicks(rdev);
  if (vring_dev_notify_enable(&rdev->tx)) fw_wait_event(timeout);
  /* Only the caller's rpmsg_poll changes the session, so it is still the one armed here; a host
   * that reset meanwhile rewrites used.flags at its next handshake. */
  if (host_up(rdev)) vring_dev_notify_disable(&rdev->tx);
}

int rpmsg_is_ready(struct rpmsg_device *rdev) { return rdev->state == RPMSG_READY && host_up(rdev); }

/* ---- endpoints -------------------------------------------------------------------------------- */

int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name, uint32_t src,
                     uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb) {
  if (ept == 0 || rdev == 0 || rdev->vdev == 0) return -EINVAL;
  size_t nlen = 0;
  while (name != 0 && nlen < RPMSG_NAME_SIZE && name[nlen] != 0) nlen++;
  if (nlen >= RPMSG_NAME_SIZE) return -EINVAL;
  if (linked(rdev, ept)) return -EBUSY;
  if (src == RPMSG_ADDR_ANY) {
    src = RPMSG_RESERVED_ADDRESSES;
    while (find_ept(rdev, src) != 0) src++;
  } else if (src == RPMSG_NS_ADDR || find_ept(rdev, src) != 0) {
    return -EBUSY;
  }
  memset(ept, 0, sizeof *ept);
  if (nlen != 0) memcpy(ept->name, name, nlen);
  ept->rdev = rdev;
  ept->addr = src;
  ept->dest_addr = dest;
  ept->cfg_dest = dest;
  ept->cb = cb;
  ept->ns_unbind_cb = ns_unbind_cb;
  /* Appended: announcements go out in creation order. */
  struct rpmsg_endpoint **tail = &rdev->epts;
  while (*tail != 0) tail = &(*tail)->next;
  *tail = ept;
  if (rdev->state == RPMSG_READY && rdev->ns && nlen != 0) {
    ept->ns_state = NS_PENDING;
    rdev->ns_pending++;
    update_gate(rdev);
    if (!rdev->in_poll && host_up(rdev)) flush_ns(rdev);
  }
  return 0;
}

void rpmsg_destroy_ept(struct rpmsg_endpoint *ept) {
  if (ept == 0 || ept->rdev == 0) return;
  struct rpmsg_device *rdev = ept->rdev;
  for (struct rpmsg_endpoint **p = &rdev->epts; *p != 0; p = &(*p)->next) {
    if (*p == ept) {
      *p = ept->next;
      break;
    }
  }
  if (ept->ns_state == NS_PENDING) rdev->ns_pending--; /* never announced: nothing to withdraw */
  if (ept->ns_state == NS_ANNOUNCED && rdev->state == RPMSG_READY && rdev->ns &&
      rdev->ns_destroy_count < RPMSG_NS_DESTROY_QUEUE) {
    memcpy(rdev->ns_destroy[rdev->ns_destroy_count].name, ept->name, RPMSG_NAME_SIZE);
    rdev->ns_destroy[rdev->ns_destroy_count].addr = ept->addr;
    rdev->ns_destroy_count++;
    if (!rdev->in_poll && host_up(rdev)) flush_ns(rdev);
  }
  update_gate(rdev);
  ept->rdev = 0;
  ept->next = 0;
  ept->ns_state = NS_NONE;
}

int is_rpmsg_ept_ready(struct rpmsg_endpoint *ept) {
  return ept != 0 && ept->rdev != 0 && ept->dest_addr != RPMSG_ADDR_ANY && rpmsg_is_ready(ept->rdev);
}
