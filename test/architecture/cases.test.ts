// Every malformed-input case id cited in the repository (TC-E07, TC-V03a, ...) is a row of
// docs/malformed-input-cases.md, and every row there is cited by at least one test: a reader who
// meets an id can look it up, and no case in the catalogue is left without a test.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CATALOGUE = join(ROOT, 'docs', 'malformed-input-cases.md');
const ID = /TC-[A-Z]\d{2}[a-z]?/g;
const SKIP = new Set(['node_modules', 'dist', '.git', 'tmp', 'prebuilt', 'build']);

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|mts|mjs|js|md|c|h|S|ld|dts|json)$/.test(name) || name === 'run') out.push(path);
  }
  return out;
}

function catalogueIds(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of readFileSync(CATALOGUE, 'utf8').split('\n')) {
    const m = /^\|\s*(TC-[A-Z]\d{2}[a-z]?)\s*\|/.exec(line);
    if (m?.[1] !== undefined) rows.set(m[1], (rows.get(m[1]) ?? 0) + 1);
  }
  return rows;
}

describe('docs/malformed-input-cases.md', () => {
  const rows = catalogueIds();
  const cited = new Map<string, string>();
  const citedByTests = new Set<string>();
  for (const file of files(ROOT)) {
    if (file === CATALOGUE) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(ID)) {
      if (!cited.has(m[0])) cited.set(m[0], relative(ROOT, file));
      if (file.endsWith('.test.ts')) citedByTests.add(m[0]);
    }
  }

  it('lists each case once', () => {
    assert.ok(rows.size >= 90, `only ${rows.size} rows found: is the table format intact?`);
    assert.deepEqual(
      [...rows].filter(([, n]) => n > 1).map(([id]) => id),
      [],
    );
  });

  it('resolves every id cited in code, tests, docs and firmware', () => {
    const missing = [...cited].filter(([id]) => !rows.has(id)).map(([id, where]) => `${id} (${where})`);
    assert.deepEqual(missing, []);
  });

  it('has a test citing every case it lists', () => {
    const untested = [...rows.keys()].filter((id) => !citedByTests.has(id));
    assert.deepEqual(untested, []);
  });
});
