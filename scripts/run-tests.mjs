// Runs every *.test.ts under src/ and test/ with node:test through tsx.
// Node 20's `node --test` takes file paths, not globs, so the list is built here.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains a substring)
// The tests get a temporary folder of their own (TMPDIR): whatever they leave in it — a test or a
// spawned rproc that forgot to clean up — fails the run, with the names of what was left.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { constants, tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = ['src', 'test']
  .flatMap((d) => {
    try {
      return walk(join(root, d), []);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}

const testTmp = mkdtempSync(join(tmpdir(), 'rproc-tests-'));
// tsx keeps its transform cache in the temporary folder: share the usual one, it is not ours to check.
const tsxCache = `tsx-${userInfo().uid}`;
if (existsSync(join(tmpdir(), tsxCache))) symlinkSync(join(tmpdir(), tsxCache), join(testTmp, tsxCache));
// The tests run in a process group of their own: a signal to this script (Ctrl-C, the fuzz
// script's time limit) reaches every test process, and the temporary folder is still checked.
// A test that hangs fails after this long instead of holding the run (and CI) until it is killed.
const TEST_TIMEOUT_MS = 300_000;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: testTmp },
    detached: true,
  },
);
let signalled;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    signalled = sig;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  });
const code = await new Promise((resolve) =>
  child.on('close', (c, sig) => resolve(c ?? (sig === null ? 1 : 128 + constants.signals[sig]))),
);
let status = signalled === undefined ? code : 128 + constants.signals[signalled];
if (signalled !== undefined) {
  // Interrupted: nothing of the group may outlive the run and write into the folder after it is gone.
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // All gone already.
  }
}
try {
  const left = readdirSync(testTmp).filter((n) => !n.startsWith('tsx-'));
  if (left.length > 0) {
    console.error(
      `run-tests: the tests left ${left.length} temporary file(s) or folder(s): ${left.join(', ')}`,
    );
    if (status === 0) status = 1;
  }
} finally {
  rmSync(testTmp, { recursive: true, force: true });
}
process.exit(status);
