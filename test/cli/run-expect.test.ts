// rproc run's firmware-CI options through the real process (docs/ci.md): --expect met in order
// ends the run with 0; one not met in time is exit status 5 naming the pattern, the source and the
// last line seen (virtual time with --deterministic, so a loaded machine never changes it); a
// --fail-on line is 6; --junit, --artifacts and --trace-rpmsg write their files; bad patterns,
// faults and cores are bad usage (2) in one line.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validate, type Schema } from './json-schema.ts';
import {
  ROOT,
  STACK_FRAME,
  eventsOf,
  removeScratch,
  rproc,
  scratchDir,
  type CliEvent,
} from './cli-process.ts';
import { checkTraceFile } from '../../src/util/trace-event-check.ts';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'cli-events.schema.json'), 'utf8')) as Schema;
const dir = scratchDir('run-expect');
after(() => removeScratch(dir));

const ECHO = ['run', 'echo.elf', '--send', 'rpmsg-echo=hello'];
const named = (evs: CliEvent[], event: string): CliEvent[] => evs.filter((e) => e.event === event);

function schemaProblems(evs: CliEvent[]): string[] {
  return evs.flatMap((e, i) => validate(schema, e).map((p) => `line ${i + 1} (${e.event}): ${p}`));
}

describe('rproc run --expect', () => {
  for (const mode of ['deterministic', 'worker'] as const) {
    const det = mode === 'deterministic' ? ['--deterministic'] : [];
    it(`ends with 0 as soon as every expectation is met, in order (${mode})`, async () => {
      // A trace line is read from the buffer at most once a ms of the run's clock (docs/ci.md), so
      // it is expected after the reply it was written before; on host time only UART and channel.
      const trace = mode === 'deterministic' ? ['--expect', 'rproc0/trace:first message'] : [];
      const r = await rproc([
        ...ECHO,
        ...det,
        '--json',
        '--expect',
        'uart:^echo: firmware up$',
        '--expect',
        'rpmsg-echo:^hello$',
        ...trace,
      ]);
      assert.equal(r.status, 0, r.stderr);
      const evs = eventsOf(r.stdout);
      assert.deepEqual(schemaProblems(evs), []);
      const met = named(evs, 'expect');
      assert.deepEqual(
        met.map((e) => [e['index'], e['source'], e['text']]),
        [
          [0, 'uart', 'echo: firmware up'],
          [1, 'channel', 'hello'],
          ...(mode === 'deterministic' ? [[2, 'trace', 'echo: first message, 5 bytes from 0x400']] : []),
        ],
      );
      assert.equal(evs.at(-1)?.['reason'], `every --expect was met (${met.length})`);
    });
  }

  it('exits 5 when one is not met in time, naming the pattern, the source and the last line there (virtual time)', async () => {
    const r = await rproc([
      ...ECHO,
      '--deterministic',
      '--json',
      '--expect',
      'rpmsg-echo:^HELLO$',
      '--expect-timeout',
      '2',
    ]);
    assert.equal(r.status, 5, r.stderr);
    assert.equal(
      r.stderr,
      'rproc run: ETIMEDOUT: expected "rpmsg-echo:^HELLO$" (channel rpmsg-echo of any core) within 2000 ms (virtual time); ' +
        'last line on channel rpmsg-echo of any core: rproc0 channel rpmsg-echo: hello (exit status 5)\n',
    );
    const evs = eventsOf(r.stdout);
    assert.deepEqual(schemaProblems(evs), []);
    const timeout = evs.find((e) => e.event === 'expect-timeout');
    assert.ok(timeout !== undefined, 'an expect-timeout event');
    assert.equal(timeout['pattern'], 'rpmsg-echo:^HELLO$');
    assert.deepEqual(timeout['lastLines'], ['rproc0 channel rpmsg-echo: hello']);
    // Two virtual seconds after the expectation began, whatever the machine's load.
    assert.ok(timeout.t >= 2000 && timeout.t < 2001, `t ${timeout.t}`);
    assert.equal(evs.at(-1)?.['status'], 5);
  });

  it('matches in order: a line seen before the previous expectation was met does not count', async () => {
    const r = await rproc([
      ...ECHO,
      '--deterministic',
      '--expect',
      'rpmsg-echo:hello',
      '--expect',
      'uart:firmware up',
      '--expect-timeout',
      '1',
    ]);
    assert.equal(r.status, 5);
    assert.match(r.stderr, /expected "uart:firmware up" \(UART of any core\) within 1000 ms/);
  });

  it('is unmet (5) when the run ends first, e.g. at --timeout, and says so', async () => {
    const r = await rproc([
      'run',
      'echo.elf',
      '--deterministic',
      '--timeout',
      '1',
      '--expect',
      'uart:never printed',
    ]);
    assert.equal(r.status, 5);
    assert.match(
      r.stderr,
      /^rproc run: ETIMEDOUT: expected "uart:never printed" \(UART of any core\), but the run ended first \(--timeout 1 reached\); last line there: rproc0 uart: echo: firmware up \(exit status 5\)\n$/,
    );
  });
});

