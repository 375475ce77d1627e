// Worker bootstrap of the js core. tsx's loader does not reach code started with
// `new Worker('./x.ts')` on Node 20 (tsx issue #354): run the compiled body from dist/ when there
// is one, else register tsx here and load the TypeScript source.
import { existsSync } from 'node:fs';

const compiled = new URL('../../../dist/cpu/js/js-core-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./js-core-worker.ts');
}
