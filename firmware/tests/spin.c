/*
 * spin: counts in a tight loop for ever, touching no device: a core that never idles, for the
 * debugger tests to interrupt (gdb's Ctrl-C) and look at. Not self-checking and never finishing,
 * so it is not among the programs run to the test finisher.
 */
#include <stdint.h>

#include "common/platform.h"

volatile uint32_t spins;

int main(void) {
  put_str("spin: spinning\n");
  for (;;) spins++;
}
