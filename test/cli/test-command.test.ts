// rproc test through the real process, on the samples in examples/ (docs/ci.md): the passing one
// passes (0), the deliberately failing one fails (1) with its unmet expectation as the JUnit
// failure message and its artefacts kept; bad scenario files are exit status 2, one line each
// naming the file, line and key, and nothing runs.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, type Schema } from './json-schema.ts';
import { ROOT, STACK_FRAME, eventsOf, removeScratch, rproc, scratchDir } from './cli-process.ts';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-events.schema.json'), 'utf8')) as Schema;
const dir = scratchDir('rproc-test');
after(() => removeScratch(dir));

const PASS = 'examples/echo-pass.yaml';
const FAIL = 'examples/echo-fail.yaml';

describe('rproc test', () => {
  it('passes the passing example (0), with schema-valid JSON events and a JUnit case without failure', async () => {
    const junit = join(dir, 'pass.xml');
    const r = await rproc(['test', PASS, '--json', '--junit', junit], { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    const evs = eventsOf(r.stdout);
    assert.deepEqual(
      evs.flatMap((e) => validate(schema, e).map((p) => `${e.event}: ${p}`)),
      [],
    );
    const end = evs.find((e) => e.event === 'scenario-end');
    assert.equal(end?.['status'], 'passed');
    assert.equal(end['file'], PASS);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuites name="rproc" tests="1" failures="0" errors="0"/);
    assert.match(
      xml,
      /<testcase name="echo firmware answers[^"]*" classname="examples.echo-pass" file="examples\/echo-pass.yaml"/,
    );
  });

  it('fails (1) when one fails: the JUnit failure is the unmet expectation, its artefacts are kept', async () => {
    const junit = join(dir, 'both.xml');
    const artefacts = join(dir, 'artefacts');
    const r = await rproc(['test', PASS, FAIL, '--jobs', '2', '--junit', junit, '--artifacts', artefacts], {
      cwd: ROOT,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /PASS echo firmware answers/);
    assert.match(
      r.stdout,
      /FAIL echo firmware shouts back \(fails on purpose\) \(examples\/echo-fail.yaml:12 steps\[2\]\.expect\)/,
    );
    assert.match(r.stdout, /1 passed, 1 failed/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuites name="rproc" tests="2" failures="1" errors="0"/);
    assert.match(
      xml,
      /<failure message="ETIMEDOUT: expected &quot;rpmsg-echo:\^HELLO\$&quot; \(channel rpmsg-echo of any core\) within 500 ms \(virtual time\); last line on channel rpmsg-echo of any core: rproc0 channel rpmsg-echo: hello" type="expect-timeout">/,
    );
    assert.match(xml, /at examples\/echo-fail.yaml:12 steps\[2\]\.expect/);
    // Only the failing scenario leaves a folder.
    assert.deepEqual(readdirSync(artefacts), ['echo-firmware-shouts-back-fails-on-purpose']);
    const kept = readdirSync(join(artefacts, 'echo-firmware-shouts-back-fails-on-purpose'));
    for (const f of ['failure.txt', 'console.txt', 'rpmsg-trace.json', 'rproc0-at-failure.elf'])
      assert.ok(kept.includes(f), `${f} in ${kept.join(', ')}`);
  });

  it('refuses bad scenario files (2): one line each naming file, line and key; nothing runs', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: x\ncores: { rproc0: echo.elf }\nsteps:\n  - boot: rproc0\n  - send: { chanel: rpmsg-echo, text: hi }\n',
    );
    const regex = join(dir, 'regex.yaml');
    writeFileSync(
      regex,
      'name: y\ncores: { rproc0: echo.elf }\nsteps:\n  - boot: rproc0\n  - expect: "uart:("\n',
    );
    const nofw = join(dir, 'nofw.yaml');
    writeFileSync(nofw, 'name: z\ncores:\n  rproc0: nothere.elf\nsteps:\n  - boot: rproc0\n');
    const r = await rproc(['test', PASS, bad, regex, nofw, '--json']);
    assert.equal(r.status, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(
      lines[0] ?? '',
      /^rproc test: EINVAL: .*bad\.yaml:5: steps\[1\]\.send: unknown key "chanel" \(expected one of: channel,/,
    );
    assert.match(
      lines[1] ?? '',
      /^rproc test: EINVAL: .*regex\.yaml:5: steps\[1\]\.expect: .*invalid regular expression/,
    );
    assert.match(
      lines[2] ?? '',
      /^rproc test: EINVAL: .*nofw\.yaml:3: cores\.rproc0: firmware 'nothere\.elf' not found/,
    );
    assert.doesNotMatch(r.stderr, STACK_FRAME);
    assert.equal(eventsOf(r.stdout).filter((e) => e.event === 'scenario-start').length, 0);
    assert.equal(existsSync(join(dir, 'never')), false);
  });

  const usage: [string, string[], RegExp][] = [
    ['--jobs 0', ['--jobs', '0'], /^rproc test: --jobs takes a whole number from 1 to 256, not "0"\n$/],
    ['--timeout -1', ['--timeout=-1'], /^rproc test: --timeout takes a number of seconds above 0/],
    ['a missing file', ['no-such.yaml'], /^rproc test: ENOENT: open no-such\.yaml\n$/],
  ];
  for (const [what, args, line] of usage)
    it(`bad usage: ${what}`, async () => {
      const r = await rproc(['test', ...(args[0]?.startsWith('--') === true ? [PASS] : []), ...args], {
        cwd: ROOT,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, line);
    });
});
