/*
 * hostile: firmware that attacks the host, one attack per scenario, for the host's hardening
 * tests (src/soc/hostile/, docs/threat-model.md). The scenario is the value of `hostile_scenario`
 * in the image, which the test writes into the ELF file before it boots the core (the symbol's
 * bytes in its PT_LOAD segment); 0 (the value as built) attacks nothing. `hostile_run` names the
 * test run: an attack that makes the host restart the core (a broken ring) runs once per run —
 * the core remembers it in RAM no segment covers, which a reload leaves alone — and the restarted
 * core then serves "hostile-echo" like a healthy one, so that the test sees recovery work.
 *
 * The resource table: trace buffer, an rpmsg vdev (vrings 256 / 0x1000 in the board's vdev0
 * regions) and an rproc-serial console vdev (vrings 16 / 16, placed by the host from the pool).
 */
#include <string.h>

#include "fw.h"
#include "fw_rsc.h"
#include "rpmsg/rpmsg.h"

enum scenario {
  SC_NONE = 0,
  SC_TTY_FLOOD = 1,      /* "rpmsg-tty" flooded with 496-byte messages nobody reads */
  SC_CHAR_FLOOD = 2,     /* messages to 0x500 (a /dev/rpmsgN the test opens and never reads) */
  SC_CONSOLE_FLOOD = 3,  /* the console port filled as fast as the host posts buffers */
  SC_NS_FLOOD = 4,       /* 100,000 NS CREATEs of distinct names, then quiet */
  SC_NS_CHURN = 5,       /* NS CREATE / DESTROY of one name, for ever */
  SC_SQUAT = 6,          /* announces "rpmsg-echo", as the healthy core does, and counts what it gets */
  SC_USED_IDX_JUMP = 7,  /* vring0's used.idx moved 1000 past what it holds (more than the ring) */
  SC_USED_ID_RANGE = 8,  /* a used entry naming descriptor num + 5 */
  SC_DESC_LOOP = 9,      /* every descriptor of both rings made a chain to itself */
  SC_DESC_ADDR = 10,     /* every descriptor pointed at 0xfffffffffffff000, length 0xffffffff */
  SC_LEN_ZERO = 11,      /* 100 messages returned with used.len 0 */
  SC_LEN_MAX = 12,       /* 100 messages returned with used.len 0xffffffff */
  SC_DOORBELL_STORM = 13, /* the host's doorbell rung in a loop (known and unknown ids) */
  SC_TRACE_NO_NUL = 14,  /* the trace buffer filled with escape sequences and no NUL */
  SC_RSC_GARBAGE = 15,   /* the live table's vdev status, features, config_len, vrings overwritten */
  SC_NEVER_SERVICE = 16, /* announces "svc-dead", then never looks at its rings again */
  SC_UART_FLOOD = 17,    /* the UART written in a loop, no newline, escape sequences */
  SC_COUNT
};

/* In .data, not .bss: they need bytes in the file for the test to patch. */
__attribute__((section(".data.hostile"))) volatile uint32_t hostile_scenario = SC_NONE;
__attribute__((section(".data.hostile"))) volatile uint32_t hostile_run = 0;

/* Above everything the linker places (256 KiB) and inside the core's 1 MiB of RAM: no segment
 * covers it, so a reload (recovery) leaves it as it was. */
#define RUN_MARK ((volatile uint32_t *)0x800FF000u)

struct hostile_table {
  struct resource_table_hdr hdr;
  uint32_t offset[3];
  struct fw_rsc_trace trace;
  struct fw_rsc_vdev2 rpmsg;
  struct fw_rsc_vdev2 console;
} __attribute__((packed));

RSC_TABLE_SECTION struct hostile_table resource_table = {
    .hdr = {.ver = 1, .num = 3, .reserved = {0, 0}},
    .offset = {__builtin_offsetof(struct hostile_table, trace), __builtin_offsetof(struct hostile_table, rpmsg),
               __builtin_offsetof(struct hostile_table, console)},
    .trace = FW_RSC_TRACE_ENTRY("trace0"),
    .rpmsg = FW_RSC_RPMSG_VDEV_ENTRY(256, 0x1000),
    .console =
        {
            .type = RSC_VDEV,
            .id = VIRTIO_ID_RPROC_SERIAL,
            .notifyid = 30,
            .dfeatures = 0,
            .gfeatures = 0,
            .config_len = 0,
            .status = 0,
            .num_of_vrings = 2,
            .reserved = {0, 0},
            .vring =
                {
                    {.da = FW_RSC_ADDR_ANY, .align = 16, .num = 16, .notifyid = 2, .pa = 0},
                    {.da = FW_RSC_ADDR_ANY, .align = 16, .num = 16, .notifyid = 3, .pa = 0},
                },
        },
};

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;
static uint32_t received;
static uint8_t payload[RPMSG_MTU];

/* ---- the well-behaved part: an echo service, and the main loop ------------------------------- */

static int echo_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)priv;
  received++;
  rpmsg_sendto(e, data, len, src);
  return 0;
}

