/*
 * shell: a tiny command shell on the UART, for `rproc run shell.elf --uart-stdin`. Input is
 * interrupt-driven (the UART's receive interrupt through the PLIC, as on QEMU's virt machine);
 * between lines the core sleeps in wfi. Line editing:
 * backspace/delete, Ctrl-U (erase the line), Ctrl-C (drop it). Commands: help, echo, peek, poke,
 * uptime, crash (an unhandled store fault: the host's crash report and coredump), exit.
 */
#include <stdint.h>
#include <string.h>

#include "fw.h"
#include "fw_rsc.h"

/* A resource table with just the trace buffer: the shell needs no rpmsg. */
struct shell_rsc_table {
  struct resource_table_hdr hdr;
  uint32_t offset[1];
  struct fw_rsc_trace trace;
} __attribute__((packed));

RSC_TABLE_SECTION struct shell_rsc_table resource_table = {
    .hdr = {.ver = 1, .num = 1, .reserved = {0, 0}},
    .offset = {__builtin_offsetof(struct shell_rsc_table, trace)},
    .trace = FW_RSC_TRACE_ENTRY("trace0"),
};

#define LINE_MAX 96u
#define MAX_ARGS 16u
#define BAD_ADDRESS 0x00001000u /* unmapped; not NULL, which the compiler may assume is never stored to */

static char line[LINE_MAX + 1];
static uint32_t line_len;

/* A peek or poke in progress: an access fault skips the access instead of crashing. */
static volatile uint32_t probing;
static volatile uint32_t probe_faulted;

void fw_fault(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  if (probing && (mcause == FW_EXC_LOAD_ACCESS_FAULT || mcause == FW_EXC_STORE_ACCESS_FAULT)) {
    probe_faulted = mtval | 1u;
    uint16_t insn = *(volatile uint16_t *)mepc;
    fw_csr_write(mepc, mepc + ((insn & 3u) == 3u ? 4u : 2u));
    return;
  }
  fw_fault_report(mcause, mepc, mtval);
  fw_fault_unhandled();
}

/* Parse a number: 0x-prefixed hex or decimal; 0 on success. */
static int parse_u32(const char *s, uint32_t *out) {
  uint32_t v = 0;
  int base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  if (*s == 0) return -1;
  for (; *s != 0; s++) {
    uint32_t d;
    if (*s >= '0' && *s <= '9')
      d = (uint32_t)(*s - '0');
    else if (base == 16 && *s >= 'a' && *s <= 'f')
      d = (uint32_t)(*s - 'a' + 10);
    else if (base == 16 && *s >= 'A' && *s <= 'F')
      d = (uint32_t)(*s - 'A' + 10);
    else
      return -1;
    v = v * (uint32_t)base + d;
  }
  *out = v;
  return 0;
}

static int parse_addr(const char *cmd, const char *arg, uint32_t *addr) {
  if (arg == 0 || parse_u32(arg, addr) != 0) {
    uart_printf("%s: expected an address, e.g. %s 0x80000000\n", cmd, cmd);
    return -1;
  }
  if ((*addr & 3u) != 0) {
    uart_printf("%s: 0x%08x is not word-aligned\n", cmd, (unsigned)*addr);
    return -1;
  }
  return 0;
}

__attribute__((noinline)) static uint32_t probe_read(uint32_t addr) {
  probe_faulted = 0;
  probing = 1;
  uint32_t v = *(volatile uint32_t *)addr;
  probing = 0;
  return v;
}

__attribute__((noinline)) static void probe_write(uint32_t addr, uint32_t value) {
  probe_faulted = 0;
  probing = 1;
  *(volatile uint32_t *)addr = value;
  probing = 0;
}

__attribute__((noinline)) static void shell_crash(void) { *(volatile uint32_t *)BAD_ADDRESS = 0xdeadbeefu; }

static void cmd_help(void) {
  uart_puts(
      "commands:\n"
      "  help               this list\n"
      "  echo TEXT...       print TEXT\n"
      "  peek ADDR          read the 32-bit word at ADDR\n"
      "  poke ADDR VALUE    write VALUE to the 32-bit word at ADDR\n"
      "  uptime             milliseconds since boot\n"
      "  crash              store to 0x00001000: an unhandled fault the host reports\n"
      "  exit [CODE]        stop the core (test finisher) with CODE\n");
}

