// An optional observer of an rpmsg host's traffic (messages each way, endpoints made and gone), for
// tracing and fault injection, which may also starve the host of TX buffers. Off by default: the hot
// paths pay one undefined check. Messages are reported after the host validated them, with the
// remote-written header values that passed.

import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

export interface RpmsgTap {
  /** The host queued a message to the remote (it is on vring1 and the remote was kicked if needed). */
  tx(device: VirtioRpmsgBus, src: number, dst: number, len: number): void;
  /** A well-formed message from the remote, before its endpoint (if any) gets it. */
  rx(device: VirtioRpmsgBus, src: number, dst: number, len: number): void;
  /** A host endpoint was created (with its channel, if it is one's default endpoint) or destroyed. */
  endpoint(
    device: VirtioRpmsgBus,
    addr: number,
    action: 'create' | 'destroy',
    channel: RpmsgChannel | undefined,
  ): void;
  /** Fault injection: while this says true, the host finds no free TX buffer (sends wait or get ENOMEM). */
  txStarved?(device: VirtioRpmsgBus): boolean;
}
