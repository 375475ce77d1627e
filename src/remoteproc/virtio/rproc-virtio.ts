// The virtio transport remoteproc provides: one virtio device per vdev entry, its features,
// status and config space kept in the resource table the remote reads, its virtqueues placed in the
// vdev<k>vring<i> carveouts, kicks through the platform's kick op and interrupts by notify id.
// Mirrors drivers/remoteproc/remoteproc_virtio.c (rproc_add_virtio_dev, rproc_virtio_config_ops,
// rp_find_vq, rproc_vq_interrupt).

import { RprocError, hex } from '../../util/errors.ts';
import { RateLimiter, withSuppressed, type RateLimitOptions } from '../../util/rate-limit.ts';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { RscTableWriter } from '../../rsc/rsc-writer.ts';
import { VIRTIO_F, hasFeature, type VirtioFeatures } from '../../virtio/vring-constants.ts';
import { VirtqueueDriver, type VqToken } from '../../virtio/vring-driver.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VirtioDriverRegistry,
  type DmaRegion,
  type VirtioDevice,
  type VirtioDriver,
  type VirtqueueSpec,
} from '../../virtio/virtio-device.ts';
import type { DmaBuffer } from '../carveouts.ts';
import type { Rproc } from '../rproc.ts';
import { RPROC_FATAL_ERROR } from '../rproc-state.ts';
import type { RprocVdev, RprocVring, VdevHooks } from '../vdev.ts';

/** Transport feature bits the split ring here implements and so lets a driver negotiate. */
const TRANSPORT_FEATURES = [VIRTIO_F.VIRTIO_RING_F_EVENT_IDX, VIRTIO_F.VIRTIO_RING_F_INDIRECT_DESC];
const BUFFER_ALIGN = 64;

/** What the interrupt path needs of a queue, whatever its token type. */
interface BoundQueue {
  readonly vq: { moreUsed(): boolean; readonly broken: RprocError | undefined };
  readonly vring: RprocVring;
  readonly callback: (() => void) | undefined;
}

/** The virtio device of one vdev, as its driver sees it. */
class RprocVirtioDevice implements VirtioDevice {
  readonly name: string;
  readonly deviceId: number;
  features: VirtioFeatures = 0;
  driver: VirtioDriver | undefined;
  readonly queues: BoundQueue[] = [];
  private readonly rproc: Rproc;
  private readonly vdev: RprocVdev;
  private readonly transport: RprocVirtio;
  private fatalReported = false;
  /** The status byte as we set it; never read back from the table (the remote can write it, TC-L02). */
  private status = 0;
  private readonly dmaLive = new Set<DmaBuffer>();
  private bufferCursor = 0;

  get parentName(): string {
    return this.rproc.name;
  }

  constructor(transport: RprocVirtio, rproc: Rproc, vdev: RprocVdev, name: string) {
    this.transport = transport;
    this.rproc = rproc;
    this.vdev = vdev;
    this.name = name;
    this.deviceId = vdev.id;
  }

  /** The live table (device memory once loaded); edits go where table_ptr points now. */
  private writer(): RscTableWriter | undefined {
    const table = this.rproc.resources.table;
    return table === undefined ? undefined : new RscTableWriter(table);
  }

  setStatus(status: number): void {
    this.status = status & 0xff;
    this.writer()?.setVdevStatus(this.vdev.bodyOffset, this.status);
  }

  addStatus(bits: number): void {
    this.setStatus(this.status | bits);
  }

  get currentStatus(): number {
    return this.status;
  }

  /** finalize_features: dfeatures ∩ (driver bits ∪ ring bits), written to gfeatures. */
  negotiate(driver: VirtioDriver): void {
    let negotiated = 0;
    for (const bit of [...driver.featureBits, ...TRANSPORT_FEATURES]) {
      // The vdev entry carries 32 feature bits only (legacy: VERSION_1 and RING_PACKED never apply).
      if (bit < 32 && hasFeature(this.vdev.dfeatures, bit)) negotiated |= 1 << bit;
    }
    this.features = negotiated >>> 0;
    this.writer()?.setVdevGfeatures(this.vdev.bodyOffset, this.features);
  }

  hasFeature(bit: number): boolean {
    return hasFeature(this.features, bit);
  }

  configGet(offset: number, len: number): Uint8Array | undefined {
    const space = this.configSpace(offset, len, 'read');
    return space?.slice(offset, offset + len);
  }

  configSet(offset: number, bytes: Uint8Array): boolean {
    const space = this.configSpace(offset, bytes.length, 'write');
    if (space === undefined) return false;
    space.set(bytes, offset);
    return true;
  }

