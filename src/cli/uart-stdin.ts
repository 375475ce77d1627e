// `rproc run --uart-stdin`: the terminal as the serial console of the core's UART, as QEMU's
// `-nographic` stdio multiplexer does it (chardev/char-mux.c): raw mode on a TTY, every key goes to
// the firmware except the escape Ctrl-A — Ctrl-A x quits, Ctrl-A h (or ?) prints the keys,
// Ctrl-A Ctrl-A sends one Ctrl-A, any other key after Ctrl-A is dropped. A pipe is passed through
// byte for byte (no escapes) and its end is reported once every byte is in the core's UART ring.

import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import type { CliIo } from './io.ts';

/** Ctrl-A, QEMU's default escape character (-echr). */
const ESCAPE_CHAR = 0x01;

/** Plain newlines: Node's raw mode (libuv) keeps the terminal's output newline translation. */
export const ESCAPE_HELP = [
  'C-a h    print this help',
  'C-a x    exit (shut the core down and end the run)',
  'C-a C-a  send C-a',
  '',
].join('\n');

export type TermAction =
  | { readonly kind: 'send'; readonly bytes: Uint8Array }
  | { readonly kind: 'quit' }
  | { readonly kind: 'help' };

/** Splits what the terminal sends into bytes for the firmware and escape commands. */
export class EscapeDecoder {
  private escaped = false;

  feed(chunk: Uint8Array): TermAction[] {
    const actions: TermAction[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) actions.push({ kind: 'send', bytes: Uint8Array.from(run) });
      run = [];
    };
    for (const b of chunk) {
      if (!this.escaped) {
        if (b === ESCAPE_CHAR) this.escaped = true;
        else run.push(b);
        continue;
      }
      this.escaped = false;
      if (b === ESCAPE_CHAR) {
        run.push(b);
      } else if (b === 0x78 /* x */) {
        flush();
        actions.push({ kind: 'quit' });
        return actions; // nothing after a quit is sent
      } else if (b === 0x68 /* h */ || b === 0x3f /* ? */) {
        flush();
        actions.push({ kind: 'help' });
      }
      // Any other key after the escape is dropped, as QEMU's mux does.
    }
    flush();
    return actions;
  }
}

/** The part of process.stdin this needs (a stream, a TTY's raw mode). */
export interface TermInput {
  readonly isTTY?: boolean;
  setRawMode?(on: boolean): unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  off(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  off(event: 'end', fn: () => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface UartStdinOptions {
  readonly input: TermInput;
  /** Bytes for the core's UART (SocCore.uart.send): resolves once they are in its ring. */
  readonly send: (bytes: Uint8Array) => Promise<void>;
  /** Text for the person at the terminal (the escape help, a failed send), not for the firmware. */
  readonly say: (text: string) => void;
  /** Ctrl-A x. */
  readonly quit: () => void;
  /** The pipe ended and every byte of it is in the core's ring. */
  readonly ended: () => void;
}

export interface UartStdin {
  /** Whether the terminal is in raw mode (a TTY) rather than a pipe. */
  readonly raw: boolean;
  /** Stop reading; a TTY goes back to cooked mode. Idempotent. */
  close(): void;
}

export function connectUartStdin(o: UartStdinOptions): UartStdin {
  const raw = o.input.isTTY === true && typeof o.input.setRawMode === 'function';
  const decoder = new EscapeDecoder();
  // Sends are chained so that bytes reach the UART in the order typed.
  let sent: Promise<void> = Promise.resolve();
  let closed = false;
  const send = (bytes: Uint8Array): void => {
    sent = sent
      .then(() => o.send(bytes))
      .catch((e: unknown) => {
        o.say(`uart: ${e instanceof Error ? e.message : String(e)}\n`);
      });
  };
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
    if (!raw) {
      send(bytes);
      return;
    }
    for (const a of decoder.feed(bytes)) {
      if (a.kind === 'send') send(a.bytes);
      else if (a.kind === 'help') o.say(ESCAPE_HELP);
      else {
        close();
        o.quit();
        return;
      }
    }
  };
  const onEnd = (): void => {
    void sent.then(() => {
      if (!closed) o.ended();
    });
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    o.input.off('data', onData);
    o.input.off('end', onEnd);
    if (raw) o.input.setRawMode?.(false);
    o.input.pause();
  };
  if (raw) o.input.setRawMode?.(true);
  o.input.on('data', onData);
  o.input.on('end', onEnd);
  o.input.resume();
  return { raw, close };
}

/** How long the core's UART must stay quiet after the end of piped input before the run ends, ms. */
const UART_SETTLE_MS = 500;
/** How long a firmware may leave piped input unread, printing nothing, before the run gives up, ms. */
const UART_UNREAD_GIVE_UP_MS = 10_000;

export interface UartConsoleOptions {
  readonly soc: VirtualSoc;
  /** The core whose UART0 the terminal drives (the run's core). */
  readonly core: SocCore;
  readonly io: CliIo;
  readonly input: TermInput;
  /** End the run. */
  readonly stop: () => void;
}

/**
 * `rproc run --uart-stdin`: the terminal drives `core`'s UART; the run ends on Ctrl-A x, when the
 * firmware exits (test finisher), or — for piped input — once the firmware has read every byte and
 * its UART has been quiet for UART_SETTLE_MS (virtual ms in deterministic mode, so the output
 * repeats); a firmware that leaves input unread and prints nothing for UART_UNREAD_GIVE_UP_MS ends
 * it too, with a note saying how much it did not read.
 */
export function uartConsole(o: UartConsoleOptions): UartStdin {
  const { soc, core, io } = o;
  const uart = core.uart; // EOPNOTSUPP for a core without one, before the terminal changes mode
  const scheduler = soc.scheduler;
  let outputs = 0;
  const onUart = (e: { readonly core: string }): void => {
    if (e.core === core.name) outputs++;
  };
  const onExit = (e: { readonly core: string }): void => {
    if (e.core === core.name) o.stop();
  };
  soc.on('uart', onUart);
  soc.on('exit', onExit);
  const wait = (ms: number): Promise<void> =>
    scheduler !== undefined ? scheduler.delay(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  const settle = async (): Promise<void> => {
    let stillFor = 0;
    for (;;) {
      const seen = outputs;
      const unread = uart.pending;
      await wait(UART_SETTLE_MS);
      const quiet = outputs === seen;
      if (quiet && uart.pending === 0) break;
      stillFor = quiet && uart.pending === unread ? stillFor + UART_SETTLE_MS : 0;
      if (stillFor >= UART_UNREAD_GIVE_UP_MS) {
        io.err(`uart: ${core.name} left ${uart.pending} bytes of input unread\n`);
        break;
      }
    }
    o.stop();
  };
  const term = connectUartStdin({
    input: o.input,
    send: (bytes) => uart.send(bytes),
    say: (text) => io.err(text),
    quit: o.stop,
    ended: () => void settle().catch(() => o.stop()),
  });
  if (term.raw) io.err(`uart: the terminal is ${core.name}'s UART0; C-a x quits, C-a h for help\n`);
  return {
    raw: term.raw,
    close: () => {
      term.close();
      soc.off('uart', onUart);
      soc.off('exit', onExit);
    },
  };
}
