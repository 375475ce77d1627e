// An rpmsg endpoint as a Node Duplex stream in object mode: each chunk read is one message, each
// chunk written is sent as one message — the /dev/rpmsgN (rpmsg_char) experience, with
// `for await (const msg of stream)` for free. When the endpoint goes away (channel destroyed,
// processor stopped or crashed) the stream ends with an EPIPE error, as a blocked read does in Linux.
// Mirrors drivers/rpmsg/rpmsg_char.c. Input is bounded (rx-backlog.ts): highWaterMark messages
// buffered, then RX buffers held (backpressure on the remote), then drops, counted.

import { Duplex } from 'node:stream';
import { RprocError } from '../../util/errors.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RpmsgEndpoint, RxContext } from './rpmsg-endpoint.ts';
import { RxBacklog } from './rx-backlog.ts';

export interface EndpointStreamOptions {
  /** Destination for writes; default the channel's remote address. */
  readonly dst?: number;
  /** How long a write waits for a TX buffer (ETIMEDOUT after). Default 15 s. */
  readonly sendTimeoutMs?: number;
  /** Messages buffered for the reader before RX buffers are held instead; default 64. */
  readonly highWaterMark?: number;
}

/** The stream's input counters (readable once it is made). */
export interface EndpointStreamStats {
  /** Messages dropped: the reader was behind by more than the buffer and the held RX buffers. */
  readonly dropped: number;
  /** Messages waiting in held RX buffers now. */
  readonly held: number;
}

const streamStats = new WeakMap<Duplex, () => EndpointStreamStats>();

/** Input counters of a stream made by endpointStream. */
export function endpointStreamStats(stream: Duplex): EndpointStreamStats | undefined {
  return streamStats.get(stream)?.();
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
  let ept: RpmsgEndpoint | undefined;
  const backlog = new RxBacklog(`stream on endpoint ${target0?.addr ?? '?'}`, () => ept);
  /** push() said the reader is behind: hold or drop until read() asks for more. */
  let behind = false;
  const stream = new Duplex({
    objectMode: true,
    readableHighWaterMark: options.highWaterMark ?? 64,
    read() {
      behind = false;
      for (let m = backlog.take(); m !== undefined; m = backlog.take()) {
        if (!stream.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength))) {
          behind = true;
          return;
        }
      }
    },
    write(chunk: unknown, _encoding, callback) {
      const data = toBytes(chunk);
      if (data === undefined) {
        callback(new RprocError('EINVAL', 'rpmsg-write', 'write a Uint8Array, Buffer or string'));
        return;
      }
      const e = ept;
      if (e === undefined) {
        callback(new RprocError('EPIPE', 'rpmsg-write', 'the endpoint is gone'));
        return;
      }
      const dst = options.dst ?? e.dst;
      e.sendTo(
        dst,
        data,
        options.sendTimeoutMs === undefined ? undefined : { timeoutMs: options.sendTimeoutMs },
      ).then(
        () => callback(),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
      );
    },
    final(callback) {
      callback();
    },
    destroy(error, callback) {
      // Closing the stream stops delivery; the endpoint itself stays (the channel owns it).
      backlog.clear();
      if (ept !== undefined) {
        if (!ept.destroyed) ept.setCallback(undefined);
        streamed.delete(ept);
      }
      callback(error);
    },
  });
  const onMessage = (data: Uint8Array, _src: number, ctx: RxContext): void => {
    if (behind || backlog.length > 0) {
      backlog.offer(data, ctx);
      return;
    }
    // The data view is only valid during the callback: copy it into the stream's own buffer.
    if (!stream.push(Buffer.from(data))) behind = true;
  };
  if ('open' in target) {
    ept = target.open(onMessage);
  } else {
    ept = target;
    ept.setCallback(onMessage);
  }
  const opened = ept;
  streamed.add(opened);
  streamStats.set(stream, () => ({ dropped: backlog.dropped, held: backlog.length }));
  opened.onDestroy((reason) => {
    // The RX buffers are about to be freed: held messages are lost with the stream's error.
    backlog.clear();
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
