// The terminal side of `rproc run --uart-stdin`: QEMU's mux escapes on a TTY (Ctrl-A x quits,
// Ctrl-A h helps, Ctrl-A Ctrl-A sends Ctrl-A, other escaped keys are dropped, split across reads
// too), raw mode on and off again, and a pipe passed through untouched, its end reported once every
// byte is in.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import {
  ESCAPE_HELP,
  EscapeDecoder,
  connectUartStdin,
  type TermAction,
  type TermInput,
} from './uart-stdin.ts';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function render(actions: readonly TermAction[]): string[] {
  return actions.map((a) =>
    a.kind === 'send' ? `send ${JSON.stringify(new TextDecoder().decode(a.bytes))}` : a.kind,
  );
}

describe('Ctrl-A escapes', () => {
  const cases: readonly [string, string[], string[]][] = [
    ['plain keys', ['help\r'], ['send "help\\r"']],
    ['C-a x quits; what follows is not sent', ['ab\x01xcd'], ['send "ab"', 'quit']],
    ['C-a h and C-a ? print the help', ['a\x01hb\x01?'], ['send "a"', 'help', 'send "b"', 'help']],
    ['C-a C-a sends one C-a', ['a\x01\x01b'], ['send "a\\u0001b"']],
    ['another key after C-a is dropped', ['a\x01zb'], ['send "ab"']],
    ['an escape split across two reads', ['ab\x01', 'x'], ['send "ab"', 'quit']],
  ];
  for (const [what, chunks, want] of cases) {
    it(what, () => {
      const d = new EscapeDecoder();
      assert.deepEqual(
        chunks.flatMap((c) => render(d.feed(b(c)))),
        want,
      );
    });
  }
});

class FakeInput extends EventEmitter implements TermInput {
  readonly isTTY: boolean;
  rawModes: boolean[] = [];
  paused = true;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  setRawMode(on: boolean): this {
    this.rawModes.push(on);
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
}

function connect(tty: boolean) {
  const input = new FakeInput(tty);
  const sent: string[] = [];
  const said: string[] = [];
  const events: string[] = [];
  const inFlight: (() => void)[] = [];
  const term = connectUartStdin({
    input,
    // A send is in once the test says so (settle): the UART ring's room comes when it comes.
    send: (bytes) =>
      new Promise<void>((resolve) => {
        sent.push(new TextDecoder().decode(bytes));
        inFlight.push(resolve);
      }),
    say: (t) => said.push(t),
    quit: () => events.push('quit'),
    ended: () => events.push('ended'),
  });
  /** Let every send (including those chained behind) complete. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      for (const resolve of inFlight.splice(0)) resolve();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { input, sent, said, events, term, settle };
}

describe('connectUartStdin', () => {
  it('a TTY: raw mode while connected, escapes decoded, C-a x quits and restores the terminal', async () => {
    const { input, sent, said, events, term, settle } = connect(true);
    assert.equal(term.raw, true);
    assert.deepEqual(input.rawModes, [true]);
    assert.equal(input.paused, false);
    input.emit('data', Buffer.from('ls\r\x01h'));
    input.emit('data', Buffer.from('\x01\x01\x01x'));
    await settle();
    assert.deepEqual(sent, ['ls\r', '\x01']);
    assert.deepEqual(said, [ESCAPE_HELP]);
    assert.deepEqual(events, ['quit']);
    assert.deepEqual(input.rawModes, [true, false]);
    assert.equal(input.paused, true);
    input.emit('data', Buffer.from('late'));
    await settle();
    assert.deepEqual(sent, ['ls\r', '\x01'], 'nothing after the quit');
  });

  it('a pipe: bytes as they come (C-a included), in order; its end once the last send went in', async () => {
    const { input, sent, events, term, settle } = connect(false);
    assert.equal(term.raw, false);
    assert.deepEqual(input.rawModes, []);
    input.emit('data', Buffer.from('echo a\r\x01x'));
    input.emit('data', 'echo b\r');
    input.emit('end');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['echo a\r\x01x'], 'one at a time');
    assert.deepEqual(events, [], 'not before the sends completed');
    await settle();
    assert.deepEqual(sent, ['echo a\r\x01x', 'echo b\r']);
    assert.deepEqual(events, ['ended']);
    term.close();
    term.close();
    assert.deepEqual(input.rawModes, []);
  });
});