  private configSpace(offset: number, len: number, what: string): Uint8Array | undefined {
    const table = this.rproc.resources.table;
    const configLen = this.vdev.layout.configLen;
    // Bounds come from the layout validated at parse time, not from the live table (TC-L01).
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(len) ||
      offset < 0 ||
      len < 0 ||
      offset + len > configLen
    ) {
      this.log(
        'error',
        `${this.name}: config ${what} of ${len} bytes at ${hex(offset)} is outside the ${hex(configLen)}-byte config space`,
      );
      return undefined;
    }
    if (table === undefined) return undefined;
    return new RscTableWriter(table).vdevConfig(this.vdev.layout);
  }

  findVqs<T extends VqToken>(specs: readonly VirtqueueSpec[]): VirtqueueDriver<T>[] {
    const created: VirtqueueDriver<T>[] = [];
    try {
      specs.forEach((spec, i) => created.push(this.createVq<T>(spec, i)));
    } catch (e) {
      this.delVqs();
      throw e;
    }
    return created;
  }

  private createVq<T extends VqToken>(spec: VirtqueueSpec, i: number): VirtqueueDriver<T> {
    if (i >= 2)
      throw new RprocError(
        'EINVAL',
        'find-vqs',
        `${this.name}: queue ${i} requested, a vdev has at most 2 vrings`,
      );
    const vring = this.vdev.vrings[i];
    const buffer = vring?.mem.buffer;
    if (vring === undefined || buffer === undefined) {
      throw new RprocError(
        'ENOMEM',
        'find-vqs',
        `${this.name}: the driver needs vring ${i} ("${spec.name}") but vdev${this.vdev.index} declares ${this.vdev.vrings.length}`,
      );
    }
    const size = vringSize(vring.num, vring.align);
    const vq = new VirtqueueDriver<T>({
      memory: buffer.va.subarray(0, size),
      num: vring.num,
      align: vring.align,
      features: this.features,
      name: `${this.rproc.name}:vdev${this.vdev.index}vring${i}`,
      zero: true,
      notify: () => this.rproc.kick(vring.notifyId),
    });
    this.queues.push({ vq, vring, callback: spec.callback });
    // The remote learns where the ring is only now, after start: it must wait for DRIVER_OK.
    this.writer()?.setVringDa(this.vdev.layout, i, buffer.da);
    return vq;
  }

  delVqs(): void {
    this.queues.length = 0;
  }

  allocDma(len: number): DmaRegion {
    const buffer = this.allocFromBufferRegion(len) ?? this.rproc.dmaAllocator?.alloc(len, FW_RSC_ADDR_ANY);
    if (buffer === undefined) {
      throw new RprocError(
        'ENOMEM',
        'virtio-dma',
        `${this.name}: cannot allocate ${hex(len)} bytes of buffer memory`,
      );
    }
    this.dmaLive.add(buffer);
    const fromPool = this.rproc.resources.carveouts.findByName(`vdev${this.vdev.index}buffer`) === undefined;
    return {
      addr: BigInt(buffer.pa),
      view: buffer.va,
      free: () => {
        if (!this.dmaLive.delete(buffer)) return;
        if (fromPool) this.rproc.dmaAllocator?.free(buffer);
      },
    };
  }

  /** vdev<k>buffer, when the platform reserved one: a bump allocation inside it (rpmsg allocates once). */
  private allocFromBufferRegion(len: number): DmaBuffer | undefined {
    const region = this.rproc.resources.carveouts.findByName(`vdev${this.vdev.index}buffer`)?.buffer;
    if (region === undefined) return undefined;
    const start = Math.ceil(this.bufferCursor / BUFFER_ALIGN) * BUFFER_ALIGN;
    if (start + len > region.va.length) return undefined;
    this.bufferCursor = start + len;
    return { da: region.da + start, pa: region.pa + start, va: region.va.subarray(start, start + len) };
  }

  freeAllDma(): void {
    for (const b of [...this.dmaLive]) {
      this.dmaLive.delete(b);
      if (this.rproc.resources.carveouts.findByName(`vdev${this.vdev.index}buffer`) === undefined)
        this.rproc.dmaAllocator?.free(b);
    }
    this.bufferCursor = 0;
  }

  ready(): void {
    this.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.rproc.log(level, message);
  }

  warn(key: string, message: string | (() => string)): void {
    this.transport.warn(this.rproc, key, message);
  }

  fatal(reason: string): void {
    // Once per device life: the crash takes the device down, and a second broken queue of the
    // same device (or the driver noticing it again) adds nothing.
    if (this.fatalReported) return;
    this.fatalReported = true;
    this.addStatus(VIRTIO_CONFIG_S_NEEDS_RESET);
    this.rproc.reportCrash(RPROC_FATAL_ERROR, {
      message: `virtio: ${this.name}: ${reason}`,
      source: 'virtio',
    });
  }
}

/** Whether a queue has stopped (a separate call: moreUsed() may have just broken it). */
function isBroken(vq: BoundQueue['vq']): boolean {
  return vq.broken !== undefined;
}

/** Why a queue stopped, read afresh (the driver's callback may have just broken it). */
function brokenReason(vq: BoundQueue['vq']): string | undefined {
  return vq.broken?.detail;
}

/**
 * The transport: plug it into rprocAlloc({ vdevHooks }) and every vdev entry becomes a virtio
 * device bound to the registered driver for its id.
 */
