// How the CLI ends on a signal (docs/cli.md): the first SIGINT, SIGTERM or SIGHUP asks the running
// command to shut every core down in order and end with 128 + the signal number; a second one
// forces the exit at once (temporary folders are still removed). stdout closed by its reader
// counts as SIGPIPE (141), the status a shell reports for a program killed by it.

import { constants } from 'node:os';
import { removeAllTempDirs } from './temp-dirs.ts';

export const END_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type EndSignal = (typeof END_SIGNALS)[number] | 'SIGPIPE';

/** 128 + the signal's number: the status a shell gives a program that a signal ended. */
export function signalStatus(signal: EndSignal): number {
  return 128 + constants.signals[signal];
}

export function isEndSignal(reason: unknown): reason is EndSignal {
  return reason === 'SIGPIPE' || (END_SIGNALS as readonly unknown[]).includes(reason);
}

/** What a second signal does: by default leave at once, with 128 + its number. */
export type ForceExit = (signal: EndSignal) => void;

const defaultForce: ForceExit = (signal) => {
  removeAllTempDirs();
  process.stderr.write(`rproc: ${signal} again: leaving without an orderly shutdown\n`);
  process.exit(signalStatus(signal));
};

export class Interrupts {
  private readonly controller = new AbortController();
  private readonly force: ForceExit;

  constructor(force: ForceExit = defaultForce) {
    this.force = force;
  }

  /** Aborted on the first signal, with the signal's name as the reason. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A signal arrived (or stdout closed): the first asks for an orderly end, the next forces it. */
  trigger(signal: EndSignal): void {
    if (this.controller.signal.aborted) {
      // stdout closing while a shutdown is under way is no reason to cut it short.
      if (signal !== 'SIGPIPE') this.force(signal);
      return;
    }
    this.controller.abort(signal);
  }

  /** Listen to SIGINT, SIGTERM and SIGHUP on the process; returns the function that stops it. */
  install(): () => void {
    const handlers = END_SIGNALS.map((s) => [s, () => this.trigger(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    return () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
  }
}