static int squat_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv) {
  (void)e;
  (void)data;
  (void)priv;
  received++;
  trace_printf("squat: message %u, %u bytes from 0x%x\n", (unsigned)received, (unsigned)len, (unsigned)src);
  return 0;
}

/* Serve the rpmsg device until it is ready (DRIVER_OK seen, announcements out). */
static void wait_ready(void) {
  while (!rpmsg_is_ready(&rdev) || rdev.ns_pending != 0) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}

static void serve_forever(void) __attribute__((noreturn));
static void serve_forever(void) {
  for (;;) {
    if (rpmsg_poll(&rdev) == 0) rpmsg_idle(&rdev);
  }
}

/* ---- raw ring access: what the SDK would never write --------------------------------------- */

/* Take one host buffer from vring0, write a message to the host's 0x400 into it, return it with
 * used.len `len` instead of its real length. 0 when the host had no buffer. */
static int send_with_used_len(uint32_t len) {
  struct vring_buf b;
  if (vring_dev_get(&rdev.tx, &b) != 1) return 0;
  struct rpmsg_hdr *h = (struct rpmsg_hdr *)b.da;
  h->src = ept.addr;
  h->dst = 0x400;
  h->reserved = 0;
  h->len = 5;
  h->flags = 0;
  memcpy((uint8_t *)b.da + RPMSG_HDR_SIZE, "bogus", 5);
  vring_dev_push(&rdev.tx, b.head, RPMSG_HDR_SIZE + 5);
  /* The entry just written, its length replaced before it is published. */
  rdev.tx.used->ring[(uint16_t)(rdev.tx.used_idx - 1u) & (rdev.tx.num - 1u)].len = len;
  vring_dev_publish(&rdev.tx);
  mbox_notify(rdev.tx.notifyid);
  return 1;
}

static void scribble_descriptors(struct vring_dev *vq, int loop) {
  for (uint32_t i = 0; i < vq->num; i++) {
    if (loop) {
      vq->desc[i].flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE;
      vq->desc[i].next = (uint16_t)i;
    } else {
      vq->desc[i].addr_lo = 0xfffff000u;
      vq->desc[i].addr_hi = 0xffffffffu;
      vq->desc[i].len = 0xffffffffu;
    }
  }
  fw_mb();
}

static void send_ns(uint32_t addr, const char *name, uint32_t flags) {
  struct rpmsg_ns_msg m;
  memset(&m, 0, sizeof m);
  strncpy(m.name, name, sizeof m.name);
  m.addr = addr;
  m.flags = flags;
  rpmsg_sendto(&ept, &m, sizeof m, RPMSG_NS_ADDR);
}

/* ---- the console device (vdev 1): fill every buffer the host posts on its receiveq ---------- */

static void console_flood(void) __attribute__((noreturn));
static void console_flood(void) {
  volatile struct fw_rsc_vdev2 *c = &resource_table.console;
  while ((c->status & VIRTIO_CONFIG_S_DRIVER_OK) == 0) fw_wait_event(timer_ms(1));
  static struct vring_dev rx;
  if (vring_dev_init(&rx, c->vring[0].da, c->vring[0].num, c->vring[0].align, c->vring[0].notifyid) != 0) {
    trace_puts("hostile: console vring refused\n");
    fw_park();
  }
  static const char text[] = "flood \x1b[2J\x1b[31mcon\r\n";
  for (uint32_t n = 0;; n++) {
    struct vring_buf b;
    int rc = vring_dev_get(&rx, &b);
    if (rc < 0) fw_park();
    if (rc == 0) {
      if (vring_dev_kick_needed(&rx)) mbox_notify(rx.notifyid);
      fw_wait_event(timer_ms(10));
      continue;
    }
    uint8_t *p = (uint8_t *)b.da;
    for (uint32_t i = 0; i < b.len; i++) p[i] = (uint8_t)text[(i + n) % (sizeof text - 1)];
    vring_dev_push(&rx, b.head, b.len);
    if (vring_dev_kick_needed(&rx)) mbox_notify(rx.notifyid);
  }
}

/* ---- the attacks --------------------------------------------------------------------------- */

