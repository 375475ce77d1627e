// Why a harness run failed, in a form every reporter can use: an RprocError (errno name, one-line
// message) that also says which kind of failure it was and carries the last lines seen, so that a
// JUnit report, a JSON event and an artefacts folder all show the same thing.

import { RprocError, type ErrnoName } from '../util/errors.ts';
import type { Line } from './soc-lines.ts';

export type FailureKind =
  /** An expectation was not met within its timeout (ETIMEDOUT). */
  | 'expect-timeout'
  /** A --fail-on pattern matched (ECANCELED: the run was stopped on purpose). */
  | 'fail-on'
  /** A step could not be carried out (boot failed, no such channel, send failed...). */
  | 'step';

export class HarnessError extends RprocError {
  readonly kind: FailureKind;
  readonly lastLines: readonly Line[];
  /** For reports: the pattern (as written) that timed out or matched, and where it looked. */
  readonly pattern: string | undefined;
  readonly source: string | undefined;

  constructor(
    kind: FailureKind,
    code: ErrnoName,
    op: string,
    detail: string,
    lastLines: readonly Line[] = [],
    pattern?: { readonly spec: string; readonly source: string },
  ) {
    super(code, op, detail);
    this.kind = kind;
    this.lastLines = lastLines;
    this.pattern = pattern?.spec;
    this.source = pattern?.source;
  }
}
