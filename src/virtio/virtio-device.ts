// The generic virtio device model a virtio driver programs against: negotiated features, status,
// config space, virtqueues and DMA-able buffer memory. A transport (remoteproc's, in
// src/remoteproc/virtio/rproc-virtio.ts) implements it; drivers (rpmsg, console) register by device id.
// Mirrors include/linux/virtio.h, virtio_config.h and the driver matching of drivers/virtio/virtio.c.

import type { VirtioFeatures } from './vring-constants.ts';
import type { VirtqueueDriver, VqToken } from './vring-driver.ts';

/** virtio status bits (virtio_config.h). */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

export interface VirtqueueSpec {
  /** 'input', 'output' (rpmsg), 'rx', 'tx' (console). */
  readonly name: string;
  /** Called when the device has returned buffers on this queue (its interrupt). */
  readonly callback?: () => void;
}

/** Device-visible memory for a driver's buffers (Linux: dma_alloc_coherent on the virtio device). */
export interface DmaRegion {
  /** The bus address the device sees in descriptors (here: the physical address). */
  readonly addr: bigint;
  /** A view of the memory. */
  readonly view: Uint8Array;
  free(): void;
}

export interface VirtioDevice {
  /** virtio<N>: unique per transport instance, for names and logs. */
  readonly name: string;
  /** The device's parent (for remoteproc: the processor's name), to tell devices apart in output. */
  readonly parentName: string;
  /** VIRTIO_ID_* of the device. */
  readonly deviceId: number;
  /** Features both sides agreed on (written to the device at finalize). */
  readonly features: VirtioFeatures;
  hasFeature(bit: number): boolean;
  /** Read `len` bytes of config space at `offset`; undefined (and logged) when out of range. */
  configGet(offset: number, len: number): Uint8Array | undefined;
  /** Write config space; false (and logged) when out of range. */
  configSet(offset: number, bytes: Uint8Array): boolean;
  /** Create the device's virtqueues in order; throws RprocError (ENOMEM/EINVAL) as find_vqs fails. */
  findVqs<T extends VqToken>(specs: readonly VirtqueueSpec[]): VirtqueueDriver<T>[];
  delVqs(): void;
  /** Allocate buffer memory the device can reach (rpmsg's 512-byte buffers live here). */
  allocDma(len: number): DmaRegion;
  /** Set DRIVER_OK: the remote may now use the queues. */
  ready(): void;
  /** Diagnostics that belong to the device's owner (the rproc log). */
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * A warning the remote can provoke at will (a malformed message, a refused announcement, a
   * dropped message): rate-limited per processor and per `key` (Linux's dev_warn_ratelimited:
   * 10 per 5 s), so that one core flooding one kind of problem silences neither its other
   * warnings nor another core's.
   */
  warn(key: string, message: string | (() => string)): void;
  /**
   * The remote broke the ring protocol (a virtqueue is broken): the device cannot go on. The
   * transport reports a fatal crash of the processor (Linux: the virtio device needs a reset, and
   * rproc_report_crash(RPROC_FATAL_ERROR) restarts the remote when recovery is enabled).
   */
  fatal(reason: string): void;
}

export interface VirtioDriver {
  readonly name: string;
  /** The device ids this driver binds to. */
  readonly deviceIds: readonly number[];
  /** Device feature bits the driver understands; the rest are not negotiated. */
  readonly featureBits: readonly number[];
  probe(dev: VirtioDevice): void | Promise<void>;
  remove(dev: VirtioDevice): void | Promise<void>;
}

/** Drivers by device id, first registered wins (like a bus with one driver per id table entry). */
export class VirtioDriverRegistry {
  private readonly drivers: VirtioDriver[] = [];

  register(driver: VirtioDriver): void {
    if (!this.drivers.includes(driver)) this.drivers.push(driver);
  }

  unregister(driver: VirtioDriver): void {
    const i = this.drivers.indexOf(driver);
    if (i >= 0) this.drivers.splice(i, 1);
  }

  match(deviceId: number): VirtioDriver | undefined {
    return this.drivers.find((d) => d.deviceIds.includes(deviceId));
  }

  get list(): readonly VirtioDriver[] {
    return this.drivers;
  }
}
