// The README cannot drift unnoticed: every code block says how it is checked (scripts/
// readme-blocks.mjs) — run against the installed package by `npm run pack-smoke` (CI), with its
// printed output pinned, or skipped for a stated reason — and the "Two commands" stay as promised.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeBlocks } from '../scripts/readme-blocks.mjs';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const blocks = readmeBlocks(readme);

describe('README code blocks', () => {
  it('every block is marked: installed, output or skip (with a reason)', () => {
    const unmarked = blocks.filter((b) => b.mode === undefined).map((b) => `line ${b.line}`);
    assert.deepEqual(unmarked, []);
    for (const b of blocks.filter((x) => x.mode === 'skip'))
      assert.match(b.note, /^\(.{10,}\)$/, `the skipped block at line ${b.line} says why`);
  });

  it('the library examples run against the installed package, each with its output pinned', () => {
    const ts = blocks.filter((b) => b.lang === 'ts');
    assert.ok(ts.length > 0);
    for (const b of ts) {
      assert.equal(b.mode, 'installed', `ts block at line ${b.line}`);
      assert.ok(
        b.output !== undefined && b.output.length > 0,
        `ts block at line ${b.line} has an Output block`,
      );
      assert.match(b.code, /from 'remoteproc-ts(\/\w+)?'/, 'imports the package, not ./src');
    }
  });

  it('the installed shell blocks are npx rproc commands (after the install line)', () => {
    for (const b of blocks.filter((x) => x.mode === 'installed' && x.lang === 'sh'))
      for (const line of b.code.split('\n').filter((l) => l.trim() !== ''))
        assert.match(line, /^(npm install remoteproc-ts|npx rproc )/, `line "${line}"`);
  });

  it('keeps the "Two commands": npm ci && npx rproc demo, and npm test', () => {
    const two = blocks.find((b) => b.code.includes('npm ci && npx rproc demo'));
    assert.ok(two !== undefined);
    assert.match(two.code, /^npm test\b/m);
  });
});
