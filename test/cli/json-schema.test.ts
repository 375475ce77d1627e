// The small JSON Schema validator the CLI event tests rely on: each keyword accepts what it should
// and names what it refuses, and an unsupported keyword is refused rather than ignored.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validate, type Schema } from './json-schema.ts';

const cases: [string, Schema, unknown, boolean][] = [
  ['type integer accepts 3', { type: 'integer' }, 3, true],
  ['type integer refuses 3.5', { type: 'integer' }, 3.5, false],
  ['type number accepts an integer', { type: 'number' }, 3, true],
  ['type list accepts null', { type: ['object', 'null'] }, null, true],
  ['const', { const: 1 }, 2, false],
  ['enum', { enum: ['a', 'b'] }, 'c', false],
  ['pattern', { type: 'string', pattern: '^0x[0-9a-f]+$' }, '0x8000', true],
  ['pattern refuses', { type: 'string', pattern: '^0x[0-9a-f]+$' }, '32768', false],
  ['minimum', { minimum: 0 }, -1, false],
  ['maximum', { maximum: 255 }, 256, false],
  ['minLength', { type: 'string', minLength: 1 }, '', false],
  ['required', { type: 'object', required: ['a'] }, {}, false],
  [
    'additionalProperties false',
    { type: 'object', properties: { a: {} }, additionalProperties: false },
    { b: 1 },
    false,
  ],
  ['properties checked', { type: 'object', properties: { a: { type: 'string' } } }, { a: 1 }, false],
  ['items', { type: 'array', items: { type: 'integer' } }, [1, 'x'], false],
  ['oneOf exactly one', { oneOf: [{ type: 'integer' }, { type: 'string' }] }, 'x', true],
  ['oneOf two match', { oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1, false],
  ['anyOf', { anyOf: [{ type: 'integer' }, { type: 'string' }] }, true, false],
  ['$ref', { $defs: { h: { type: 'string' } }, $ref: '#/$defs/h' }, 1, false],
];

describe('json-schema validator', () => {
  for (const [name, schema, value, ok] of cases)
    it(`${name}: ${ok ? 'valid' : 'invalid'}`, () => {
      const errors = validate(schema, value);
      assert.equal(errors.length === 0, ok, errors.join('\n'));
    });

  it('refuses a keyword it does not implement', () => {
    assert.throws(() => validate({ format: 'email' }, 'x'), /keyword format .* not supported/);
  });
});
