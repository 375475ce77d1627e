// What `--expect`, `--fail-on` and a scenario's expect step say: a regular expression and where to
// look for it. Written `[CORE/]SOURCE:REGEX` or just `REGEX`:
//   uart:REGEX       a line on a core's UART          trace:REGEX   a line in its trace buffer (trace0)
//   state:REGEX      a state the core enters          any:REGEX     UART, trace or any channel (default)
//   NAME:REGEX       a message on rpmsg channel NAME (letters, digits, '_', '-', '.'; up to 31)
// and with a core first, e.g. `rproc1/uart:ready`; without one, any core. A leading word that looks
// like a channel name is taken as one, so a pattern that itself starts with `word:` is written
// `any:word: ...`. The regular expression is JavaScript's, unanchored, case-sensitive.

import { RprocError } from '../util/errors.ts';
import type { Line } from './soc-lines.ts';

export type PatternSource =
  { readonly kind: 'any' | 'uart' | 'trace' | 'state' } | { readonly kind: 'channel'; readonly name: string };

export interface LinePattern {
  /** As written. */
  readonly spec: string;
  /** Undefined: any core. */
  readonly core: string | undefined;
  readonly source: PatternSource;
  readonly regex: RegExp;
}

/** rpmsg channel names are at most 31 bytes (RPMSG_NAME_SIZE 32 with the NUL). */
const SPEC = /^(?:([A-Za-z0-9_.-]+)\/)?([A-Za-z0-9_][A-Za-z0-9_.-]{0,30}):/s;
const KEYWORDS = new Set(['any', 'uart', 'trace', 'state']);

/**
 * Parse `spec`; `where` names it in errors (e.g. `--expect`, `ci.yaml:12: steps[3].expect`).
 * Throws RprocError EINVAL naming the spec and the regular expression's own complaint.
 */
export function parseLinePattern(spec: string, where: string): LinePattern {
  const m = SPEC.exec(spec);
  const core = m?.[1];
  const word = m?.[2];
  const source: PatternSource =
    word === undefined
      ? { kind: 'any' }
      : KEYWORDS.has(word)
        ? { kind: word as 'any' | 'uart' | 'trace' | 'state' }
        : { kind: 'channel', name: word };
  const body = m === null ? spec : spec.slice(m[0].length);
  if (m === null && spec.includes('/') && /^[A-Za-z0-9_.-]+\//.test(spec)) {
    // "rproc1/ready" has a core but no source: say so rather than match the text "rproc1/ready".
    const [head] = spec.split('/');
    throw new RprocError(
      'EINVAL',
      'expect',
      `${where} "${spec}": after the core "${head}/" comes a source (uart:, trace:, state:, any: or a channel name and ':'); to match this text anywhere write "any:${spec}"`,
    );
  }
  if (body === '')
    throw new RprocError('EINVAL', 'expect', `${where} "${spec}": the regular expression is empty`);
  let regex: RegExp;
  try {
    regex = new RegExp(body);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    throw new RprocError('EINVAL', 'expect', `${where} "${spec}": invalid regular expression: ${why}`);
  }
  return { spec, core, source, regex };
}

/** Whether `line` is one `pattern` looks at (its core and source), whatever its text. */
export function looksAt(pattern: LinePattern, line: Line): boolean {
  if (pattern.core !== undefined && pattern.core !== line.core) return false;
  const s = pattern.source;
  switch (s.kind) {
    case 'any':
      return line.source !== 'state';
    case 'channel':
      return line.source === 'channel' && line.channel === s.name;
    case 'uart':
    case 'trace':
    case 'state':
      return line.source === s.kind;
  }
}

export function lineMatches(pattern: LinePattern, line: Line): boolean {
  return looksAt(pattern, line) && pattern.regex.test(line.text);
}

/** Where a pattern looks, for people: "uart of rproc0", "channel rpmsg-echo of any core". */
export function describeSource(pattern: LinePattern): string {
  const s = pattern.source;
  const what =
    s.kind === 'channel'
      ? `channel ${s.name}`
      : s.kind === 'any'
        ? 'UART, trace or channels'
        : s.kind === 'uart'
          ? 'UART'
          : s.kind;
  return `${what} of ${pattern.core ?? 'any core'}`;
}

/** A line for people: `rproc0 uart: text`. */
export function formatLine(line: Line): string {
  const src = line.source === 'channel' ? `channel ${line.channel ?? ''}` : line.source;
  return `${line.core} ${src}: ${line.text}`;
}
