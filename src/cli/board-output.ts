// How the board verbs print: with --json one event object per line, else a line of text for people.
// Text that came from the remote (trace buffers, messages) is shown with control characters escaped
// (\x1b and friends as \xNN), so firmware cannot drive the user's terminal.

import type { CliIo } from './io.ts';

export interface BoardEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export class BoardOutput {
  private readonly io: CliIo;
  readonly json: boolean;

  constructor(io: CliIo, json: boolean) {
    this.io = io;
    this.json = json;
  }

  /** One event: its JSON line, or `text` (nothing when undefined). */
  say(e: BoardEvent, text: string | undefined): void {
    if (this.json) this.io.out(JSON.stringify(e) + '\n');
    else if (text !== undefined) this.io.out(text + '\n');
  }

  /** Text for people only (a table header, a hint): nothing with --json. */
  text(line: string): void {
    if (!this.json) this.io.out(line + '\n');
  }
}

/** Remote-written text made safe for a terminal: newlines and tabs kept, other controls escaped. */
export function printable(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    const control = (code < 0x20 && c !== '\n' && c !== '\t') || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
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
