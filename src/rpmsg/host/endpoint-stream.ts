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

/**
 * Open `target` (a channel's default endpoint, or an endpoint) as a message stream. Throws EBUSY
 * while another stream on the same endpoint is open, EPIPE for a removed channel.
 */
export function endpointStream(
  target: RpmsgChannel | RpmsgEndpoint,
  options: EndpointStreamOptions = {},
): Duplex {
  const target0 = 'open' in target ? target.ept : target;
  if (target0 !== undefined && !target0.destroyed && streamed.has(target0)) {
    // rpmsg_char allows one opener per endpoint device; a second stream would silently take the
    // messages away from the first.
    throw new RprocError('EBUSY', 'rpmsg-open', `endpoint ${target0.addr} already has an open stream`);
  }
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
      streamed.delete(ept);
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
  streamed.add(ept);
  ept.onDestroy((reason) => {
    stream.destroy(reason);
  });
  return stream;
}

/** Endpoints with an open stream (one stream per endpoint, as one opener per /dev/rpmsgN). */
const streamed = new WeakSet<RpmsgEndpoint>();

function toBytes(chunk: unknown): Uint8Array | undefined {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return new TextEncoder().encode(chunk);
  return undefined;
}
