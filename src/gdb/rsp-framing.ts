// GDB Remote Serial Protocol framing (GDB manual, "Overview" and "Packet Acknowledgment"): a
// packet is `$data#cs`, cs the sum of the data bytes modulo 256 in two hex digits, answered with
// `+` (or `-`: send it again); a raw 0x03 outside a packet is an interrupt. The reader is fed bytes
// as they come off the socket (a packet may arrive in pieces, several in one chunk) and says what
// it found; data is kept as latin1 text, one character per byte, so binary payloads (X packets)
// survive. Anything that cannot be a packet — bytes between packets other than +, - and 0x03, a
// checksum that is not hex, data past the size limit — is reported, never thrown.

/** What the reader found in the byte stream. */
export type RspEvent =
  | { readonly kind: 'packet'; readonly data: string }
  /** A packet whose checksum does not match: the protocol answers `-` (send it again). */
  | { readonly kind: 'bad-checksum'; readonly data: string; readonly expected: number; readonly got: string }
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack' }
  | { readonly kind: 'interrupt' }
  /** A packet longer than the limit: the stream cannot be trusted any more. */
  | { readonly kind: 'overflow'; readonly limit: number };

const DOLLAR = 0x24;
const HASH = 0x23;
const PLUS = 0x2b;
const MINUS = 0x2d;
const CTRL_C = 0x03;

export function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + (data.charCodeAt(i) & 0xff)) & 0xff;
  return sum;
}

/** `$data#cs` as bytes (data: latin1 text, already escaped where it must be). */
export function framePacket(data: string): Buffer {
  return Buffer.from(`$${data}#${checksum(data).toString(16).padStart(2, '0')}`, 'latin1');
}

/**
 * Escape binary data for a packet body: `#`, `$`, `}` and `*` become `}` then the byte XOR 0x20
 * (GDB manual, "Overview": binary data).
 */
export function escapeBinary(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) out += '}' + String.fromCharCode(b ^ 0x20);
    else out += String.fromCharCode(b);
  }
  return out;
}

/** Undo escapeBinary; undefined when the data ends in the middle of an escape. */
export function unescapeBinary(data: string): Uint8Array | undefined {
  const out = new Uint8Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i) & 0xff;
    if (c === 0x7d) {
      if (++i >= data.length) return undefined;
      out[n++] = (data.charCodeAt(i) & 0xff) ^ 0x20;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

type State = 'idle' | 'data' | 'cs1' | 'cs2';

export class RspReader {
  private readonly limit: number;
  private state: State = 'idle';
  private data: string[] = [];
  private size = 0;
  private cs = '';

  /** @param limit the longest packet body accepted, in bytes. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Feed bytes; returns what they completed, in order. */
  push(chunk: Uint8Array): RspEvent[] {
    const events: RspEvent[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      switch (this.state) {
        case 'idle':
          if (b === DOLLAR) {
            this.state = 'data';
            this.data = [];
            this.size = 0;
            start = i + 1;
          } else if (b === PLUS) events.push({ kind: 'ack' });
          else if (b === MINUS) events.push({ kind: 'nack' });
          else if (b === CTRL_C) events.push({ kind: 'interrupt' });
          // Anything else between packets is line noise: skipped, as gdbserver does.
          break;
        case 'data':
          if (b === HASH) {
            this.take(chunk, start, i);
            this.state = 'cs1';
          } else if (this.size + (i - start) >= this.limit) {
            events.push({ kind: 'overflow', limit: this.limit });
            this.reset();
            return events;
          }
          break;
        case 'cs1':
          this.cs = String.fromCharCode(b);
          this.state = 'cs2';
          break;
        case 'cs2': {
          this.cs += String.fromCharCode(b);
          const data = this.data.join('');
          const expected = checksum(data);
          events.push(
            /^[0-9a-fA-F]{2}$/.test(this.cs) && parseInt(this.cs, 16) === expected
              ? { kind: 'packet', data }
              : { kind: 'bad-checksum', data, expected, got: this.cs },
          );
          this.reset();
          break;
        }
      }
    }
    if (this.state === 'data') this.take(chunk, start, chunk.length);
    return events;
  }

  /** Forget a half-read packet (the connection went). */
  reset(): void {
    this.state = 'idle';
    this.data = [];
    this.size = 0;
    this.cs = '';
  }

  private take(chunk: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.data.push(Buffer.from(chunk.buffer, chunk.byteOffset + from, to - from).toString('latin1'));
    this.size += to - from;
  }
}
