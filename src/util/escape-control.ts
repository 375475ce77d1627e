// Make remote-written text safe to print on a terminal: control characters (C0 but tab, DEL, C1,
// so ESC sequences, carriage returns and bells) and the Unicode direction overrides that reorder
// what a reader sees become visible escapes (\x1b, \r, \u202e). Firmware writes its UART, trace
// buffer and tty output; none of it may drive the user's terminal.

const NAMED: Readonly<Record<string, string>> = { '\r': '\\r', '\n': '\\n' };

// C0 controls except tab (0x09), DEL, C1 controls, and the bidirectional formatting characters
// (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0) ?? 0;
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character escaped (a backslash the firmware printed stays as it is). */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}
