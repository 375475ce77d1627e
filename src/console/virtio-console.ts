// The host side of the virtio console: the virtio drivers for VIRTIO_ID_CONSOLE (3) and
// VIRTIO_ID_RPROC_SERIAL (11), one VirtioConsolePort (a Node Duplex byte stream) per device, and
// typed events for ports coming and going. Mirrors drivers/char/virtio_console.c, which registers
// virtio_console and virtio_rproc_serial with one probe; MULTIPORT (control queues) is not
// implemented, so every device has exactly port 0 on queues 0 (receiveq) and 1 (transmitq).

import { RprocError } from '../util/errors.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import type { VirtioDevice, VirtioDriver, VirtioDriverRegistry } from '../virtio/virtio-device.ts';
import { VIRTIO_CONSOLE_F_SIZE, VIRTIO_ID_CONSOLE, VIRTIO_ID_RPROC_SERIAL } from './console-constants.ts';
import { VirtioConsolePort, type ConsoleBufferConfig } from './console-port.ts';

export interface VirtioConsoleHostEvents extends Record<string, unknown> {
  /** A console device came up (DRIVER_OK set, buffers posted) or went away (remote stopped or crashed). */
  port: {
    readonly action: 'add' | 'remove';
    readonly port: VirtioConsolePort;
    /** Which processor: the port's parentName. */
    readonly parentName: string;
  };
  /** The remote broke a queue of a port; the port has ended with EIO until the remote restarts. */
  error: { readonly port: VirtioConsolePort; readonly reason: string };
}

export interface VirtioConsoleHostOptions {
  /** Bytes per receive buffer (remote → host); default 256. */
  readonly rxBufSize?: number;
  /** Receive buffers posted per port (capped by the ring size); default 16. */
  readonly rxBufCount?: number;
  /** Bytes per transmit buffer, the largest chunk a write is cut into; default 256. */
  readonly txBufSize?: number;
  /** Transmit buffers per port (capped by the ring size); default 16. */
  readonly txBufCount?: number;
}

export const CONSOLE_DEFAULT_BUF_SIZE = 256;
export const CONSOLE_DEFAULT_BUF_COUNT = 16;
const MAX_BUF_SIZE = 0x1_0000;
const MAX_BUF_COUNT = 0x8000;

/** Which port a waiter wants: a processor name, or any test on the port. */
export type ConsolePortFilter = string | ((port: VirtioConsolePort) => boolean);

export class VirtioConsoleHost extends TypedEmitter<VirtioConsoleHostEvents> {
  private readonly config: ConsoleBufferConfig;
  private readonly devices = new Map<VirtioDevice, VirtioConsolePort>();
  private nextPortIndex = 0;
  /**
   * virtio_console (id 3, negotiates VIRTIO_CONSOLE_F_SIZE) and virtio_rproc_serial (id 11, no
   * device features: Linux clears SIZE and MULTIPORT for it). Two drivers, as in Linux, so that the
   * features written back to each vdev are exactly those its driver uses.
   */
  readonly virtioDrivers: readonly [VirtioDriver, VirtioDriver];

  constructor(options: VirtioConsoleHostOptions = {}) {
    super();
    const config: ConsoleBufferConfig = {
      rxBufSize: options.rxBufSize ?? CONSOLE_DEFAULT_BUF_SIZE,
      rxBufCount: options.rxBufCount ?? CONSOLE_DEFAULT_BUF_COUNT,
      txBufSize: options.txBufSize ?? CONSOLE_DEFAULT_BUF_SIZE,
      txBufCount: options.txBufCount ?? CONSOLE_DEFAULT_BUF_COUNT,
    };
    for (const [name, value, max] of [
      ['rxBufSize', config.rxBufSize, MAX_BUF_SIZE],
      ['txBufSize', config.txBufSize, MAX_BUF_SIZE],
      ['rxBufCount', config.rxBufCount, MAX_BUF_COUNT],
      ['txBufCount', config.txBufCount, MAX_BUF_COUNT],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1 || value > max) {
        throw new RprocError('EINVAL', 'virtio-console', `${name} ${String(value)} is outside 1..${max}`);
      }
    }
    this.config = config;
    const probe = (vdev: VirtioDevice): void => this.probe(vdev);
    const remove = (vdev: VirtioDevice): void => this.remove(vdev);
    this.virtioDrivers = [
      {
        name: 'virtio_console',
        deviceIds: [VIRTIO_ID_CONSOLE],
        featureBits: [VIRTIO_CONSOLE_F_SIZE],
        probe,
        remove,
      },
      { name: 'virtio_rproc_serial', deviceIds: [VIRTIO_ID_RPROC_SERIAL], featureBits: [], probe, remove },
    ];
  }

  /** Register both drivers with a transport's registry. */
  register(registry: VirtioDriverRegistry): void {
    for (const d of this.virtioDrivers) registry.register(d);
  }

  /** Every live port, in probe order. */
  get ports(): VirtioConsolePort[] {
    return [...this.devices.values()];
  }

  /** The first live port matching `filter` (a processor name or a predicate). */
  port(filter?: ConsolePortFilter): VirtioConsolePort | undefined {
    return this.ports.find(matcher(filter));
  }

  /** The first live port matching `filter`, waiting for its device to come up for up to `timeoutMs`. */
  async waitForPort(filter?: ConsolePortFilter, timeoutMs = 5000): Promise<VirtioConsolePort> {
    const match = matcher(filter);
    const existing = this.ports.find(match);
    if (existing !== undefined) return existing;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new RprocError('ETIMEDOUT', 'virtio-console', `no console port came up within ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
    try {
      const e = await Promise.race([this.next('port', (e) => e.action === 'add' && match(e.port)), timeout]);
      return e.port;
    } finally {
      clearTimeout(timer);
    }
  }

  private probe(vdev: VirtioDevice): void {
    const port = new VirtioConsolePort(vdev, this.portName(vdev), this.config, {
      broken: (p, reason) => this.emit('error', { port: p, reason }),
    });
    this.devices.set(vdev, port);
    port.start();
    vdev.log('info', `${vdev.name}: console port ${port.name} is online`);
    this.emit('port', { action: 'add', port, parentName: port.parentName });
  }

  private remove(vdev: VirtioDevice): void {
    const port = this.devices.get(vdev);
    if (port === undefined) return;
    this.devices.delete(vdev);
    port.detach('the remote processor stopped');
    this.emit('port', { action: 'remove', port, parentName: port.parentName });
  }

  /** vport<N>p0 for virtio<N> (Linux's naming), a running count for devices named otherwise. */
  private portName(vdev: VirtioDevice): string {
    const m = /^virtio(\d+)$/.exec(vdev.name);
    const n = m?.[1] ?? String(this.nextPortIndex);
    this.nextPortIndex++;
    return `vport${n}p0`;
  }
}

function matcher(filter: ConsolePortFilter | undefined): (port: VirtioConsolePort) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'string') return (p) => p.parentName === filter;
  return filter;
}

export { VirtioConsolePort };
export type { ConsoleBufferConfig };
