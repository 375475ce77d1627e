/*
 * A small rpmsg library for the remote (virtio device) side, byte-compatible with Linux's
 * virtio_rpmsg_bus host and shaped like OpenAMP's API (rpmsg_create_ept, rpmsg_send, callbacks
 * with (ept, data, len, src, priv)). One struct rpmsg_device per rpmsg vdev of the resource table.
 *
 * Handshake (OpenAMP's): rpmsg_poll() re-reads the live vdev status byte; once the host sets
 * DRIVER_OK (without FAILED) it reads gfeatures and each vring's da/num/align/notifyid from the
 * table — written by the host after the core started — validates them, sets
 * VRING_USED_F_NO_NOTIFY on vring0 (OpenAMP's choice: no kick when the host recycles buffers)
 * and, if VIRTIO_RPMSG_F_NS was negotiated, announces every named endpoint (40-byte NS CREATE
 * to address 53, from the endpoint's address). When status loses DRIVER_OK (host reset) all
 * session state is dropped, endpoints forget their learnt peer, and it waits again.
 *
 * Queues: vring0 carries our messages (host-posted writable buffers: header + payload, returned
 * with used.len = 16 + payload); vring1 carries the host's (each delivered to the endpoint named by
 * its dst, then returned with used.len = 0). The host is kicked (mbox_notify) after a batch only
 * when it asked (VRING_AVAIL_F_NO_INTERRUPT clear); inside rpmsg_poll all kicks wait for the end.
 *
 * Robustness: a bad message (shorter than its header, hdr.len beyond the buffer, a writable RX
 * buffer, a malformed NS message) is dropped and its buffer returned; a bad TX buffer (read-only,
 * too short, over the rings or the table) is returned unused (used.len 0); a ring protocol
 * violation (vring.h) stops that queue until the host resets the device; a bad vring setup at
 * DRIVER_OK leaves the device 'invalid' until the host resets it. Problems are counted in stats
 * and reported through the weak rpmsg_report() (default: a line in the trace buffer).
 *
 * Not implemented: EVENT_IDX and INDIRECT descriptors (not offered in dfeatures, so a Linux host
 * never uses them), zero-copy send/hold of buffers, config space. Single-threaded: call the API
 * from the main loop (and endpoint callbacks), not from interrupt handlers.
 */
#ifndef FW_RPMSG_H
#define FW_RPMSG_H

#include <stddef.h>
#include <stdint.h>

#include "rsc_table.h"
#include "vring.h"

#define RPMSG_ADDR_ANY 0xFFFFFFFFu
#define RPMSG_NS_ADDR 53u
#define RPMSG_RESERVED_ADDRESSES 1024u
#define RPMSG_NAME_SIZE 32u
#define RPMSG_HDR_SIZE 16u
#define RPMSG_NS_MSG_SIZE 40u
#define RPMSG_NS_CREATE 0u
#define RPMSG_NS_DESTROY 1u
#ifndef RPMSG_BUF_SIZE
#define RPMSG_BUF_SIZE 512u /* Linux's MAX_RPMSG_BUF_SIZE */
#endif
#define RPMSG_MTU (RPMSG_BUF_SIZE - RPMSG_HDR_SIZE) /* 496 */
#define VIRTIO_CONFIG_S_FAILED 0x80u

/* How long rpmsg_send()/rpmsg_sendto() wait for a TX buffer. */
#ifndef RPMSG_SEND_TIMEOUT_MS
#define RPMSG_SEND_TIMEOUT_MS 15000u
#endif
/* Poll period while waiting for the host (DRIVER_OK, a reset, a buffer): the host's kicks
 * normally wake us first; this only covers a host that does not kick. */
#ifndef RPMSG_POLL_MS
#define RPMSG_POLL_MS 10u
#endif

struct rpmsg_hdr {
  uint32_t src;
  uint32_t dst;
  uint32_t reserved;
  uint16_t len;
  uint16_t flags;
} __attribute__((packed));

struct rpmsg_ns_msg {
  char name[RPMSG_NAME_SIZE];
  uint32_t addr;
  uint32_t flags;
} __attribute__((packed));

struct rpmsg_device;
struct rpmsg_endpoint;

/* A message for ept: data/len in the host's buffer (valid until the callback returns), src the
 * sender's address. The return value is ignored (OpenAMP's callbacks return RPMSG_SUCCESS). */
typedef int (*rpmsg_ept_cb)(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv);
/* The host withdrew the channel bound to ept (NS DESTROY naming ept's name and peer). */
typedef void (*rpmsg_ns_unbind_cb)(struct rpmsg_endpoint *ept);
/* The host announced a service no endpoint is waiting for (NS CREATE / DESTROY). */
typedef void (*rpmsg_ns_bind_cb)(struct rpmsg_device *rdev, const char *name, uint32_t addr, uint32_t flags);
/* The device changed state (host up, host reset, setup refused); called from rpmsg_poll. */
typedef void (*rpmsg_state_cb)(struct rpmsg_device *rdev, int state);

struct rpmsg_endpoint {
  char name[RPMSG_NAME_SIZE];
  struct rpmsg_device *rdev;
  uint32_t addr;      /* local address */
  uint32_t dest_addr; /* peer: as created, or learnt from the first message / a host NS */
  uint32_t cfg_dest;  /* as created (restored at a host reset) */
  rpmsg_ept_cb cb;
  rpmsg_ns_unbind_cb ns_unbind_cb;
  void *priv; /* for the application, passed to cb */
  struct rpmsg_endpoint *next;
  uint8_t ns_state;
};

enum rpmsg_state {
  RPMSG_WAIT_DRIVER_OK = 0,
  RPMSG_READY = 1,
  RPMSG_INVALID = 2, /* DRIVER_OK with a vring setup we refused: waiting for a host reset */
};

