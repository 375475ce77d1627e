// The rpmsg tty driver: every channel named "rpmsg-tty" becomes a byte stream, as Linux makes it a
// /dev/ttyRPMSGn. What the remote sends is read as bytes (message boundaries are not kept, and an
// empty message carries nothing and is dropped and counted); what is written is cut into messages
// of at most the MTU; when the channel goes away the stream ends, as a tty hangs up. Mirrors
// drivers/tty/rpmsg_tty.c.

import { Duplex } from 'node:stream';
import { RprocError } from '../../util/errors.ts';
import { TypedEmitter } from '../../util/typed-emitter.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RpmsgDriver } from './rpmsg-host.ts';

export const RPMSG_TTY_NAME = 'rpmsg-tty';

/** One /dev/ttyRPMSGn. */
export class RpmsgTtyPort extends Duplex {
  /** The n of ttyRPMSGn. */
  readonly index: number;
  readonly channel: RpmsgChannel;
  /** Empty messages from the remote, dropped (rpmsg_tty_cb refuses them with EINVAL). */
  emptyMessages = 0;

  constructor(channel: RpmsgChannel, index: number) {
    super({ allowHalfOpen: false });
    this.channel = channel;
    this.index = index;
  }

  get path(): string {
    return `ttyRPMSG${this.index}`;
  }

  /** @internal a message from the remote */
  receive(data: Uint8Array): void {
    if (data.length === 0) {
      this.emptyMessages++;
      return;
    }
    // The RX buffer goes back to the remote after the callback: push a copy.
    this.push(Buffer.from(data));
  }

  /**
   * @internal the channel went away: end of file for the reader once it has read what came before,
   * EPIPE for writers.
   */
  hangUp(): void {
    this.push(null);
  }

  override _read(): void {
    // Data is pushed as it arrives; a tty has no flow control toward the remote here.
  }

  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes =
      chunk instanceof Uint8Array
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, encoding)
          : undefined;
    if (bytes === undefined) {
      callback(new RprocError('EINVAL', 'rpmsg-tty', 'write bytes or a string'));
      return;
    }
    this.sendAll(bytes).then(
      () => callback(),
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** rpmsg_tty_write sends at most one MTU per call and the tty layer calls again: the same here. */
  private async sendAll(bytes: Uint8Array): Promise<void> {
    const ept = this.channel.ept;
    if (ept === undefined || ept.destroyed)
      throw new RprocError('EPIPE', 'rpmsg-tty', `${this.path} hung up`);
    for (let off = 0; off < bytes.length; off += ept.mtu) {
      await ept.send(bytes.subarray(off, Math.min(bytes.length, off + ept.mtu)));
    }
  }
}

export interface RpmsgTtyEvents extends Record<string, unknown> {
  /** A port appeared (the remote announced "rpmsg-tty") or hung up. */
  port: { readonly action: 'add' | 'remove'; readonly port: RpmsgTtyPort };
}

/** The driver: register it with RpmsgHost.registerDriver (VirtualSoc does). */
export class RpmsgTtyDriver extends TypedEmitter<RpmsgTtyEvents> implements RpmsgDriver {
  readonly names: readonly string[] = [RPMSG_TTY_NAME];
  private readonly byChannel = new Map<RpmsgChannel, RpmsgTtyPort>();
  private nextIndex = 0;

  get ports(): readonly RpmsgTtyPort[] {
    return [...this.byChannel.values()];
  }

  readonly callback = (channel: RpmsgChannel, data: Uint8Array): void => {
    this.byChannel.get(channel)?.receive(data);
  };

  probe(channel: RpmsgChannel): void {
    const port = new RpmsgTtyPort(channel, this.nextIndex++);
    this.byChannel.set(channel, port);
    channel.ept?.onDestroy(() => this.remove(channel));
    this.emit('port', { action: 'add', port });
  }

  remove(channel: RpmsgChannel): void {
    const port = this.byChannel.get(channel);
    if (port === undefined) return;
    this.byChannel.delete(channel);
    port.hangUp();
    this.emit('port', { action: 'remove', port });
  }

  /** Resolves with the next port to appear (or the first one there is). */
  waitForPort(timeoutMs = 5000): Promise<RpmsgTtyPort> {
    const first = this.ports[0];
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('port', onPort);
        reject(
          new RprocError('ETIMEDOUT', 'rpmsg-tty', `no ${RPMSG_TTY_NAME} channel within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onPort = (e: RpmsgTtyEvents['port']): void => {
        if (e.action !== 'add') return;
        clearTimeout(timer);
        this.off('port', onPort);
        resolve(e.port);
      };
      this.on('port', onPort);
    });
  }
}
