// The `rproc` process around main(): signals (an orderly shutdown, then 128 + the signal; a second
// one forces), stdout closed by its reader (quiet, 141), temporary folders removed on every way
// out, and a last-resort handler that turns anything unexpected into one line and status 1 instead
// of a stack trace. bin/rproc.mjs calls runRproc.

import { main } from './main.ts';
import { BUG_HINT } from './main-errors.ts';
import { processIo } from './io.ts';
import { Interrupts } from './signals.ts';
import { removeAllTempDirs } from './temp-dirs.ts';

/** How long the process may linger after main returned (handles a worker or stdin left open) before it is ended. */
const LINGER_MS = 3000;

function lastResort(e: unknown): void {
  removeAllTempDirs();
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  try {
    process.stderr.write(`rproc: internal error: ${what} (${BUG_HINT})\n`);
  } finally {
    process.exit(1);
  }
}

export async function runRproc(argv: readonly string[]): Promise<void> {
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  process.on('exit', removeAllTempDirs);
  const interrupts = new Interrupts();
  const uninstall = interrupts.install();
  const io = processIo(() => interrupts.trigger('SIGPIPE'));
  const status = await main(argv, io, { abort: interrupts.signal });
  process.exitCode = status;
  // Signals that come while the process winds down still end it at once.
  uninstall();
  process.on('SIGINT', () => process.exit(status));
  process.on('SIGTERM', () => process.exit(status));
  process.on('SIGHUP', () => process.exit(status));
  // Normally nothing is left and the process ends now; if something still holds it, end anyway.
  setTimeout(() => process.exit(status), LINGER_MS).unref();
}