export interface RprocVirtioOptions {
  /** Rate limit of the warnings a remote can provoke, per processor and kind (default 10 per 5 s). */
  readonly rateLimit?: RateLimitOptions;
}

export class RprocVirtio implements VdevHooks {
  readonly drivers: VirtioDriverRegistry;
  private readonly devices = new Map<RprocVdev, RprocVirtioDevice>();
  private nextIndex = 0;
  private readonly rateLimit: RateLimitOptions;
  private readonly limiters = new WeakMap<Rproc, RateLimiter>();
  /** Interrupts for notify ids no vring has (counted; the warnings are rate-limited per processor). */
  unknownInterrupts = 0;

  constructor(drivers: VirtioDriverRegistry = new VirtioDriverRegistry(), options: RprocVirtioOptions = {}) {
    this.drivers = drivers;
    this.rateLimit = options.rateLimit ?? {};
  }

  /** A rate-limited warning in `rproc`'s log (each processor has its own budget per key). */
  warn(rproc: Rproc, key: string, message: string | (() => string)): void {
    let limiter = this.limiters.get(rproc);
    if (limiter === undefined) this.limiters.set(rproc, (limiter = new RateLimiter(this.rateLimit)));
    const allowed = limiter.allow(key);
    // The text is made only when it is printed: a flood of suppressed warnings costs a map lookup.
    if (allowed !== false)
      rproc.log('warn', withSuppressed(typeof message === 'string' ? message : message(), allowed));
  }

  /** The virtio device of `vdev` while it is registered (tests and tools). */
  deviceOf(vdev: RprocVdev): VirtioDevice | undefined {
    return this.devices.get(vdev);
  }

  /** rproc_add_virtio_dev + register_virtio_device + driver probe. */
  async start(vdev: RprocVdev): Promise<void> {
    const rproc = vdev.rproc;
    if (rproc.ops.kick === undefined) {
      throw new RprocError(
        'EINVAL',
        'virtio',
        `.kick method not defined for ${rproc.name}: vdev${vdev.index} cannot be used`,
      );
    }
    const dev = new RprocVirtioDevice(this, rproc, vdev, `virtio${this.nextIndex++}`);
    this.devices.set(vdev, dev);
    dev.setStatus(0);
    dev.addStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    const driver = this.drivers.match(vdev.id);
    if (driver === undefined) {
      rproc.log('info', `${dev.name}: no driver for virtio device id ${vdev.id}`);
      return;
    }
    dev.addStatus(VIRTIO_CONFIG_S_DRIVER);
    dev.negotiate(driver);
    try {
      await driver.probe(dev);
      dev.driver = driver;
    } catch (e) {
      // As in Linux, a driver that fails to probe leaves the processor running without it.
      dev.addStatus(VIRTIO_CONFIG_S_FAILED);
      dev.delVqs();
      dev.freeAllDma();
      rproc.log(
        'error',
        `${dev.name}: ${driver.name} probe failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** Driver remove, device reset (status 0), queues deleted, buffers freed. */
  async stop(vdev: RprocVdev): Promise<void> {
    const dev = this.devices.get(vdev);
    if (dev === undefined) return;
    this.devices.delete(vdev);
    try {
      if (dev.driver !== undefined) await dev.driver.remove(dev);
    } finally {
      dev.setStatus(0);
      dev.delVqs();
      dev.freeAllDma();
    }
  }

  vqInterrupt(rproc: Rproc, notifyId: number): boolean {
    let handled = false;
    // Only this processor's devices: notify ids are per processor (every core has a 0 and a 1),
    // and a core ringing in a loop must cost the others nothing.
    for (const vdev of rproc.resources.vdevs) {
      const dev = this.devices.get(vdev);
      if (dev === undefined || (dev.currentStatus & VIRTIO_CONFIG_S_FAILED) !== 0) continue;
      for (const q of dev.queues) {
        if (q.vring.notifyId !== notifyId || q.vq.broken !== undefined) continue;
        // moreUsed() validates used.idx and may break the queue (TC-V03): the driver must still
        // hear about it, as Linux's callback runs and finds the violation in get_buf.
        if (!q.vq.moreUsed() && !isBroken(q.vq)) continue;
        handled = true;
        q.callback?.();
        // Whether or not the driver said so, a broken queue is the end of this device.
        const broken = brokenReason(q.vq);
        if (broken !== undefined) dev.fatal(broken);
      }
    }
    if (!handled && !this.knows(rproc, notifyId)) {
      // Rate-limited: a remote ringing garbage ids in a loop must not flood the log.
      this.unknownInterrupts++;
      this.warn(rproc, 'unknown-notify-id', `interrupt for unknown notify id ${hex(notifyId >>> 0)}`);
    }
    return handled;
  }

  private knows(rproc: Rproc, notifyId: number): boolean {
    return rproc.resources.vdevs.some((v) => v.vrings.some((r) => r.notifyId === notifyId));
  }
}
