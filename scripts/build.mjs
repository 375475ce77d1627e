// `npm run build` (also npm's prepare step, so `npm ci` and `npm pack` run it): compiles src/ to
// dist/ (JavaScript and .d.ts, tsconfig.build.json) from a clean dist/, so that no file of a module
// since removed is left to ship, then stamps dist/ as built from the current sources (util/dist.ts).
import { rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url);
rmSync(new URL('dist', root), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(new URL('dist/.stamp', root), `${new Date().toISOString()}\n`);
