// Where a CLI command writes: stdout/stderr with colour only on a TTY (and never with NO_COLOR),
// injectable so that tests capture output exactly. Once stdout is closed by its reader (EPIPE, as
// in `rproc demo | head -1`) writes are dropped and the command is told to end, quietly.

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly color: boolean;
}

/**
 * The process's stdout/stderr. `onStdoutClosed` runs once when a write to stdout fails with EPIPE
 * (the reader went away); any other stdout error is reported on stderr, once, and ends output too.
 */
export function processIo(onStdoutClosed: () => void = () => undefined): CliIo {
  const color =
    process.stdout.isTTY && process.env['NO_COLOR'] === undefined && process.env['TERM'] !== 'dumb';
  let stdoutOpen = true;
  let stderrOpen = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (!stdoutOpen) return;
    stdoutOpen = false;
    if (e.code !== 'EPIPE' && stderrOpen) process.stderr.write(`rproc: stdout: ${e.code ?? e.message}\n`);
    onStdoutClosed();
  });
  process.stderr.on('error', () => {
    stderrOpen = false;
  });
  return {
    out: (text) => {
      if (stdoutOpen) process.stdout.write(text);
    },
    err: (text) => {
      if (stderrOpen) process.stderr.write(text);
    },
    color,
  };
}

/** A capturing CliIo for tests. */
export function memoryIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    color: false,
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}

const CODES = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const;
export type Style = keyof typeof CODES;

export function paint(io: CliIo, style: Style, text: string): string {
  return io.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}