static void attack(uint32_t sc) __attribute__((noreturn));
static void attack(uint32_t sc) {
  for (uint32_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)('a' + i % 26);
  switch (sc) {
    case SC_TTY_FLOOD:
    case SC_CHAR_FLOOD: {
      /* The host's first dynamic address (its tty endpoint) or the test's /dev/rpmsgN at 0x500. */
      uint32_t dst = sc == SC_TTY_FLOOD ? 0x400u : 0x500u;
      for (;;) {
        rpmsg_poll(&rdev);
        if (rpmsg_trysendto(&ept, payload, sizeof payload, dst) < 0) rpmsg_idle(&rdev);
      }
    }
    case SC_CONSOLE_FLOOD:
      console_flood();
    case SC_NS_FLOOD: {
      char name[RPMSG_NAME_SIZE];
      for (uint32_t i = 0; i < 100000u; i++) {
        fw_snprintf(name, sizeof name, "flood-%u", (unsigned)i);
        send_ns(0x2000u + i, name, RPMSG_NS_CREATE);
      }
      trace_puts("hostile: ns flood done\n");
      serve_forever();
    }
    case SC_NS_CHURN:
      for (uint32_t i = 0;; i++) send_ns(0x3000u, "churn", i & 1u);
    case SC_USED_IDX_JUMP:
      rdev.tx.used->idx = (uint16_t)(rdev.tx.used_idx + 1000u);
      mbox_notify(rdev.tx.notifyid);
      serve_forever();
    case SC_USED_ID_RANGE: {
      struct vring_buf b;
      while (vring_dev_get(&rdev.tx, &b) != 1) rpmsg_idle(&rdev);
      vring_dev_push(&rdev.tx, b.head, RPMSG_HDR_SIZE);
      rdev.tx.used->ring[(uint16_t)(rdev.tx.used_idx - 1u) & (rdev.tx.num - 1u)].id = rdev.tx.num + 5u;
      vring_dev_publish(&rdev.tx);
      mbox_notify(rdev.tx.notifyid);
      serve_forever();
    }
    case SC_DESC_LOOP:
    case SC_DESC_ADDR:
      scribble_descriptors(&rdev.tx, sc == SC_DESC_LOOP);
      scribble_descriptors(&rdev.rx, sc == SC_DESC_LOOP);
      mbox_notify(rdev.tx.notifyid);
      mbox_notify(rdev.rx.notifyid);
      serve_forever();
    case SC_LEN_ZERO:
    case SC_LEN_MAX:
      for (uint32_t n = 0; n < 100u;) {
        if (send_with_used_len(sc == SC_LEN_ZERO ? 0u : 0xffffffffu)) n++;
        else rpmsg_idle(&rdev);
      }
      trace_puts("hostile: lengths sent\n");
      serve_forever();
    case SC_DOORBELL_STORM:
      for (uint32_t i = 0;; i++) mbox_notify((i & 3u) == 3u ? 17u : (i & 1u));
    case SC_TRACE_NO_NUL: {
      static const char esc[] = "\x1b[2J\x1b[31mHOSTILE\r\x07";
      for (uint32_t i = 0; i < FW_TRACE_LEN; i++) fw_trace_buf[i] = esc[i % (sizeof esc - 1)];
      fw_mb();
      serve_forever();
    }
    case SC_RSC_GARBAGE: {
      volatile struct hostile_table *t = &resource_table;
      volatile struct fw_rsc_vdev2 *v[2] = {&t->rpmsg, &t->console};
      for (int k = 0; k < 2; k++) {
        v[k]->status = 0x7f; /* every bit but FAILED */
        v[k]->gfeatures = 0xffffffffu;
        v[k]->dfeatures = 0xffffffffu;
        v[k]->config_len = 0xffffffffu;
        v[k]->num_of_vrings = 0xff;
        for (int i = 0; i < 2; i++) {
          v[k]->vring[i].da = 0xdeadbeefu;
          v[k]->vring[i].num = 0xffffu;
          v[k]->vring[i].align = 3;
          v[k]->vring[i].notifyid = 0x7fffffffu;
        }
      }
      t->trace.da = 0;
      t->trace.len = 0xffffffffu;
      fw_mb();
      for (uint32_t i = 0; i < 4; i++) mbox_notify(i);
      /* The SDK reads the table too: it stops its own session. Nothing else to do. */
      for (;;) fw_wait_event(0);
    }
    case SC_NEVER_SERVICE:
      fw_park();
    case SC_UART_FLOOD: {
      static const char text[] = "uart flood \x1b[2J\x1b]0;pwned\x07 ";
      for (;;) uart_write(text, sizeof text - 1);
    }
    default:
      serve_forever();
  }
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uint32_t sc = hostile_scenario;
  int attacked_before = hostile_run != 0 && *RUN_MARK == hostile_run;
  const char *name = "hostile-echo";
  rpmsg_ept_cb cb = echo_cb;
  if (!attacked_before) {
    if (sc == SC_TTY_FLOOD) name = "rpmsg-tty";
    else if (sc == SC_CHAR_FLOOD) name = "rpmsg-raw";
    else if (sc == SC_NEVER_SERVICE) name = "svc-dead";
    else if (sc == SC_SQUAT) {
      name = "rpmsg-echo";
      cb = squat_cb;
    }
  }
  trace_printf("hostile: scenario %u%s\n", (unsigned)sc, attacked_before ? " done before: behaving" : "");
  if (rpmsg_init_vdev(&rdev, &resource_table.rpmsg, &resource_table, sizeof resource_table) != 0 ||
      rpmsg_create_ept(&ept, &rdev, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, cb, 0) != 0) {
    trace_puts("hostile: unusable resource table\n");
    fw_park();
  }
  if (sc == SC_CONSOLE_FLOOD && !attacked_before) console_flood();
  wait_ready();
  if (attacked_before || sc == SC_NONE || sc >= SC_COUNT || sc == SC_SQUAT) serve_forever();
  *RUN_MARK = hostile_run;
  attack(sc);
}
