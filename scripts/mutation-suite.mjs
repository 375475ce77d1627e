// The test "file" StrykerJS runs for a module (see stryker.config.mjs): imports, in order, the test
// files scripts/mutate-modules.mjs lists for STRYKER_MODULE, so that node:test runs them all in this
// one process. One process per mutant instead of one per test file: on a small machine the start-up
// of a tsx process costs more than most of these test files, and the boundary tables come first so
// that a mutant they kill fails within the first second (the TAP runner bails at the first failure).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { MUTATE_MODULES } from './mutate-modules.mjs';

const name = process.env.STRYKER_MODULE ?? '';
if (name !== '' && !(name in MUTATE_MODULES)) {
  throw new Error(`mutation-suite: STRYKER_MODULE "${name}" is not a module`);
}
// Unset: every module's tests (a whole-tree `npx stryker run`), each file once.
const files =
  name === ''
    ? [...new Set(Object.values(MUTATE_MODULES).flatMap((m) => m.tests))]
    : MUTATE_MODULES[name].tests;
// Property tests (test/support/property.ts) run 20 cases under one fixed seed here instead of their
// hundreds under a random one: the boundary tables are what kill mutants, each mutant then costs
// less, and every mutant meets the same cases, so a re-run scores the same. `npm test` keeps its
// numbers; FC_RUNS / FC_SEED set by hand still win.
process.env.FC_RUNS ??= '20';
process.env.FC_SEED ??= '1';
for (const file of files) await import(pathToFileURL(resolve(file)).href);
