// Waiting for expectations in order: each pattern must match a line that comes after the line the
// previous one matched (starting from a cursor, so lines that came before the wait began still
// count — a reply can beat the step that waits for it), each within its own timeout on the run's
// clock. And --fail-on: a watch that reports the first line matching any of its patterns.

import type { RunClock } from './run-clock.ts';
import { lineMatches, looksAt, type LinePattern } from './line-pattern.ts';
import type { Line, SocLines } from './soc-lines.ts';

export interface ExpectMatch {
  readonly pattern: LinePattern;
  readonly line: Line;
}

/** How many lines a timeout report shows. */
const REPORT_LINES = 10;

export type ExpectOutcome =
  | {
      readonly status: 'matched';
      readonly matches: readonly ExpectMatch[];
      /** Where the next expectation starts looking. */
      readonly nextSeq: number;
    }
  | {
      readonly status: 'timeout';
      readonly matches: readonly ExpectMatch[];
      /** Index in the list of the pattern that timed out, and the pattern. */
      readonly index: number;
      readonly pattern: LinePattern;
      readonly timeoutMs: number;
      /** The last lines where it looked (or, if there were none, the last lines of any source). */
      readonly lastLines: readonly Line[];
      readonly lastLinesWhere: 'source' | 'anywhere';
    }
  | { readonly status: 'aborted'; readonly matches: readonly ExpectMatch[]; readonly index: number };

export interface ExpectOptions {
  /** First line sequence number that may match (SocLines.nextSeq when the wait begins: only new lines). */
  readonly fromSeq: number;
  /** Per expectation, on the run's clock. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Each match as it happens. */
  readonly onMatch?: (match: ExpectMatch, index: number) => void;
}

export function expectLines(
  lines: SocLines,
  clock: RunClock,
  patterns: readonly LinePattern[],
  options: ExpectOptions,
): Promise<ExpectOutcome> {
  return new Promise<ExpectOutcome>((resolve) => {
    const matches: ExpectMatch[] = [];
    let index = 0;
    let cursor = options.fromSeq;
    let done = false;
    // Read through a function: a call in between (pollTraces, lines emitted) may have finished the wait.
    const finished = (): boolean => done;
    const run = new AbortController();
    let timer = new AbortController();
    const finish = (outcome: ExpectOutcome): void => {
      if (done) return;
      done = true;
      unsubscribe();
      timer.abort();
      run.abort();
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => finish({ status: 'aborted', matches, index });
    const arm = (): void => {
      timer.abort();
      timer = new AbortController();
      const mine = timer.signal;
      const armedFor = index;
      void clock.sleep(options.timeoutMs, mine).then(() => {
        if (mine.aborted || done || index !== armedFor) return;
        const pattern = patterns[index];
        if (pattern === undefined) return;
        // Whatever the trace buffers hold by now still counts.
        lines.pollTraces();
        if (finished() || index !== armedFor) return;
        const own = lines.tail(REPORT_LINES, (l) => looksAt(pattern, l));
        finish({
          status: 'timeout',
          matches,
          index,
          pattern,
          timeoutMs: options.timeoutMs,
          lastLines: own.length > 0 ? own : lines.tail(REPORT_LINES),
          lastLinesWhere: own.length > 0 ? 'source' : 'anywhere',
        });
      });
    };
    const consider = (line: Line): void => {
      if (done || line.seq < cursor) return;
      const pattern = patterns[index];
      if (pattern === undefined || !lineMatches(pattern, line)) return;
      const match = { pattern, line };
      matches.push(match);
      cursor = line.seq + 1;
      options.onMatch?.(match, index);
      index++;
      if (index >= patterns.length) finish({ status: 'matched', matches, nextSeq: cursor });
      else arm();
    };
    const unsubscribe = lines.subscribe(consider);
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (patterns.length === 0) {
      finish({ status: 'matched', matches, nextSeq: cursor });
      return;
    }
    arm();
    for (const line of lines.since(cursor)) consider(line);
    if (!finished()) lines.watch(run.signal);
  });
}

export interface FailOnHit {
  readonly pattern: LinePattern;
  readonly line: Line;
}

/** Call `onHit` once, for the first line (from now on) that matches any of `patterns`; returns a stop function. */
export function watchFailOn(
  lines: SocLines,
  patterns: readonly LinePattern[],
  onHit: (hit: FailOnHit) => void,
): () => void {
  if (patterns.length === 0) return () => undefined;
  let fired = false;
  const stop = lines.subscribe((line) => {
    if (fired) return;
    const pattern = patterns.find((p) => lineMatches(p, line));
    if (pattern === undefined) return;
    fired = true;
    stop();
    onHit({ pattern, line });
  });
  return stop;
}