describe('rproc run --fail-on and the reports', () => {
  it('exits 6 on a matching line and writes the JUnit report, the artefacts and the rpmsg trace', async () => {
    const out = join(dir, 'fail-on');
    const r = await rproc([
      ...ECHO,
      '--deterministic',
      '--fail-on',
      'trace:first message',
      '--expect',
      'rpmsg-echo:never',
      '--junit',
      join(out, 'junit.xml'),
      '--artifacts',
      join(out, 'artefacts'),
      '--trace-rpmsg',
      join(out, 'rpmsg.json'),
    ]);
    assert.equal(r.status, 6, r.stderr);
    assert.match(
      r.stderr,
      /rproc run: ECANCELED: --fail-on "trace:first message" matched rproc0 trace: echo: first message, 5 bytes from 0x400 \(exit status 6\)\n$/,
    );
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.match(xml, /<testsuites name="rproc" tests="1" failures="1" errors="0"/);
    assert.match(xml, /<testcase name="rproc run rproc0=echo.elf" classname="rproc.run"/);
    assert.match(
      xml,
      /<failure message="ECANCELED: --fail-on &quot;trace:first message&quot; matched [^"]*" type="fail-on">/,
    );
    assert.match(xml, /<system-out>[^<]*rproc0 uart: echo: firmware up/);
    assert.deepEqual(readdirSync(join(out, 'artefacts')).sort(), [
      'console.txt',
      'failure.txt',
      'rpmsg-trace.json',
      'rproc0-at-failure.elf',
      'trace-rproc0.txt',
      'uart-rproc0.txt',
    ]);
    assert.match(readFileSync(join(out, 'artefacts', 'failure.txt'), 'utf8'), /^ECANCELED: --fail-on/);
    const trace = JSON.parse(readFileSync(join(out, 'rpmsg.json'), 'utf8')) as unknown;
    assert.deepEqual(checkTraceFile(trace), []);
    assert.match(JSON.stringify(trace), /send 5 B/);
  });

  it('a passing run writes a JUnit case without failure and keeps no artefacts', async () => {
    const out = join(dir, 'pass');
    const r = await rproc([
      ...ECHO,
      '--deterministic',
      '--expect',
      'rpmsg-echo:hello',
      '--junit',
      join(out, 'junit.xml'),
      '--artifacts',
      join(out, 'artefacts'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.match(xml, /tests="1" failures="0" errors="0"/);
    assert.doesNotMatch(xml, /<failure/);
    assert.equal(existsSync(join(out, 'artefacts')), false);
  });

  it('--fault arms a fault before boot: an exhausted TX pool makes the --send fail', async () => {
    const r = await rproc([
      ...ECHO,
      '--deterministic',
      '--json',
      '--fault',
      'exhaust-tx-buffers:rproc0',
      '--expect',
      'rpmsg-echo:hello',
      '--expect-timeout',
      '30',
    ]);
    const evs = eventsOf(r.stdout);
    assert.deepEqual(schemaProblems(evs), []);
    assert.equal(named(evs, 'fault')[0]?.['kind'], 'exhaust-tx-buffers');
    assert.equal(named(evs, 'expect').length, 0);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no TX buffer/);
  });
});

describe('rproc run: bad firmware-CI options are bad usage, one line each', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an invalid regular expression',
      ['--expect', 'uart:('],
      /^rproc run: EINVAL: --expect "uart:\(": invalid regular expression: .*Unterminated group\n$/,
    ],
    [
      'a core the board does not have',
      ['--expect', 'rproc9/uart:x'],
      /^rproc run: --expect rproc9\/uart:x: no core "rproc9" on this board \(cores: rproc0, rproc1\)\n$/,
    ],
    [
      'an unknown fault',
      ['--fault', 'bogus:rproc0'],
      /^rproc run: EINVAL: --fault "bogus:rproc0": unknown fault "bogus"/,
    ],
    [
      'a fault on a missing core',
      ['--fault', 'lose-kicks:rproc7'],
      /^rproc run: --fault lose-kicks:rproc7: no core "rproc7"/,
    ],
    [
      'a bad --expect-timeout',
      ['--expect', 'x', '--expect-timeout', '0'],
      /^rproc run: --expect-timeout takes a number of seconds above 0/,
    ],
    [
      '--expect-timeout alone',
      ['--expect-timeout', '2'],
      /^rproc run: --expect-timeout needs --expect PATTERN\n$/,
    ],
    [
      'a core with no source',
      ['--fail-on', 'rproc0/panic'],
      /^rproc run: EINVAL: --fail-on "rproc0\/panic": after the core "rproc0\/" comes a source/,
    ],
  ];
  for (const [what, args, line] of cases)
    it(what, async () => {
      const r = await rproc(['run', 'echo.elf', '--deterministic', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, line);
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    });
});
