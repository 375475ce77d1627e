// The interpreter's switch uses numeric-literal case labels (a V8 jump table) with the op name in
// a comment; this keeps every `case N: // NAME` in step with the OP table, in both switches that
// spell ops as literals (interpreter.ts and system.ts).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ENTRY } from './decode-cache.ts';
import { OP, type OpName } from './opcodes.ts';

describe('literal case labels', () => {
  for (const file of ['interpreter.ts', 'system.ts', 'atomic.ts']) {
    it(`${file}: every "case N: // NAME" matches OP.NAME`, () => {
      const source = readFileSync(join(import.meta.dirname, file), 'utf8');
      const labels = [...source.matchAll(/case (\d+): (?:\{\s*)?\/\/ ([A-Z_]+)/g)];
      assert.ok(labels.length > 0);
      for (const [, n, name] of labels) {
        const key = (name ?? '') in OP ? (name as OpName) : (`${name ?? ''}_W` as OpName);
        const op: number | undefined = OP[key];
        assert.equal(Number(n), op, `case ${n} is labelled ${name}`);
      }
    });
  }
  it('the interpreter handles every non-system op', () => {
    const source = readFileSync(join(import.meta.dirname, 'interpreter.ts'), 'utf8');
    const handled = new Set([...source.matchAll(/case (\d+):/g)].map((m) => Number(m[1])));
    const first: number = OP.LUI;
    const end: number = OP.FENCE_I;
    for (let op = first; op < end; op++) assert.ok(handled.has(op), `op ${op}`);
  });
});

describe('decode cache layout', () => {
  it('is what the interpreter spells as literals', () => {
    // interpreter.ts: slot = ((pc >>> 1) & mask) << 2, info at slot + 1, imm at slot + 2
    assert.equal(ENTRY, 4);
    const source = readFileSync(join(import.meta.dirname, 'interpreter.ts'), 'utf8');
    assert.match(source, /const slot = \(\(pc >>> 1\) & mask\) << 2;/);
  });
});