static void run(char **argv, uint32_t argc) {
  const char *cmd = argv[0];
  if (strcmp(cmd, "help") == 0) {
    cmd_help();
  } else if (strcmp(cmd, "echo") == 0) {
    for (uint32_t i = 1; i < argc; i++) uart_printf(i + 1 < argc ? "%s " : "%s", argv[i]);
    uart_putc('\n');
  } else if (strcmp(cmd, "peek") == 0) {
    uint32_t addr;
    if (parse_addr(cmd, argc > 1 ? argv[1] : 0, &addr) != 0) return;
    uint32_t v = probe_read(addr);
    if (probe_faulted != 0)
      uart_printf("peek: access fault at 0x%08x\n", (unsigned)addr);
    else
      uart_printf("0x%08x: 0x%08x\n", (unsigned)addr, (unsigned)v);
  } else if (strcmp(cmd, "poke") == 0) {
    uint32_t addr, value;
    if (parse_addr(cmd, argc > 1 ? argv[1] : 0, &addr) != 0) return;
    if (argc < 3 || parse_u32(argv[2], &value) != 0) {
      uart_puts("poke: expected a value, e.g. poke 0x80010000 0x1234\n");
      return;
    }
    probe_write(addr, value);
    if (probe_faulted != 0) uart_printf("poke: access fault at 0x%08x\n", (unsigned)addr);
  } else if (strcmp(cmd, "uptime") == 0) {
    uart_printf("%u ms\n", (unsigned)timer_to_ms(timer_now()));
  } else if (strcmp(cmd, "crash") == 0) {
    uart_puts("crash: storing to 0x00001000\n");
    shell_crash();
  } else if (strcmp(cmd, "exit") == 0) {
    uint32_t code = 0;
    if (argc > 1 && parse_u32(argv[1], &code) != 0) code = 1;
    uart_printf("exit %u\n", (unsigned)code);
    fw_exit(code);
  } else {
    uart_printf("%s: unknown command (try help)\n", cmd);
  }
}

static void prompt(void) { uart_puts("> "); }

static void execute(void) {
  char *argv[MAX_ARGS + 1];
  uint32_t argc = 0;
  line[line_len] = 0;
  for (char *p = line; *p != 0 && argc <= MAX_ARGS;) {
    while (*p == ' ') *p++ = 0;
    if (*p == 0) break;
    argv[argc++] = p;
    while (*p != 0 && *p != ' ') p++;
  }
  if (argc > MAX_ARGS)
    uart_printf("too many arguments (at most %u)\n", (unsigned)MAX_ARGS - 1u);
  else if (argc > 0)
    run(argv, argc);
  line_len = 0;
}

/* One received byte; `last` is the byte before it (a '\n' right after a '\r' is not a second Enter). */
static void input(int c, int last) {
  if (c == '\r' || (c == '\n' && last != '\r')) {
    uart_putc('\n');
    execute();
    prompt();
  } else if (c == 0x08 || c == 0x7f) {
    if (line_len > 0) {
      line_len--;
      uart_puts("\b \b");
    }
  } else if (c == 0x15) { /* Ctrl-U */
    while (line_len > 0) {
      line_len--;
      uart_puts("\b \b");
    }
  } else if (c == 0x03) { /* Ctrl-C */
    uart_puts("^C\n");
    line_len = 0;
    prompt();
  } else if (c >= 0x20 && c < 0x7f) {
    if (line_len < LINE_MAX) {
      line[line_len++] = (char)c;
      uart_putc((char)c);
    } else {
      uart_putc('\a');
    }
  }
}

int main(void) {
  fw_init(&resource_table, sizeof resource_table);
  uart_rx_start();
  trace_puts("shell: up\n");
  uart_puts("shell: type help\n");
  prompt();
  int last = -1;
  for (;;) {
    int c;
    while ((c = uart_getc()) >= 0) {
      input(c, last);
      last = c;
    }
    fw_wait_event(0);
  }
}
