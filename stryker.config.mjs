// StrykerJS configuration for `npm run mutate` (scripts/mutate.mjs): one trust-boundary module per
// run, chosen by STRYKER_MODULE from scripts/mutate-modules.mjs (unset: every module in one run, as
// a plain `npx stryker run` does). Tests run through the TAP runner: scripts/mutation-suite.mjs
// imports the module's test files into one `node --import tsx` process whose node:test output is
// TAP, in a sandbox copy of the tree. Reports and the incremental file go under reports/mutation/
// (not committed).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MUTATE_MODULES } from './scripts/mutate-modules.mjs';

const name = process.env.STRYKER_MODULE ?? '';
if (name !== '' && !(name in MUTATE_MODULES)) {
  throw new Error(`STRYKER_MODULE must be one of ${Object.keys(MUTATE_MODULES).join(', ')} (got "${name}")`);
}
const mutate =
  name === '' ? Object.values(MUTATE_MODULES).flatMap((m) => m.mutate) : MUTATE_MODULES[name].mutate;
const reportDir = `reports/mutation/${name === '' ? 'all' : name}`;
// To Stryker the module's tests are one file, scripts/mutation-suite.mjs, which does not change
// when the test files it imports do: its incremental mode would then reuse a survivor's result
// after a test was added to kill it. So the incremental file is keyed by the test files' contents:
// changed tests start a full run, changed source re-tests only the mutants whose code changed.
const testFiles =
  name === '' ? Object.values(MUTATE_MODULES).flatMap((m) => m.tests) : MUTATE_MODULES[name].tests;
const testsHash = createHash('sha256');
for (const file of [...testFiles, 'scripts/mutation-suite.mjs', 'scripts/mutate-modules.mjs']) {
  testsHash.update(readFileSync(file));
}
const incrementalFile = `${reportDir}/stryker-incremental-${testsHash.digest('hex').slice(0, 12)}.json`;

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner'],
  mutate,
  tap: {
    testFiles: ['scripts/mutation-suite.mjs'],
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '{{testFile}}'],
    forceBail: true,
  },
  // The suite is one "test" to Stryker: coverage only tells which mutants no test reaches.
  coverageAnalysis: 'perTest',
  // Message wording is not a check: every check's message is asserted by the boundary tables, and
  // the field labels handed to bounds-checked readers only reach a message if a check was missed.
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // Generous: the machine this runs on is often shared, and a slow run must not pass as a timeout.
  timeoutMS: 20000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `${reportDir}/mutation.json` },
  htmlReporter: { fileName: `${reportDir}/mutation.html` },
  clearTextReporter: { allowColor: false, logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  ignorePatterns: ['dist', 'bench/results', 'firmware/build', 'reports', 'tmp', '.stryker-tmp'],
  thresholds: { high: 95, low: 90, break: null },
};
