// An rpmsg endpoint as a Node Duplex stream in object mode: each chunk read is one message, each
// chunk written is sent as one message — the /dev/rpmsgN (rpmsg_char) experience, with
// `for await (const msg of stream)` for free. When the endpoint goes away (channel destroyed,
// processor stopped or crashed) the stream ends with an EPIPE error, as a blocked read does in Linux.
// Mirrors drivers/rpmsg/rpmsg_char.c.

import { Duplex } from 'node:stream';
import { RprocError } from '../../util/errors.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';

export interface EndpointStreamOptions {
  /** Destination for writes; default the channel's remote address. */
  readonly dst?: number;
  /** How long a write waits for a TX buffer (ETIMEDOUT after). Default 15 s. */
  readonly sendTimeoutMs?: number;
}

/** Open `target` (a channel's default endpoint, or an endpoint) as a message stream. */
export function endpointStream(
  target: RpmsgChannel | RpmsgEndpoint,
  options: EndpointStreamOptions = {},
): Duplex {
  let ept: RpmsgEndpoint;
  const stream = new Duplex({
    objectMode: true,
    read() {
      // Messages are pushed as they arrive; nothing to pull.
    },
    write(chunk: unknown, _encoding, callback) {
      const data = toBytes(chunk);
      if (data === undefined) {
        callback(new RprocError('EINVAL', 'rpmsg-write', 'write a Uint8Array, Buffer or string'));
        return;
      }
      const dst = options.dst ?? ept.dst;
      ept
        .sendTo(
          dst,
          data,
          options.sendTimeoutMs === undefined ? undefined : { timeoutMs: options.sendTimeoutMs },
        )
        .then(
          () => callback(),
          (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
        );
    },
    final(callback) {
      callback();
    },
    destroy(error, callback) {
      // Closing the stream stops delivery; the endpoint itself stays (the channel owns it).
      if (!ept.destroyed) ept.setCallback(undefined);
      callback(error);
    },
  });
  const onMessage = (data: Uint8Array): void => {
    // The data view is only valid during the callback: copy it into the stream's own buffer.
    stream.push(Buffer.from(data));
  };
  if ('open' in target) {
    ept = target.open(onMessage);
  } else {
    ept = target;
    ept.setCallback(onMessage);
  }
  ept.onDestroy((reason) => {
    stream.destroy(reason);
  });
  return stream;
}

function toBytes(chunk: unknown): Uint8Array | undefined {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  return undefined;
}
