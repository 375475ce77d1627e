// Diagnostics collected while reading a firmware image or a resource table. Parsers record every
// problem they can find (so that `rproc inspect` lists them all, each with its offset) and the
// strict entry points throw the first error as an RprocError, as Linux stops at the first -EINVAL.

import { RprocError, type ErrnoName } from './errors.ts';

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  readonly code: ErrnoName;
  /** Operation that found it, as in RprocError.op. */
  readonly op: string;
  /** Byte offset where it was found, relative to what `message` names (file, table, entry). */
  readonly offset: number | undefined;
  readonly message: string;
}

export class Problems {
  readonly list: Problem[] = [];

  error(code: ErrnoName, op: string, message: string, offset?: number): void {
    this.list.push({ severity: 'error', code, op, offset, message });
  }

  warn(code: ErrnoName, op: string, message: string, offset?: number): void {
    this.list.push({ severity: 'warning', code, op, offset, message });
  }

  /** Record an RprocError thrown by a bounds-checked read as an error problem. */
  add(e: RprocError): void {
    this.list.push({ severity: 'error', code: e.code, op: e.op, offset: e.offset, message: e.detail });
  }

  get hasErrors(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }

  get errors(): Problem[] {
    return this.list.filter((p) => p.severity === 'error');
  }

  /** Throw the first error, if any. */
  throwFirst(): void {
    const first = this.list.find((p) => p.severity === 'error');
    if (first !== undefined) throw problemToError(first);
  }
}

export function problemToError(p: Problem): RprocError {
  return new RprocError(p.code, p.op, p.message, p.offset === undefined ? {} : { offset: p.offset });
}
