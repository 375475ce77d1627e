// The per-RSC_VDEV subdevice: index k, its vrings with their vdev<k>vring<i> carveouts and
// rproc-wide notify ids, and the hooks through which the virtio layer registers a virtio device
// when the processor runs. Mirrors struct rproc_vdev and rproc_rvdev_* in remoteproc_virtio.c.

import type { VdevLayout } from '../rsc/rsc-writer.ts';
import type { MemEntry } from './carveouts.ts';
import type { RprocSubdev } from './subdev.ts';
import type { Rproc } from './rproc.ts';

export interface RprocVring {
  readonly index: number;
  readonly num: number;
  readonly align: number;
  /** rproc-wide id written into the table's vring[i].notifyid. */
  readonly notifyId: number;
  /** Page-aligned vring_size(num, align). */
  readonly size: number;
  /** The vdev<k>vring<i> carveout that holds it. */
  readonly mem: MemEntry;
}

/**
 * What the virtio transport (src/virtio) plugs in: start registers a virtio device for the vdev
 * and lets its driver probe; stop unregisters it. Without hooks a vdev is inert, as in a kernel
 * with no virtio driver for that device id.
 */
export interface VdevHooks {
  start(vdev: RprocVdev): void | Promise<void>;
  stop(vdev: RprocVdev, crashed: boolean): void | Promise<void>;
  /** rproc_vq_interrupt: the remote signalled `notifyId`; true when a queue had work. */
  vqInterrupt?(rproc: Rproc, notifyId: number): boolean;
}

export interface RprocVdevInit {
  /** The processor the vdev belongs to. */
  readonly rproc: Rproc;
  readonly index: number;
  /** Virtio device id from the entry. */
  readonly id: number;
  readonly dfeatures: number;
  /** Shape validated at parse time; write-backs use it instead of re-reading remote memory. */
  readonly layout: VdevLayout;
  readonly vrings: readonly RprocVring[];
  readonly hooks: VdevHooks | undefined;
}

export class RprocVdev implements RprocSubdev {
  readonly rproc: Rproc;
  readonly name: string;
  readonly index: number;
  readonly id: number;
  readonly dfeatures: number;
  readonly layout: VdevLayout;
  readonly vrings: readonly RprocVring[];
  private readonly hooks: VdevHooks | undefined;

  constructor(init: RprocVdevInit) {
    this.rproc = init.rproc;
    this.index = init.index;
    this.name = `vdev${init.index}`;
    this.id = init.id;
    this.dfeatures = init.dfeatures;
    this.layout = init.layout;
    this.vrings = init.vrings;
    this.hooks = init.hooks;
  }

  get bodyOffset(): number {
    return this.layout.bodyOffset;
  }

  async start(): Promise<void> {
    await this.hooks?.start(this);
  }

  async stop(crashed: boolean): Promise<void> {
    await this.hooks?.stop(this, crashed);
  }
}
