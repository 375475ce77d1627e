// Long fuzzing runs: the property tests (files named *property.test.ts) with many more runs than
// the normal suite. `npm run fuzz` (default 20000 runs each) or `npm run fuzz -- 200000 rsc`.
// A failing seed is kept in test/seeds/ by the harness and replayed by every later `npm test`.

import { spawnSync } from 'node:child_process';

const [runsArg, ...filters] = process.argv.slice(2);
const runs = runsArg !== undefined && /^\d+$/.test(runsArg) ? runsArg : '20000';
const rest = runsArg !== undefined && !/^\d+$/.test(runsArg) ? [runsArg, ...filters] : filters;
const targets = rest.length > 0 ? rest : ['property.test.ts'];
console.log(`fuzz: ${runs} runs per property, files matching ${targets.join(', ')}`);
const result = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...targets], {
  stdio: 'inherit',
  env: { ...process.env, FC_RUNS: runs },
});
process.exit(result.status ?? 1);
