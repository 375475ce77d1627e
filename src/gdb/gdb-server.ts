// The GDB stub's TCP server (QEMU's `-gdb tcp::PORT`): listens on loopback unless given an
// address, takes one debugger at a time (a second connection is closed at once), frames packets
// with acknowledgements (off after QStartNoAckMode), answers bad checksums with `-`, resends on
// `-`, hands 0x03 to the session as an interrupt, and drops a connection that sends a packet past
// the size limit. Whatever comes off the socket can end the connection, never the host.

import { createServer, type Server, type Socket } from 'node:net';
import { RprocError } from '../util/errors.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import type { CoreDebugPort } from '../soc/debug/core-debug-port.ts';
import { GdbSession, PACKET_SIZE } from './gdb-session.ts';
import { RspReader, framePacket } from './rsp-framing.ts';

export const GDB_DEFAULT_HOST = '127.0.0.1';

export interface GdbServerOptions {
  /** The cores gdb sees as threads (their debug ports). */
  readonly cores: readonly CoreDebugPort[];
  /** TCP port; 0 takes a free one (see address()). */
  readonly port: number;
  /** Address to listen on; loopback (127.0.0.1) unless the user names one. */
  readonly host?: string;
  /** gdb's `monitor` command. */
  readonly monitor?: (command: string) => Promise<string>;
  /** Diagnostics (protocol errors, refused connections). */
  readonly log?: (line: string) => void;
}

export interface GdbServerEvents extends Record<string, unknown> {
  connect: { readonly remote: string };
  disconnect: { readonly remote: string };
  /** gdb sent `k` (kill): its owner decides what that ends. */
  kill: Record<string, never>;
  /** gdb holds the cores (a stop reported to it) or let them run. */
  held: { readonly on: boolean };
}

interface Client {
  readonly socket: Socket;
  readonly remote: string;
  readonly session: GdbSession;
  readonly reader: RspReader;
  noAck: boolean;
  lastSent: Buffer | undefined;
  /** Packets are answered one at a time, in order. */
  queue: Promise<void>;
}

export class GdbServer extends TypedEmitter<GdbServerEvents> {
  private readonly o: GdbServerOptions;
  private readonly server: Server;
  private client: Client | undefined;
  private heldNow = false;

  private constructor(o: GdbServerOptions, server: Server) {
    super();
    this.o = o;
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listen; rejects with EADDRINUSE-style errors as an RprocError naming the address. */
  static async listen(o: GdbServerOptions): Promise<GdbServer> {
    const server = createServer();
    const host = o.host ?? GDB_DEFAULT_HOST;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new RprocError(
            e.code === 'EADDRINUSE' ? 'EBUSY' : 'EINVAL',
            'gdb',
            `cannot listen on ${host}:${o.port}: ${e.message}`,
          ),
        ),
      );
      server.listen({ port: o.port, host }, () => resolve());
    });
    return new GdbServer(o, server);
  }

  /** Where it listens (the port chosen when asked for 0). */
  address(): { readonly host: string; readonly port: number } {
    const a = this.server.address();
    if (a === null || typeof a === 'string')
      return { host: this.o.host ?? GDB_DEFAULT_HOST, port: this.o.port };
    return { host: a.address, port: a.port };
  }

  /** Whether gdb holds the cores right now (a run's --timeout does not count that time). */
  get held(): boolean {
    return this.heldNow;
  }

  /** Whether a debugger is connected. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /**
   * Stop listening and let the debugger go: one waiting for a stop hears that the program exited
   * with `exitCode` (W), then the connection closes.
   */
  async close(exitCode = 0): Promise<void> {
    const c = this.client;
    if (c !== undefined) {
      c.session.exited(exitCode);
      await c.queue;
      await c.session.end();
      c.socket.end();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private setHeld(on: boolean): void {
    if (on === this.heldNow) return;
    this.heldNow = on;
    this.emit('held', { on });
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.client !== undefined) {
      this.log(`gdb: refused ${remote}: ${this.client.remote} is connected (one debugger at a time)`);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const session = new GdbSession({
      cores: this.o.cores,
      send: (data) => this.send(client, data),
      hangUp: () => socket.end(),
      kill: () => this.emit('kill', {}),
      held: (on) => this.setHeld(on),
      ...(this.o.monitor === undefined ? {} : { monitor: this.o.monitor }),
      ...(this.o.log === undefined ? {} : { log: this.o.log }),
    });
    const client: Client = {
      socket,
      remote,
      session,
      reader: new RspReader(PACKET_SIZE),
      noAck: false,
      lastSent: undefined,
      queue: session.start().catch((e: unknown) => this.log(`gdb: attaching to the cores: ${String(e)}`)),
    };
    this.client = client;
    this.emit('connect', { remote });
    socket.on('data', (chunk: Buffer) => this.receive(client, chunk));
    socket.on('error', (e) => this.log(`gdb: ${remote}: ${e.message}`));
    socket.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.reader.reset();
      // Dropped without detaching: gdb's points go and the cores run on, as after `detach`.
      client.queue = client.queue.then(() => session.end());
      void client.queue.then(() => this.emit('disconnect', { remote }));
    });
  }

  private send(client: Client, data: string): void {
    const frame = framePacket(data);
    client.lastSent = frame;
    if (!client.socket.destroyed) client.socket.write(frame);
  }

  private receive(client: Client, chunk: Buffer): void {
    for (const ev of client.reader.push(chunk)) {
      switch (ev.kind) {
        case 'packet':
          if (!client.noAck) client.socket.write('+');
          client.queue = client.queue.then(() => this.answer(client, ev.data));
          break;
        case 'bad-checksum':
          this.log(
            `gdb: bad checksum ${JSON.stringify(ev.got)} (expected ${ev.expected.toString(16).padStart(2, '0')}); asked to resend`,
          );
          if (!client.noAck) client.socket.write('-');
          break;
        case 'nack':
          if (client.lastSent !== undefined && !client.socket.destroyed) client.socket.write(client.lastSent);
          break;
        case 'ack':
          break;
        case 'interrupt':
          client.session.interrupt();
          break;
        case 'overflow':
          this.log(`gdb: ${client.remote} sent a packet longer than ${ev.limit} bytes; connection closed`);
          client.socket.destroy();
          return;
      }
    }
  }

  private async answer(client: Client, data: string): Promise<void> {
    if (this.client !== client) return;
    const reply = await client.session.handle(data);
    if (reply === undefined) return;
    this.send(client, reply);
    // The OK to QStartNoAckMode is the last packet acknowledged.
    if (data === 'QStartNoAckMode' && reply === 'OK') client.noAck = true;
  }
}
