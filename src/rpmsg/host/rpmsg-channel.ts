// An rpmsg channel: a named service the remote announced (or the host created), with the remote
// address to talk to and, once opened or bound to a driver, a default local endpoint.
// Mirrors struct rpmsg_device and rpmsg_channel_info of include/linux/rpmsg.h.

import { RprocError, hex } from '../../util/errors.ts';
import type { RpmsgEndpoint, RpmsgRxCallback } from './rpmsg-endpoint.ts';

/** What a channel needs from its rpmsg device. */
export interface ChannelOwner {
  /** virtio<N> of the rpmsg device, for names. */
  readonly deviceName: string;
  createEndpoint(
    callback: RpmsgRxCallback | undefined,
    addr: number | undefined,
    channel: RpmsgChannel,
  ): RpmsgEndpoint;
  /** The virtio device, for rate-limited warnings in its processor's log. */
  readonly vdev: { warn(key: string, message: string | (() => string)): void };
}

export class RpmsgChannel {
  readonly name: string;
  readonly dst: number;
  private readonly owner: ChannelOwner;
  private eptValue: RpmsgEndpoint | undefined;
  private removedFlag = false;

  constructor(owner: ChannelOwner, name: string, dst: number) {
    this.owner = owner;
    this.name = name;
    this.dst = dst;
  }

  /** Linux's device name: virtio0.<name>.<src>.<dst>, with -1 for ANY. */
  get deviceName(): string {
    return `${this.owner.deviceName}.${this.name}.${this.ept?.addr ?? -1}.${this.dst}`;
  }

  get ept(): RpmsgEndpoint | undefined {
    return this.eptValue;
  }

  get removed(): boolean {
    return this.removedFlag;
  }

  /**
   * The channel's default endpoint (created on first call with a dynamic address ≥ 1024, as
   * rpmsg_char does on open). The remote learns this address from the first message we send.
   * Throws EPIPE once the channel is removed.
   */
  open(callback?: RpmsgRxCallback): RpmsgEndpoint {
    if (this.removedFlag) {
      throw new RprocError(
        'EPIPE',
        'rpmsg-open',
        `channel "${this.name}" at ${hex(this.dst)} has been removed`,
      );
    }
    if (this.eptValue !== undefined && !this.eptValue.destroyed) {
      if (callback !== undefined) this.eptValue.setCallback(callback);
      return this.eptValue;
    }
    this.eptValue = this.owner.createEndpoint(callback, undefined, this);
    return this.eptValue;
  }

  /** A rate-limited warning about this channel in its processor's log (drivers refusing it, ...). */
  warn(key: string, message: string | (() => string)): void {
    this.owner.vdev.warn(key, message);
  }

  /** @internal */
  markRemoved(): void {
    this.removedFlag = true;
  }
}
