// An open /dev/rpmsgN or /dev/ttyRPMSGn. rpmsg_char (rpmsg_char.c) takes each write(2) as one
// message to the channel's remote address and gives one message per read(2), EPIPE once the
// endpoint is gone; rpmsg_tty (rpmsg_tty.c) is a byte stream that takes at most one MTU per write
// and hangs up (read returns 0) when the channel goes. The file is O_NONBLOCK: Node cannot wait for
// a character device that is not a tty, pipe or socket to become readable, so a receive reads,
// and while nothing is there (EAGAIN) reads again after 1 ms, doubling to 50 ms (readPoll) — only
// while a receive waits, never otherwise. A send that finds no free buffer (EAGAIN, or ENOMEM from
// rpmsg_tty's trysend) retries the same way up to sendTimeoutMs (15 s, rpmsg_send's own limit).

import { RprocError } from '../util/errors.ts';
import { messagesOf } from '../platform/message-queue.ts';
import type { ChannelEndpoint, ChannelInfo, ReceiveOptions } from '../platform/remote-processors.ts';
import { Backoff } from './backoff.ts';
import { errnoCode, type DeviceFile } from './kernel-io.ts';
import { kernelError } from './kernel-errors.ts';
import type { LinuxContext } from './linux-context.ts';

/** The default time a send may wait for a buffer (virtio_rpmsg_bus.c rpmsg_send_offchannel_raw). */
export const DEFAULT_SEND_TIMEOUT_MS = 15_000;
/** A read asks for this much: more than any rpmsg message, so rpmsg_char never cuts one short. */
const READ_MAX = 64 * 1024;

export interface LinuxEndpointOptions {
  /** A tty: writes may be partial and a zero-byte read is the hang-up. */
  readonly stream: boolean;
  readonly sendTimeoutMs?: number;
  /** Undo what opening did (unbind rpmsg_chrdev) after the file is closed. */
  readonly onClose: () => Promise<void>;
}

export class LinuxChannelEndpoint implements ChannelEndpoint {
  readonly channel: ChannelInfo;
  readonly path: string;
  private readonly ctx: LinuxContext;
  private readonly file: DeviceFile;
  private readonly options: LinuxEndpointOptions;
  private closed: Promise<void> | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private readonly sleepers = new Set<() => void>();

  constructor(
    ctx: LinuxContext,
    channel: ChannelInfo,
    path: string,
    file: DeviceFile,
    options: LinuxEndpointOptions,
  ) {
    this.ctx = ctx;
    this.channel = channel;
    this.path = path;
    this.file = file;
    this.options = options;
  }

  private gone(detail: string): RprocError {
    return new RprocError('EPIPE', 'linux-endpoint', `${this.path} (channel ${this.channel.id}): ${detail}`);
  }

  async send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const deadline = Date.now() + (this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
    const backoff = new Backoff(this.ctx.readPoll);
    let off = 0;
    do {
      if (this.closed !== undefined) throw this.gone('closed');
      let n: number;
      try {
        n = await this.file.write(bytes.subarray(off));
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EAGAIN' || (this.options.stream && code === 'ENOMEM')) {
          if (Date.now() >= deadline) {
            throw new RprocError(
              'ETIMEDOUT',
              'linux-send',
              `${this.path}: no free rpmsg buffer within ${this.options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS} ms ` +
                '(the remote is not taking messages)',
            );
          }
          await this.sleep(backoff.next());
          continue;
        }
        throw kernelError(e, {
          op: 'linux-send',
          doing: `sending ${bytes.length} bytes to ${this.path}`,
          path: this.path,
          reasons: {
            EMSGSIZE: `${bytes.length} bytes is more than one rpmsg message carries (496 bytes on virtio: 512-byte buffers less the 16-byte header)`,
            EPIPE: 'the channel went away (the remote stopped, crashed or destroyed it)',
          },
        });
      }
      if (!this.options.stream) {
        // rpmsg_char sends the whole buffer as one message or fails.
        if (n !== bytes.length) {
          throw new RprocError(
            'EIO',
            'linux-send',
            `${this.path} took ${n} of ${bytes.length} bytes of one message`,
          );
        }
        return;
      }
      off += n;
      backoff.reset();
    } while (off < bytes.length);
  }

  receive(options: ReceiveOptions = {}): Promise<Uint8Array> {
    // One reader at a time, in call order: each gets the next message.
    const next = this.reading.then(() => this.readOne(options.timeoutMs));
    this.reading = next.catch(() => undefined);
    return next;
  }

  messages(): AsyncIterableIterator<Uint8Array> {
    return messagesOf(() => this.receive());
  }

  private async readOne(timeoutMs: number | undefined): Promise<Uint8Array> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const backoff = new Backoff(this.ctx.readPoll);
    for (;;) {
      if (this.closed !== undefined) throw this.gone('closed');
      let data: Uint8Array | null;
      try {
        data = await this.file.read(READ_MAX);
      } catch (e) {
        const code = errnoCode(e);
        // rpmsg_char: EPIPE once the endpoint is destroyed; a hung-up terminal gives EIO.
        if (code === 'EPIPE' || code === 'EIO') {
          throw this.gone('the channel went away (the remote stopped, crashed or destroyed it)');
        }
        throw kernelError(e, { op: 'linux-receive', doing: `reading ${this.path}`, path: this.path });
      }
      if (data !== null) {
        if (data.length > 0) return data;
        // A tty reads 0 bytes once hung up. rpmsg_char reads 0 for an empty message, and never
        // otherwise (a gone endpoint is EPIPE); a node that is not rpmsg_char may still hang up
        // that way, so an empty read counts as a message only while the channel is there.
        if (
          !this.options.stream &&
          (await this.ctx.io.exists(this.ctx.layout.rpmsgDevice(this.channel.id)))
        ) {
          return data;
        }
        throw this.gone('hung up: the channel went away');
      }
      const now = Date.now();
      if (deadline !== undefined && now >= deadline) {
        throw new RprocError(
          'ETIMEDOUT',
          'linux-receive',
          `no message on ${this.path} within ${timeoutMs} ms`,
        );
      }
      await this.sleep(Math.min(backoff.next(), deadline === undefined ? Infinity : deadline - now));
    }
  }

  /** A wait that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      for (const wake of [...this.sleepers]) wake();
      await this.reading;
      try {
        await this.file.close();
      } finally {
        await this.options.onClose();
      }
    })();
    return this.closed;
  }
}
