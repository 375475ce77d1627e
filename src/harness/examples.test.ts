// The scenario files in examples/: each reads, the schema accepts it, and each but the one that
// fails on purpose passes (in this thread; test/cli/ runs the samples through the command).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseScenario } from './scenario-parse.ts';
import { runScenarioFile } from '../testing/scenario.ts';

const DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.json'));
const schema: unknown = JSON.parse(
  readFileSync(new URL('../../docs/scenario.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv2020({ allowUnionTypes: true }).compile(schema as object);

describe('examples/', () => {
  it('has the passing and the deliberately failing sample', () => {
    assert.ok(FILES.includes('echo-pass.yaml') && FILES.includes('echo-fail.yaml'));
  });

  for (const f of FILES) {
    it(`${f} reads and the schema accepts it`, () => {
      const text = readFileSync(join(DIR, f), 'utf8');
      parseScenario(join(DIR, f), text);
      assert.equal(validate(parseYaml(text)), true, JSON.stringify(validate.errors));
    });
  }

  it('faults.yaml passes: the echo firmware survives every fault', async () => {
    const r = await runScenarioFile(join(DIR, 'faults.yaml'));
    assert.equal(r.status, 'passed', r.failure?.message);
    assert.ok(r.virtual && r.clockMs > 20_000, 'the stall ran its 20 virtual seconds');
  });
});
