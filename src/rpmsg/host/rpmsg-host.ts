// The host side of rpmsg: a virtio driver for VIRTIO_ID_RPMSG that creates one rpmsg bus per
// device, the table of rpmsg drivers matched by channel name (probe/remove), and typed events for
// channels coming and going. Mirrors virtio_rpmsg_bus.c's virtio_driver and the rpmsg bus of
// rpmsg_core.c.

import { RprocError } from '../../util/errors.ts';
import { TypedEmitter } from '../../util/typed-emitter.ts';
import { VIRTIO_ID_RPMSG } from '../../rsc/rsc-constants.ts';
import type { VirtioDevice, VirtioDriver } from '../../virtio/virtio-device.ts';
import { RPMSG_BUF_SIZE, RPMSG_HDR_SIZE, VIRTIO_RPMSG_F_NS } from '../rpmsg-wire.ts';
import type { RpmsgChannel } from './rpmsg-channel.ts';
import type { RxContext } from './rpmsg-endpoint.ts';
import { VirtioRpmsgBus, type RpmsgBufferConfig } from './virtio-rpmsg-bus.ts';
import { RpmsgCtrlDev } from './rpmsg-ctrl.ts';
import type { RpmsgTap } from './rpmsg-tap.ts';

/** An rpmsg driver, bound to channels by name (Linux: the id_table of struct rpmsg_driver). */
export interface RpmsgDriver {
  /** Channel names this driver serves. */
  readonly names: readonly string[];
  /** The channel's default endpoint exists (ch.ept) when probe runs; throw to refuse the channel. */
  probe(channel: RpmsgChannel): void | Promise<void>;
  remove?(channel: RpmsgChannel): void | Promise<void>;
  /** Messages to the channel's default endpoint (ctx.hold() keeps the RX buffer: see RxContext). */
  readonly callback?: (channel: RpmsgChannel, data: Uint8Array, src: number, ctx: RxContext) => void;
}

export interface RpmsgHostEvents extends Record<string, unknown> {
  /** A channel appeared (name-service announcement) or went away. */
  channel: {
    readonly action: 'add' | 'remove';
    readonly channel: RpmsgChannel;
    readonly device: VirtioRpmsgBus;
  };
  /** An rpmsg device came up (DRIVER_OK) or went away (remote stopped or crashed). */
  device: { readonly action: 'add' | 'remove'; readonly device: VirtioRpmsgBus };
  /** The remote broke a ring or the protocol; the device stops until the remote restarts. */
  error: { readonly device: VirtioRpmsgBus; readonly reason: string };
}

export interface RpmsgHostOptions {
  /** Host → remote buffer size, header included; default 512 (Linux). */
  readonly txBufSize?: number;
  /** Remote → host buffer size, header included; default 512 (Linux). */
  readonly rxBufSize?: number;
  /**
   * Channels one rpmsg device may have; name-service announcements beyond are refused (counted in
   * stats.nsOverLimit, one rate-limited warning). Default 1024; Linux has no limit.
   */
  readonly maxChannelsPerDevice?: number;
  /**
   * RX buffers one endpoint's reader (tty, /dev/rpmsgN, stream) may hold while it is behind, before
   * it drops; default a quarter of the device's RX buffers, so that a reader that stopped reading
   * leaves the other endpoints of its device three quarters of the pool.
   */
  readonly rxHeldPerEndpoint?: number;
  /**
   * Name-service messages a device may have refused per second (over the channel limit,
   * duplicates, malformed) before their RX buffers go back at that rate only, so that a remote
   * announcing in a loop waits for buffers (ns-pacer.ts). Default 5000; Linux has no limit.
   */
  readonly nsRefusedPerSecond?: number;
  /**
   * How long a blocking send that found no TX buffer watches the used ring for one coming back
   * before it sleeps on the TX-complete interrupt, in µs: at most this, adapted to what watching
   * achieves (halved when nothing came, then skipped for a backoff of sleeps). It pays when the
   * remote runs on another thread, the SoC's default; 0 never polls (a remote sharing the host's
   * thread, as under the deterministic scheduler, cannot answer while the host polls). Default 50.
   */
  readonly txPollMaxUs?: number;
}

/**
 * Where to look for a channel. A name means nothing across processors — any core can announce any
 * name, so "the first channel called rpmsg-echo" may belong to a core squatting on it — so every
 * lookup names its processor (`rproc`: its name or the Rproc) or its rpmsg device (`device`), or
 * says explicitly that any device will do (`anyDevice: true`).
 */
export type ChannelScope =
  | { readonly rproc: string | { readonly name: string } }
  | { readonly device: VirtioRpmsgBus }
  | { readonly anyDevice: true };

