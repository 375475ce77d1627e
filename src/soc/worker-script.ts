// Which script a worker thread of the virtual SoC starts: the compiled body when this code is itself
// compiled or dist/ is fresh (fast start), else the .mjs bootstrap next to the TypeScript body that
// loads it through tsx (DESIGN: tsx's loader does not reach `new Worker('./x.ts')` on Node 20).

import type { CoreKind } from './board.ts';
import { distIsFresh, distUrl } from '../util/dist.ts';

/** `body`: the worker's path under src/ without extension, e.g. 'soc/group/core-group-worker'. */
export function workerScriptUrl(body: string): URL {
  if (import.meta.url.endsWith('.js')) return new URL(`../${body}.js`, import.meta.url);
  if (distIsFresh()) return distUrl(`${body}.js`);
  return new URL(`../${body}.mjs`, import.meta.url);
}

/** The script a lone core of each kind runs in its own thread. */
export function coreWorkerScript(kind: CoreKind): URL {
  return workerScriptUrl(kind === 'js' ? 'cpu/js/js-core-worker' : 'cpu/rv32/rv32-core-worker');
}

/** The script of a core group's thread (several cores in one thread). */
export function groupWorkerScript(): URL {
  return workerScriptUrl('soc/group/core-group-worker');
}
