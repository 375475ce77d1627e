// Runs every *.test.ts under src/ and test/ with node:test through tsx.
// Node 20's `node --test` takes file paths, not globs, so the list is built here.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains a substring)
// The tests get a temporary folder of their own (TMPDIR): whatever they leave in it — a test or a
// spawned rproc that forgot to clean up — fails the run, with the names of what was left.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

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
let status;
try {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TMPDIR: testTmp },
    },
  );
  status = result.status ?? 1;
  const left = readdirSync(testTmp).filter((n) => !n.startsWith('tsx-'));
  if (left.length > 0) {
    console.error(
      `run-tests: the tests left ${left.length} temporary file(s) or folder(s): ${left.join(', ')}`,
    );
    status = status === 0 ? 1 : status;
  }
} finally {
  rmSync(testTmp, { recursive: true, force: true });
}
process.exit(status);
