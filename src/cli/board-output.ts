// How the board verbs format what is not an event: tables for people, and remote-written text
// (trace buffers, messages) with its control characters escaped line by line, so firmware cannot
// drive the user's terminal while the lines stay lines.

import { escapeControl } from '../util/escape-control.ts';

/** Remote-written text made safe for a terminal: each line escaped, the newlines between kept. */
export function escapeLines(text: string): string {
  return text.split('\n').map(escapeControl).join('\n');
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
