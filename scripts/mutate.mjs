// `npm run mutate [-- module ...]`: StrykerJS over the trust-boundary modules, one module at a time
// (all of them without arguments; `npm run mutate -- rsc` for one). Incremental: a re-run with the
// same test files only re-tests mutants whose code changed; changed tests start a full run (see
// stryker.config.mjs).
// Extra Stryker flags after the modules pass through, e.g. `npm run mutate -- rsc --force`.
import { spawnSync } from 'node:child_process';
import { MUTATE_MODULES } from './mutate-modules.mjs';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !(n in MUTATE_MODULES));
if (unknown.length > 0) {
  console.error(
    `mutate: unknown module ${unknown.join(', ')}; one of ${Object.keys(MUTATE_MODULES).join(', ')}`,
  );
  process.exit(2);
}
let status = 0;
for (const name of names.length > 0 ? names : Object.keys(MUTATE_MODULES)) {
  console.log(`mutate: ${name} (${MUTATE_MODULES[name].what})`);
  const result = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', ...flags], {
    stdio: 'inherit',
    env: { ...process.env, STRYKER_MODULE: name },
  });
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
