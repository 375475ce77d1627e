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
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';
import { VirtioRpmsgDevice, type RpmsgBufferConfig } from './virtio-rpmsg-device.ts';
import { RpmsgCtrlDev } from './rpmsg-ctrl.ts';
import type { RpmsgTap } from './rpmsg-tap.ts';

/** An rpmsg driver, bound to channels by name (Linux: the id_table of struct rpmsg_driver). */
export interface RpmsgDriver {
  /** Channel names this driver serves. */
  readonly names: readonly string[];
  /** The channel's default endpoint exists (ch.ept) when probe runs; throw to refuse the channel. */
  probe(channel: RpmsgChannel): void | Promise<void>;
  remove?(channel: RpmsgChannel): void | Promise<void>;
  /** Messages to the channel's default endpoint. */
  readonly callback?: (channel: RpmsgChannel, data: Uint8Array, src: number) => void;
}

export interface RpmsgHostEvents extends Record<string, unknown> {
  /** A channel appeared (name-service announcement) or went away. */
  channel: {
    readonly action: 'add' | 'remove';
    readonly channel: RpmsgChannel;
    readonly device: VirtioRpmsgDevice;
  };
  /** An rpmsg device came up (DRIVER_OK) or went away (remote stopped or crashed). */
  device: { readonly action: 'add' | 'remove'; readonly device: VirtioRpmsgDevice };
  /** The remote broke a ring or the protocol; the device stops until the remote restarts. */
  error: { readonly device: VirtioRpmsgDevice; readonly reason: string };
}

export interface RpmsgHostOptions {
  /** Host → remote buffer size, header included; default 512 (Linux). */
  readonly txBufSize?: number;
  /** Remote → host buffer size, header included; default 512 (Linux). */
  readonly rxBufSize?: number;
}

export class RpmsgHost extends TypedEmitter<RpmsgHostEvents> {
  private readonly config: RpmsgBufferConfig;
  private readonly drivers: RpmsgDriver[] = [];
  private readonly devices = new Map<VirtioDevice, VirtioRpmsgDevice>();
  private readonly ctrls = new Map<VirtioRpmsgDevice, RpmsgCtrlDev>();
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
    this.config = { txBufSize, rxBufSize };
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

  get rpmsgDevices(): VirtioRpmsgDevice[] {
    return [...this.devices.values()];
  }

  /** The first live channel named `name`, waiting for its announcement up to `timeoutMs`. */
  /**
   * The control device of `device` (/dev/rpmsg_ctrlN, rpmsg-ctrl.ts): endpoint devices made
   * through it go away with the device, their readers getting EPIPE.
   */
  ctrl(device: VirtioRpmsgDevice): RpmsgCtrlDev {
    if (device.removed) throw new RprocError('ENODEV', 'rpmsg-ctrl', `${device.deviceName} is gone`);
    let ctrl = this.ctrls.get(device);
    if (ctrl === undefined) this.ctrls.set(device, (ctrl = new RpmsgCtrlDev(device)));
    return ctrl;
  }

  waitForChannel(name: string, timeoutMs = 5000): Promise<RpmsgChannel> {
    const existing = this.channels.find((c) => c.name === name);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<RpmsgChannel>((resolve, reject) => {
      // Both ways out remove both the listener and the timer: a timed-out wait leaves nothing behind.
      const listener = (e: RpmsgHostEvents['channel']): void => {
        if (e.action !== 'add' || e.channel.name !== name) return;
        done();
        resolve(e.channel);
      };
      const timer = setTimeout(() => {
        done();
        reject(new RprocError('ETIMEDOUT', 'rpmsg', `no channel "${name}" announced within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.off('channel', listener);
      };
      this.on('channel', listener);
    });
  }

  private probe(vdev: VirtioDevice): void {
    const dev = new VirtioRpmsgDevice(vdev, this.config, {
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
    const ept = channel.open(cb === undefined ? undefined : (data, src) => cb(channel, data, src));
    try {
      await driver.probe(channel);
    } catch {
      // The driver refused the channel: it stays, unbound, without an endpoint.
      ept.destroy();
    }
  }
}

export type { RpmsgChannel, RpmsgEndpoint, VirtioRpmsgDevice };
