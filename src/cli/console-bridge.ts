// `rproc run --console CHANNEL`: stdin to an rpmsg channel, one message per line, and what comes
// back to stdout, one line per message — or, with --json, both directions as `tx`/`rx` events in
// the event stream, never raw lines. The terminal keeps its own line editing and Ctrl-C (no raw
// mode), so Ctrl-C is a SIGINT like anywhere else. End of input ends the run after a grace period.

import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import { hex } from '../util/errors.ts';
import { escapeControl } from '../util/escape-control.ts';
import type { Reporter } from './reporter.ts';

export interface ConsoleBridgeOptions {
  readonly channel: RpmsgChannel;
  readonly core: string;
  readonly reporter: Reporter;
  readonly input: Readable;
  /** Called once when the input ends (EOF). */
  readonly onInputEnd: () => void;
}

export class ConsoleBridge {
  private readonly rl: Interface;
  private readonly input: Readable;
  private closed = false;

  constructor(o: ConsoleBridgeOptions) {
    const { channel, core, reporter } = o;
    this.input = o.input;
    const decoder = new TextDecoder();
    const ept = channel.open((data, src) => {
      const text = decoder.decode(data);
      if (reporter.json)
        reporter.say({ event: 'rx', core, channel: channel.name, src: hex(src), text }, undefined);
      else reporter.io.out(`${escapeControl(text.replace(/\n$/, ''))}\n`);
    });
    this.rl = createInterface({ input: o.input, terminal: false, crlfDelay: Infinity });
    this.rl.on('line', (line) => {
      ept.send(new TextEncoder().encode(line)).then(
        () => reporter.say({ event: 'tx', core, channel: channel.name, text: line }, undefined),
        (e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          reporter.say(
            { event: 'log', core, level: 'error', message: `console send failed: ${message}` },
            `console send failed: ${message}`,
          );
        },
      );
    });
    this.rl.on('close', () => {
      if (!this.closed) o.onInputEnd();
    });
  }

  /** Stop reading (the run is ending): the input no longer keeps the process alive. */
  close(): void {
    this.closed = true;
    this.rl.close();
    this.input.pause();
    if (this.input === process.stdin) process.stdin.unref();
  }
}
