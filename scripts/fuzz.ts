// Long fuzzing runs of the property tests (files named *property.test.ts), for a set time: rounds
// of the suite with many runs per property and fresh random seeds, until the duration has passed
// (the round under way then is stopped). A failing seed is kept in test/seeds/ by the harness and
// replayed by every later `npm test`.
//   npm run fuzz                                   3 minutes, 5000 runs per property per round
//   npm run fuzz -- --duration 600 --runs 20000 rsc   ten minutes, only files matching "rsc"

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const DEFAULT_DURATION_S = 180;
const DEFAULT_RUNS = 5000;

function usage(message: string): never {
  console.error(`fuzz: ${message}\nusage: npm run fuzz -- [--duration SECONDS] [--runs N] [FILE-FILTER...]`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: { duration: { type: 'string' }, runs: { type: 'string' } },
    allowPositionals: true,
  });
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const { values, positionals } = parsed;
const duration = values.duration === undefined ? DEFAULT_DURATION_S : Number(values.duration);
if (!Number.isFinite(duration) || duration <= 0 || duration > 7 * 24 * 3600)
  usage(`--duration takes seconds, above 0 and at most a week, not "${values.duration}"`);
const runs = values.runs ?? String(DEFAULT_RUNS);
if (!/^\d+$/.test(runs) || Number(runs) < 1) usage(`--runs takes a whole number above 0, not "${runs}"`);
const targets = positionals.length > 0 ? positionals : ['property.test.ts'];

const deadline = performance.now() + duration * 1000;
console.log(`fuzz: ${duration} s, ${runs} runs per property per round, files matching ${targets.join(', ')}`);

/** One round; resolves with its exit status, or 'time' when the deadline stopped it. */
function round(): Promise<number | 'time'> {
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...targets], {
    stdio: 'inherit',
    env: { ...process.env, FC_RUNS: runs },
  });
  let stopped = false;
  const timer = setTimeout(
    () => {
      stopped = true;
      child.kill('SIGTERM');
    },
    Math.max(0, deadline - performance.now()),
  );
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(stopped ? 'time' : (code ?? 1));
    }),
  );
}

let rounds = 0;
for (;;) {
  if (performance.now() >= deadline) break;
  const status = await round();
  if (status === 'time') {
    console.log(`fuzz: time is up during round ${rounds + 1}; that round was stopped`);
    break;
  }
  if (status !== 0) {
    console.error(`fuzz: round ${rounds + 1} failed (the failing seed is kept in test/seeds/)`);
    process.exit(1);
  }
  rounds++;
}
console.log(`fuzz: ${rounds} full round(s) passed in ${duration} s`);