export type ChannelWaitOptions = ChannelScope & {
  /** How long to wait for the announcement; default 5000 ms. */
  readonly timeoutMs?: number;
};

export class RpmsgHost extends TypedEmitter<RpmsgHostEvents> {
  private readonly config: RpmsgBufferConfig;
  private readonly drivers: RpmsgDriver[] = [];
  private readonly devices = new Map<VirtioDevice, VirtioRpmsgBus>();
  private readonly ctrls = new Map<VirtioRpmsgBus, RpmsgCtrlDev>();
  /** The virtio driver to register with a transport (RprocVirtio's registry). */
  readonly virtioDriver: VirtioDriver;
  private tapValue: RpmsgTap | undefined;

  constructor(options: RpmsgHostOptions = {}) {
    super();
    const txBufSize = options.txBufSize ?? RPMSG_BUF_SIZE;
    const rxBufSize = options.rxBufSize ?? RPMSG_BUF_SIZE;
    for (const [name, size] of [
      ['txBufSize', txBufSize],
      ['rxBufSize', rxBufSize],
    ] as const) {
      if (!Number.isInteger(size) || size <= RPMSG_HDR_SIZE || size > 0x1_0000 + RPMSG_HDR_SIZE) {
        throw new RprocError(
          'EINVAL',
          'rpmsg-host',
          `${name} ${size} must leave room for the 16-byte header and a u16 length`,
        );
      }
    }
    for (const [name, v] of [
      ['maxChannelsPerDevice', options.maxChannelsPerDevice],
      ['rxHeldPerEndpoint', options.rxHeldPerEndpoint],
      ['nsRefusedPerSecond', options.nsRefusedPerSecond],
      ['txPollMaxUs', options.txPollMaxUs],
    ] as const) {
      const least = name === 'rxHeldPerEndpoint' || name === 'txPollMaxUs' ? 0 : 1;
      if (v !== undefined && (!Number.isSafeInteger(v) || v < least)) {
        throw new RprocError('EINVAL', 'rpmsg-host', `${name} ${String(v)} is not a count`);
      }
    }
    this.config = {
      txBufSize,
      rxBufSize,
      ...(options.maxChannelsPerDevice === undefined ? {} : { maxChannels: options.maxChannelsPerDevice }),
      ...(options.rxHeldPerEndpoint === undefined ? {} : { rxHeldPerEndpoint: options.rxHeldPerEndpoint }),
      ...(options.nsRefusedPerSecond === undefined ? {} : { nsRefusedPerSecond: options.nsRefusedPerSecond }),
      ...(options.txPollMaxUs === undefined ? {} : { txPollMaxUs: options.txPollMaxUs }),
    };
    this.virtioDriver = {
      name: 'virtio_rpmsg_bus',
      deviceIds: [VIRTIO_ID_RPMSG],
      featureBits: [VIRTIO_RPMSG_F_NS],
      probe: (vdev) => this.probe(vdev),
      remove: (vdev) => this.remove(vdev),
    };
  }

  /** Observe every device's traffic, now and later (rpmsg-tap.ts); undefined turns it off. */
  get tap(): RpmsgTap | undefined {
    return this.tapValue;
  }

  set tap(tap: RpmsgTap | undefined) {
    this.tapValue = tap;
    for (const dev of this.devices.values()) dev.tap = tap;
  }

  registerDriver(driver: RpmsgDriver): void {
    this.drivers.push(driver);
    for (const dev of this.devices.values()) for (const ch of dev.channelList) void this.bind(ch);
  }

  /** Every live channel, on every device. */
  get channels(): RpmsgChannel[] {
    return [...this.devices.values()].flatMap((d) => [...d.channelList]);
  }

  /** One rpmsg bus per virtio rpmsg device probed (Linux: one virtproc_info each). */
  get buses(): VirtioRpmsgBus[] {
    return [...this.devices.values()];
  }

  /** The rpmsg devices of processor `rproc` (by name), in probe order. */
  devicesOf(rproc: string | { readonly name: string }): VirtioRpmsgBus[] {
    const name = typeof rproc === 'string' ? rproc : rproc.name;
    return this.buses.filter((d) => d.vdev.parentName === name);
  }

  /**
   * The control device of `device` (/dev/rpmsg_ctrlN, rpmsg-ctrl.ts): endpoint devices made
   * through it go away with the device, their readers getting EPIPE.
   */
  ctrl(device: VirtioRpmsgBus): RpmsgCtrlDev {
    if (device.removed) throw new RprocError('ENODEV', 'rpmsg-ctrl', `${device.deviceName} is gone`);
    let ctrl = this.ctrls.get(device);
    if (ctrl === undefined) this.ctrls.set(device, (ctrl = new RpmsgCtrlDev(device)));
    return ctrl;
  }

