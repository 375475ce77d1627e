// Firmware-side writer of a trace buffer: appends NUL-terminated text to the RSC_TRACE region the
// host reads as trace0 (up to the first NUL, within len). When the buffer is full it starts over
// from the beginning, so the host always sees the most recent lines.

export class TraceWriter {
  private readonly buf: Uint8Array;
  private pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    if (buf.length > 0) buf[0] = 0;
  }

  write(text: string): void {
    if (this.buf.length < 2) return;
    let bytes = new TextEncoder().encode(text);
    if (bytes.length >= this.buf.length) bytes = bytes.subarray(bytes.length - (this.buf.length - 1));
    if (this.pos + bytes.length + 1 > this.buf.length) {
      this.pos = 0;
    }
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.buf[this.pos] = 0;
  }
}
