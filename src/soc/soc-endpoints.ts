// Endpoints of the virtual SoC's channels behind the user-facing ChannelEndpoint: a channel's default
// endpoint on the rpmsg host (one message per send and per receive, as /dev/rpmsgN), or the tty port
// of an "rpmsg-tty" channel (a byte stream, as /dev/ttyRPMSGn). Messages are copied out of the RX
// buffer before it goes back to the remote, and held in a bounded queue until received; when the
// channel goes away receives end with EPIPE, as rpmsg_char's do.

import { RprocError } from '../util/errors.ts';
import { MessageQueue, messagesOf } from '../platform/message-queue.ts';
import type {
  ChannelEndpoint,
  ChannelInfo,
  OpenOptions,
  ReceiveOptions,
} from '../platform/remote-processors.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RpmsgEndpoint } from '../rpmsg/host/rpmsg-endpoint.ts';
import type { RpmsgTtyPort } from '../rpmsg/host/rpmsg-tty.ts';

const encode = (data: Uint8Array | string): Uint8Array =>
  typeof data === 'string' ? new TextEncoder().encode(data) : data;

function gone(info: ChannelInfo, detail: string): RprocError {
  return new RprocError('EPIPE', 'soc-endpoint', `channel ${info.id}: ${detail}`);
}

export class SocChannelEndpoint implements ChannelEndpoint {
  readonly channel: ChannelInfo;
  readonly path = undefined;
  private readonly ept: RpmsgEndpoint;
  private readonly queue = new MessageQueue();
  private readonly sendTimeoutMs: number | undefined;
  private readonly onClosed: () => void;
  private closed = false;

  constructor(info: ChannelInfo, channel: RpmsgChannel, options: OpenOptions, onClosed: () => void) {
    this.channel = info;
    this.sendTimeoutMs = options.sendTimeoutMs;
    this.onClosed = onClosed;
    // The RX buffer is the remote's to reuse once the callback returns: keep a copy.
    this.ept = channel.open((data) => this.queue.push(data.slice()));
    this.ept.onDestroy(() =>
      this.queue.end(gone(info, 'the channel went away (the remote stopped, crashed or destroyed it)')),
    );
  }

  async send(data: Uint8Array | string): Promise<void> {
    if (this.closed) throw gone(this.channel, 'closed');
    await this.ept.send(
      encode(data),
      this.sendTimeoutMs === undefined ? {} : { timeoutMs: this.sendTimeoutMs },
    );
  }

  receive(options: ReceiveOptions = {}): Promise<Uint8Array> {
    return this.queue.receive(options.timeoutMs, `message on channel ${this.channel.id}`);
  }

  messages(): AsyncIterableIterator<Uint8Array> {
    return messagesOf(() => this.receive());
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    // The default endpoint stays (rpmsg_char keeps a channel's default endpoint at release);
    // what arrives from now on is dropped.
    if (!this.ept.destroyed) this.ept.setCallback(undefined);
    this.queue.end(gone(this.channel, 'closed'));
    this.onClosed();
    return Promise.resolve();
  }
}

export class SocTtyEndpoint implements ChannelEndpoint {
  readonly channel: ChannelInfo;
  readonly path = undefined;
  private readonly port: RpmsgTtyPort;
  private readonly queue = new MessageQueue();
  private readonly onClosed: () => void;
  private closed = false;
  private readonly onData = (chunk: Buffer): void => this.queue.push(new Uint8Array(chunk));
  private readonly onEnd = (): void => this.queue.end(gone(this.channel, 'hung up: the channel went away'));

  constructor(info: ChannelInfo, port: RpmsgTtyPort, onClosed: () => void) {
    this.channel = info;
    this.port = port;
    this.onClosed = onClosed;
    port.on('data', this.onData);
    port.on('end', this.onEnd);
    port.on('close', this.onEnd);
  }

  send(data: Uint8Array | string): Promise<void> {
    if (this.closed) return Promise.reject(gone(this.channel, 'closed'));
    return new Promise((resolve, reject) => {
      this.port.write(encode(data), (e) => {
        if (e) reject(e instanceof RprocError ? e : gone(this.channel, e.message));
        else resolve();
      });
    });
  }

  receive(options: ReceiveOptions = {}): Promise<Uint8Array> {
    return this.queue.receive(options.timeoutMs, `data on channel ${this.channel.id}`);
  }

  messages(): AsyncIterableIterator<Uint8Array> {
    return messagesOf(() => this.receive());
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.port.off('data', this.onData);
    this.port.off('end', this.onEnd);
    this.port.off('close', this.onEnd);
    this.queue.end(gone(this.channel, 'closed'));
    this.onClosed();
    return Promise.resolve();
  }
}
