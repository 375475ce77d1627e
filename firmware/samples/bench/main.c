/*
 * bench on a core of the virtual SoC (or qemu-system-riscv32 -M virt -bios none): output on the
 * UART and in the trace buffer, verdict through the SiFive test finisher. Touches no device QEMU
 * lacks (no fw_init: no interrupts, no mailbox).
 */
#include "bench.h"
#include "fw.h"
#include "fw_rsc.h"

FW_RSC_TABLE_STD(resource_table, 64, 16);

void bench_out(const char *s) {
  uart_puts(s);
  trace_puts(s);
}

int main(void) {
  int rc = bench_main();
  fw_exit(rc == 0 ? 0u : (uint32_t)rc);
}