  /** The oldest live channel named `name` in `scope`, or undefined. */
  channel(name: string, scope: ChannelScope): RpmsgChannel | undefined {
    const match = scopeMatcher(scope, 'channel');
    for (const d of this.devices.values()) {
      if (!match(d)) continue;
      const ch = d.channel(name);
      if (ch !== undefined) return ch;
    }
    return undefined;
  }

  /**
   * The channel named `name` in `scope` (see ChannelScope), waiting for its announcement up to
   * `timeoutMs` (ETIMEDOUT naming both). A scope is required: `{ rproc: 'rproc0' }` for a
   * processor's channel, `{ anyDevice: true }` to take the first one any core announces.
   */
  waitForChannel(name: string, options: ChannelWaitOptions): Promise<RpmsgChannel> {
    let match: (d: VirtioRpmsgBus) => boolean;
    try {
      match = scopeMatcher(options, 'waitForChannel');
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    const existing = this.channel(name, options);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<RpmsgChannel>((resolve, reject) => {
      // Both ways out remove both the listener and the timer: a timed-out wait leaves nothing behind.
      const listener = (e: RpmsgHostEvents['channel']): void => {
        if (e.action !== 'add' || e.channel.name !== name || !match(e.device)) return;
        done();
        resolve(e.channel);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new RprocError(
            'ETIMEDOUT',
            'rpmsg',
            `no channel "${name}" announced ${scopeText(options)} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.off('channel', listener);
      };
      this.on('channel', listener);
    });
  }

  private probe(vdev: VirtioDevice): void {
    const dev = new VirtioRpmsgBus(vdev, this.config, {
      channelAdded: (channel) => {
        this.emit('channel', { action: 'add', channel, device: dev });
        void this.bind(channel);
      },
      channelRemoved: (channel) => {
        this.emit('channel', { action: 'remove', channel, device: dev });
        const driver = this.driverFor(channel);
        if (driver?.remove !== undefined) void Promise.resolve(driver.remove(channel)).catch(() => undefined);
      },
      error: (device, reason) => this.emit('error', { device, reason }),
    });
    this.devices.set(vdev, dev);
    dev.tap = this.tapValue;
    dev.start();
    this.emit('device', { action: 'add', device: dev });
  }

  private remove(vdev: VirtioDevice): void {
    const dev = this.devices.get(vdev);
    if (dev === undefined) return;
    this.devices.delete(vdev);
    dev.remove('the remote processor stopped');
    this.ctrls.get(dev)?.removeAll();
    this.ctrls.delete(dev);
    this.emit('device', { action: 'remove', device: dev });
  }

  private driverFor(channel: RpmsgChannel): RpmsgDriver | undefined {
    return this.drivers.find((d) => d.names.includes(channel.name));
  }

  private async bind(channel: RpmsgChannel): Promise<void> {
    const driver = this.driverFor(channel);
    if (driver === undefined || channel.ept !== undefined) return;
    const cb = driver.callback;
    if (channel.removed) return;
    const ept = channel.open(cb === undefined ? undefined : (data, src, ctx) => cb(channel, data, src, ctx));
    try {
      await driver.probe(channel);
    } catch {
      // The driver refused the channel: it stays, unbound, without an endpoint.
      ept.destroy();
    }
  }
}

/** Which devices `scope` covers; EINVAL naming the call when it is not a ChannelScope. */
function scopeMatcher(scope: unknown, op: string): (d: VirtioRpmsgBus) => boolean {
  if (typeof scope === 'object' && scope !== null) {
    const s = scope as { rproc?: unknown; device?: unknown; anyDevice?: unknown };
    if (s.anyDevice === true) return () => true;
    if (typeof s.rproc === 'string') {
      const name = s.rproc;
      return (d) => d.vdev.parentName === name;
    }
    if (
      typeof s.rproc === 'object' &&
      s.rproc !== null &&
      typeof (s.rproc as { name?: unknown }).name === 'string'
    ) {
      const name = (s.rproc as { name: string }).name;
      return (d) => d.vdev.parentName === name;
    }
    if (s.device instanceof VirtioRpmsgBus) {
      const device = s.device;
      return (d) => d === device;
    }
  }
  throw new RprocError(
    'EINVAL',
    op,
    `say where to look for the channel: { rproc: <name> }, { device } or { anyDevice: true }, not ${describe(scope)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null)
    return `an object with keys [${Object.keys(value).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

function scopeText(scope: ChannelScope): string {
  if ('anyDevice' in scope) return 'on any device';
  if ('device' in scope) return `on ${scope.device.deviceName}`;
  return `by ${typeof scope.rproc === 'string' ? scope.rproc : scope.rproc.name}`;
}

export type { RpmsgChannel, VirtioRpmsgBus };