struct rpmsg_stats {
  uint32_t handshakes, resets, config_errors, queue_errors;
  uint32_t rx, rx_unknown_dst, rx_malformed, ns_rx;
  uint32_t tx, ns_tx, tx_no_buffer, tx_bad_buffers;
  uint32_t kicks, kicks_suppressed, reports;
};

#define RPMSG_NS_DESTROY_QUEUE 4u

struct rpmsg_device {
  volatile struct fw_rsc_vdev2 *vdev; /* the live entry in the resource table */
  const void *table;                  /* the resource table (no TX buffer may overlap it) */
  uint32_t table_size;
  uint32_t dfeatures;        /* as the firmware built them */
  uint32_t num[2], align[2]; /* as the firmware built them */
  enum rpmsg_state state;
  uint32_t features; /* negotiated: gfeatures & dfeatures & what we implement */
  uint8_t ns;        /* VIRTIO_RPMSG_F_NS negotiated */
  uint8_t in_poll;
  uint8_t waiting_tx; /* a blocking send waits for vring0 buffers */
  uint8_t tx_starved; /* a trysend found vring0 empty since the last rpmsg_idle */
  uint32_t gen;       /* bumped at every handshake and reset */
  uint32_t detach_seen; /* mbox_detach_count() when last looked at */
  struct vring_dev tx; /* vring0 */
  struct vring_dev rx; /* vring1 */
  uintptr_t tx_guard_lo, tx_guard_hi; /* a TX buffer outside this span needs no overlap test */
  int has_spare;       /* a TX chain taken but not used (too small for one message) */
  uint32_t tx_gate;    /* nonzero: a send must look at state, spare and announcements first */
  struct vring_buf spare;
  struct rpmsg_endpoint *epts;
  struct {
    char name[RPMSG_NAME_SIZE];
    uint32_t addr;
  } ns_destroy[RPMSG_NS_DESTROY_QUEUE];
  uint32_t ns_destroy_count;
  uint32_t ns_pending; /* endpoints waiting to be announced */
  rpmsg_ns_bind_cb ns_bind_cb; /* optional: host announcements nobody waits for */
  rpmsg_state_cb state_cb;     /* optional */
  uint32_t report_budget;      /* reports left in this handshake */
  uint8_t queue_reported[2];   /* a queue's violation was reported */
  struct rpmsg_stats stats;
};

/*
 * Attach to the rpmsg vdev entry of the firmware's resource table (which must be the table the
 * host edits: the one in the .resource_table section). Checks what the firmware wrote (id 7, two
 * vrings, num a power of two <= VRING_NUM_MAX, align a power of two in 16..0x10000) and remembers it: the
 * host may change none of it. Returns 0 or -EINVAL. Nothing is read from the host yet.
 */
int rpmsg_init_vdev(struct rpmsg_device *rdev, struct fw_rsc_vdev2 *vdev, const void *table, uint32_t table_size);

/* Do all pending work (handshake/reset, announcements, received messages, buffer returns,
 * kicks). Returns 0 when nothing is left to do (sleep with rpmsg_idle: a doorbell that came
 * meanwhile ends that sleep at once), else call it again: more messages than one round takes,
 * announcements waiting for buffers that came, a state change. Never blocks, except inside
 * endpoint callbacks that call rpmsg_send. */
int rpmsg_poll(struct rpmsg_device *rdev);
/* Sleep until the next event (doorbell, timer), or RPMSG_POLL_MS while waiting for the host.
 * After a trysend that found no buffer it first asks the host to kick vring0 when it posts
 * buffers again (and returns at once if some came meanwhile), so a producer looping on
 * rpmsg_poll / rpmsg_trysend / rpmsg_idle wakes when it can send again. */
void rpmsg_idle(struct rpmsg_device *rdev);
int rpmsg_is_ready(struct rpmsg_device *rdev);

/*
 * Create an endpoint at address src (RPMSG_ADDR_ANY: the lowest free address >= 1024) talking to
 * dest (RPMSG_ADDR_ANY: learnt from the first message it receives, or from a host NS CREATE of
 * the same name). A name (< 32 bytes; NULL or "" for none) is announced to the host once name
 * service is negotiated, and again after every host reset. Returns 0, -EINVAL or -EBUSY.
 */
int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name, uint32_t src,
                     uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb);
/* Remove it; an announced endpoint is withdrawn with an NS DESTROY. */
void rpmsg_destroy_ept(struct rpmsg_endpoint *ept);
/* The endpoint knows its peer and the host is up. */
int is_rpmsg_ept_ready(struct rpmsg_endpoint *ept);

/*
 * Send len bytes (<= RPMSG_MTU) from ept to its peer (send) or to dst (sendto). Returns len, or:
 * -EINVAL (bad endpoint or dst ANY), -ENOTCONN (no peer yet), -EMSGSIZE, -EAGAIN (the host is
 * not up), -EIO (vring0 stopped after a host violation), and for trysend -ENOMEM (no buffer
 * now). send/sendto wait up to RPMSG_SEND_TIMEOUT_MS for a buffer (sleeping in wfi, asking the
 * host to kick vring0 meanwhile): -ETIMEDOUT, or -ECONNRESET if the host reset meanwhile.
 */
int rpmsg_send(struct rpmsg_endpoint *ept, const void *data, size_t len);
int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data, size_t len, uint32_t dst);
int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data, size_t len);
int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data, size_t len, uint32_t dst);

/* Weak: where problems go (default: "rpmsg: <text>\n" in the trace buffer; the first 32 per
 * handshake). */
void rpmsg_report(struct rpmsg_device *rdev, const char *text);

#endif
