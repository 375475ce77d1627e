// `[CORE/]SOURCE:REGEX` as --expect, --fail-on and scenario steps write it: the table of forms,
// the errors (one line naming the spec), and any string parsing or raising EINVAL (property).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RprocError } from '../util/errors.ts';
import { describeSource, lineMatches, parseLinePattern } from './line-pattern.ts';
import type { Line } from './soc-lines.ts';

describe('parseLinePattern', () => {
  const forms: readonly { spec: string; core?: string; source: string; regex: string }[] = [
    { spec: 'ready', source: 'any', regex: 'ready' },
    { spec: 'uart:echo: firmware up', source: 'uart', regex: 'echo: firmware up' },
    { spec: 'trace:^boot$', source: 'trace', regex: '^boot$' },
    { spec: 'state:crashed', source: 'state', regex: 'crashed' },
    { spec: 'any:panic: x', source: 'any', regex: 'panic: x' },
    { spec: 'rpmsg-echo:^hello$', source: 'channel rpmsg-echo', regex: '^hello$' },
    { spec: 'rproc1/uart:up', core: 'rproc1', source: 'uart', regex: 'up' },
    { spec: 'rproc0/rpmsg-tty:a:b', core: 'rproc0', source: 'channel rpmsg-tty', regex: 'a:b' },
    { spec: 'uart:http://x', source: 'uart', regex: 'http://x' },
    { spec: '^\\d+ ok', source: 'any', regex: '^\\d+ ok' },
  ];
  for (const f of forms) {
    it(`reads ${JSON.stringify(f.spec)}`, () => {
      const p = parseLinePattern(f.spec, '--expect');
      const source = p.source.kind === 'channel' ? `channel ${p.source.name}` : p.source.kind;
      assert.deepEqual(
        { core: p.core, source, regex: p.regex.source },
        { core: f.core, source, regex: new RegExp(f.regex).source },
      );
      assert.equal(source, f.source);
    });
  }

  const errors: readonly { spec: string; message: RegExp }[] = [
    {
      spec: 'uart:(',
      message: /^EINVAL: --expect "uart:\(": invalid regular expression: .*Unterminated group/,
    },
    { spec: 'trace:', message: /^EINVAL: --expect "trace:": the regular expression is empty$/ },
    { spec: '', message: /the regular expression is empty/ },
    {
      spec: 'rproc1/ready',
      message: /after the core "rproc1\/" comes a source .* write "any:rproc1\/ready"/,
    },
    { spec: 'x:[z-a]', message: /invalid regular expression: .*Range out of order/ },
  ];
  for (const e of errors) {
    it(`refuses ${JSON.stringify(e.spec)} in one line`, () => {
      assert.throws(
        () => parseLinePattern(e.spec, '--expect'),
        (err: unknown) =>
          err instanceof RprocError &&
          err.code === 'EINVAL' &&
          e.message.test(err.message) &&
          !err.message.includes('\n'),
      );
    });
  }

  it('parses any string or raises EINVAL, nothing else (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (spec) => {
        try {
          parseLinePattern(spec, 'p');
        } catch (e) {
          assert.ok(e instanceof RprocError && e.code === 'EINVAL', String(e));
        }
      }),
    );
  });
});

describe('lineMatches', () => {
  const line = (over: Partial<Line>): Line => ({
    seq: 1,
    core: 'rproc0',
    source: 'uart',
    text: 'echo: up',
    at: 0,
    ...over,
  });
  const table: readonly { spec: string; line: Line; match: boolean }[] = [
    { spec: 'echo', line: line({}), match: true },
    { spec: 'echo', line: line({ source: 'state', text: 'echo' }), match: false },
    { spec: 'state:crash', line: line({ source: 'state', text: 'crashed' }), match: true },
    { spec: 'rproc1/uart:echo', line: line({}), match: false },
    { spec: 'rproc0/uart:echo', line: line({}), match: true },
    { spec: 'trace:echo', line: line({}), match: false },
    {
      spec: 'rpmsg-echo:hi',
      line: line({ source: 'channel', channel: 'rpmsg-echo', text: 'hi' }),
      match: true,
    },
    { spec: 'other:hi', line: line({ source: 'channel', channel: 'rpmsg-echo', text: 'hi' }), match: false },
    { spec: 'Echo', line: line({}), match: false },
  ];
  for (const t of table) {
    it(`${t.spec} ${t.match ? 'matches' : 'does not match'} ${t.line.core} ${t.line.source} "${t.line.text}"`, () => {
      assert.equal(lineMatches(parseLinePattern(t.spec, 'x'), t.line), t.match);
    });
  }

  it('describes where a pattern looks', () => {
    assert.equal(describeSource(parseLinePattern('rproc1/uart:x', 'x')), 'UART of rproc1');
    assert.equal(describeSource(parseLinePattern('rpmsg-echo:x', 'x')), 'channel rpmsg-echo of any core');
  });
});
