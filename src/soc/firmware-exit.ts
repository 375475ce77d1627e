// What the virtual SoC does when a core's firmware ends by itself through the test finisher (QEMU
// virt's sifive_test at 0x0010_0000): the core has halted, so the platform shuts its processor
// down and the state becomes offline, as a platform driver would on learning that its remote has
// stopped. A reset request (0x7777) is an end too: the core is not restarted (QEMU -no-reboot).

import type { Rproc } from '../remoteproc/rproc.ts';
import type { CoreExitCause } from './core-messages.ts';

/** The causes that mean the firmware itself ended (a 'halt' is the host stopping the core). */
export type FirmwareExitCause = Exclude<CoreExitCause, 'halt'>;

export function isFirmwareExit(cause: CoreExitCause): cause is FirmwareExitCause {
  return cause !== 'halt';
}

/** One line saying how the firmware ended: "test finisher FAIL, code 3". */
export function describeFirmwareExit(code: number, cause: FirmwareExitCause): string {
  switch (cause) {
    case 'pass':
      return 'test finisher PASS (0x5555)';
    case 'fail':
      return `test finisher FAIL, code ${code}`;
    case 'reset':
      return 'test finisher RESET (0x7777): the core is not restarted';
  }
}

/**
 * Bring the processor of a core whose firmware ended to offline: every power reference is dropped
 * (the core will not run again until booted anew). A processor the host is already stopping, or
 * one that crashed meanwhile, is left to that.
 */
export async function shutDownAfterExit(rproc: Rproc, reason: string): Promise<void> {
  const up = (): boolean => rproc.state === 'running' || rproc.state === 'attached';
  if (!up()) return;
  rproc.log('info', `${rproc.name}: firmware ended (${reason}); shutting the processor down`);
  try {
    while (up() && rproc.power > 0) await rproc.shutdown();
  } catch (e) {
    // The host may have stopped or deleted it between two steps: nothing left to do then.
    if (up()) rproc.log('error', `shutdown after the firmware ended failed: ${String(e)}`);
  }
}
