// JUnit XML as Jenkins (junit-plugin), GitLab (Gitlab::Ci::Parsers::Test::Junit) and GitHub test
// reporters read it: <testsuites> around one <testsuite> per run, a <testcase> per scenario (or per
// `rproc run`) with name, classname (dotted, so Jenkins groups by it; GitLab shows it as the suite),
// file and time in seconds; a failed case has <failure message type> with the details as text, a
// broken one <error>; <system-out> holds the console tail. Text is escaped for XML 1.0: markup
// characters as entities, and characters XML 1.0 cannot carry at all (NUL and the other C0
// controls but tab, newline and carriage return; lone surrogates; U+FFFE/U+FFFF) made visible in
// caret notation (^@ for NUL, as Jenkins shows it) or as U+FFFD.

import { hostname } from 'node:os';

export interface JunitProblem {
  /** One line: what the CI server lists. */
  readonly message: string;
  /** A short classification (e.g. expect-timeout, fail-on). */
  readonly type: string;
  /** The details (where, last lines). */
  readonly text: string;
}

export interface JunitCase {
  readonly name: string;
  readonly classname: string;
  readonly file?: string;
  /** Seconds. */
  readonly time: number;
  readonly failure?: JunitProblem;
  readonly error?: JunitProblem;
  readonly systemOut?: string;
}

export interface JunitSuite {
  readonly name: string;
  readonly cases: readonly JunitCase[];
  readonly timestamp?: Date;
}

/** Characters XML 1.0 allows (Char production), as a negated class: everything else is replaced. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** `text` with what XML 1.0 cannot hold made visible: C0 controls in caret notation, the rest U+FFFD. */
export function visibleXmlChars(text: string): string {
  return text.replace(NOT_XML_CHAR, (c) => {
    const code = c.codePointAt(0) ?? 0xfffd;
    return code < 0x20 ? `^${String.fromCharCode(code + 0x40)}` : '\ufffd';
  });
}

/** Element text: &, < and > as entities, unrepresentable characters made visible. */
export function xmlText(text: string): string {
  return visibleXmlChars(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute value (in double quotes): also quotes, and tab/newline/CR kept as references (not normalised to spaces). */
export function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** A duration as CI servers accept it: finite, not negative. */
function clamp(s: number): number {
  return Number.isFinite(s) && s > 0 ? s : 0;
}

function seconds(s: number): string {
  return clamp(s).toFixed(3);
}

function attrs(list: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(list)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
}

function problem(tag: 'failure' | 'error', p: JunitProblem): string {
  return `      <${tag}${attrs({ message: p.message, type: p.type })}>${xmlText(p.text)}</${tag}>\n`;
}

/** The report of `suites`, as a string (UTF-8 declared). */
export function junitXml(suites: readonly JunitSuite[], name = 'rproc'): string {
  const count = (f: (c: JunitCase) => boolean): number =>
    suites.reduce((n, s) => n + s.cases.filter(f).length, 0);
  const total = suites.reduce((t, s) => t + s.cases.reduce((u, c) => u + clamp(c.time), 0), 0);
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  out += `<testsuites${attrs({
    name,
    tests: count(() => true),
    failures: count((c) => c.failure !== undefined && c.error === undefined),
    errors: count((c) => c.error !== undefined),
    skipped: 0,
    time: seconds(total),
  })}>\n`;
  for (const s of suites) {
    const failures = s.cases.filter((c) => c.failure !== undefined && c.error === undefined).length;
    const errors = s.cases.filter((c) => c.error !== undefined).length;
    out += `  <testsuite${attrs({
      name: s.name,
      tests: s.cases.length,
      failures,
      errors,
      skipped: 0,
      time: seconds(s.cases.reduce((t, c) => t + clamp(c.time), 0)),
      timestamp: (s.timestamp ?? new Date()).toISOString().replace(/\.\d+Z$/, ''),
      hostname: hostname(),
    })}>\n`;
    for (const c of s.cases) {
      out += `    <testcase${attrs({ name: c.name, classname: c.classname, file: c.file, time: seconds(c.time) })}`;
      const body =
        (c.error === undefined ? '' : problem('error', c.error)) +
        (c.failure === undefined || c.error !== undefined ? '' : problem('failure', c.failure)) +
        (c.systemOut === undefined ? '' : `      <system-out>${xmlText(c.systemOut)}</system-out>\n`);
      out += body === '' ? '/>\n' : `>\n${body}    </testcase>\n`;
    }
    out += '  </testsuite>\n';
  }
  return out + '</testsuites>\n';
}

/** A dotted class name for a file path (Jenkins splits packages at dots): examples/echo.yaml → examples.echo. */
export function classnameOf(file: string): string {
  return (
    file
      .replace(/\\/g, '/')
      .replace(/^(\.\.?\/)+/, '')
      .replace(/\.[^./]+$/, '')
      .replace(/[/.]+/g, '.')
      .replace(/^\.+|\.+$/g, '') || 'rproc'
  );
}
