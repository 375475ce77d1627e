// A bare GDB remote protocol client over a TCP socket, for the stub's packet-level tests: sends
// framed packets (or raw bytes), acknowledges replies as gdb does, and collects what comes back —
// acks, packets (checksums verified) and the connection's end — so that tests can wait for each.

import { connect, type Socket } from 'node:net';
import { checksum, framePacket } from '../../src/gdb/rsp-framing.ts';

export type Received = { readonly kind: 'ack' | 'nack' } | { readonly kind: 'packet'; readonly data: string };

export class RspClient {
  readonly socket: Socket;
  private readonly inbox: Received[] = [];
  private waiters: (() => void)[] = [];
  private buffer = '';
  private closedFlag = false;
  private error: Error | undefined;
  /** Acknowledge packets with `+` (off once no-ack mode is on). */
  ack = true;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('close', () => {
      this.closedFlag = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RspClient> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RspClient(socket);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const c = this.buffer.charAt(0);
      if (c === '') break;
      if (c === '+' || c === '-') {
        this.inbox.push({ kind: c === '+' ? 'ack' : 'nack' });
        this.buffer = this.buffer.slice(1);
        continue;
      }
      if (c !== '$') {
        this.error = new Error(`stub sent ${JSON.stringify(this.buffer.slice(0, 20))} between packets`);
        this.buffer = '';
        break;
      }
      const hash = this.buffer.indexOf('#');
      if (hash < 0 || this.buffer.length < hash + 3) break;
      const data = this.buffer.slice(1, hash);
      const cs = this.buffer.slice(hash + 1, hash + 3);
      this.buffer = this.buffer.slice(hash + 3);
      if (parseInt(cs, 16) !== checksum(data))
        this.error = new Error(`bad checksum ${cs} on ${JSON.stringify(data)}`);
      if (this.ack) this.socket.write('+');
      this.inbox.push({ kind: 'packet', data });
    }
    this.notify();
  }

  /** The next thing received (ack, nack or packet); rejects when the connection closes first or after timeoutMs. */
  async next(timeoutMs = 20_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const item = this.inbox.shift();
      if (item !== undefined) return item;
      if (this.closedFlag) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error(`nothing received within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next packet (skipping acks). */
  async packet(timeoutMs?: number): Promise<string> {
    for (;;) {
      const r = await this.next(timeoutMs);
      if (r.kind === 'packet') return r.data;
    }
  }

  write(raw: string | Uint8Array): void {
    this.socket.write(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  }

  /** Send a packet and return the reply (the stub's ack checked while acks are on). */
  async request(data: string, timeoutMs?: number): Promise<string> {
    this.write(framePacket(data));
    if (this.ack) {
      const a = await this.next(timeoutMs);
      if (a.kind !== 'ack')
        throw new Error(`expected + for ${JSON.stringify(data)}, got ${JSON.stringify(a)}`);
    }
    return this.packet(timeoutMs);
  }

  /** Resolves when the stub closed the connection. */
  async closedByPeer(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag) {
      if (Date.now() > deadline) throw new Error('the stub kept the connection open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
