// What the SoC benchmarks share: booting a generated many-core board with a bundled js firmware
// and statistics helpers. Worker cores start from dist/ only when it is fresh (npm run build);
// otherwise they load TypeScript through tsx and every figure here is meaningless, so say so.

import { defaultFirmwareStore } from '../src/cli/soc-setup.ts';
import { manyCoreBoard } from '../src/soc/boards/many-cores.ts';
import { VirtualSoc } from '../src/soc/virtual-soc.ts';
import { distIsFresh } from '../src/util/dist.ts';

export function warnIfStale(): void {
  if (!distIsFresh()) {
    console.warn('  warning: dist/ is older than src/: worker cores load through tsx (run `npm run build`)');
  }
}

/** A board of `cores` js cores running `firmware`, started but not booted. */
export async function makeSoc(cores: number, firmware: string): Promise<VirtualSoc> {
  const soc = new VirtualSoc({
    board: manyCoreBoard(cores, firmware),
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
  });
  await soc.start();
  return soc;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? (s[m] ?? Number.NaN)
      : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** "min..max" of a list, for notes about run-to-run spread. */
export function spread(xs: readonly number[], digits = 1): string {
  return `${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
