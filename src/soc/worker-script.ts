// Which script a worker thread of the virtual SoC starts, and which module it loads a core's engine
// from: the compiled code when this code is itself compiled or dist/ is fresh (fast start), else the
// .mjs bootstrap next to the TypeScript body that loads it through tsx (DESIGN: tsx's loader does
// not reach `new Worker('./x.ts')` on Node 20) and the TypeScript module itself.

import { distIsFresh, distUrl } from '../util/dist.ts';

/** `body`: the worker's path under src/ without extension, e.g. 'soc/group/core-group-worker'. */
export function workerScriptUrl(body: string): URL {
  if (import.meta.url.endsWith('.js')) return new URL(`../${body}.js`, import.meta.url);
  if (distIsFresh()) return distUrl(`${body}.js`);
  return new URL(`../${body}.mjs`, import.meta.url);
}

/**
 * A module a worker thread imports, by its path under src/ without extension (e.g. an engine,
 * 'cpu/js/js-core-kind'): compiled exactly when the thread's own script is (workerScriptUrl), so a
 * compiled thread never meets TypeScript and a tsx thread loads the sources being edited.
 */
export function threadModuleUrl(body: string): URL {
  if (import.meta.url.endsWith('.js')) return new URL(`../${body}.js`, import.meta.url);
  if (distIsFresh()) return distUrl(`${body}.js`);
  return new URL(`../${body}.ts`, import.meta.url);
}

/** The script a lone core of any kind runs in its own thread (it loads the core's engine). */
export function coreWorkerScript(): URL {
  return workerScriptUrl('soc/core-worker');
}

/** The script of a core group's thread (several cores in one thread). */
export function groupWorkerScript(): URL {
  return workerScriptUrl('soc/group/core-group-worker');
}
