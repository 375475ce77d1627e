// Resource-table handling for one boot or attach: carveouts (named, pre-registered or new),
// devmem mappings, trace buffers, vdevs with their vring carveouts and notify ids, and vendor
// entries; then deferred carveout allocation with write-back, and cleanup in Linux's order.
// Mirrors rproc_handle_resources, rproc_handle_{carveout,devmem,trace,vdev}, rproc_alloc_vring,
// rproc_alloc_registered_carveouts and rproc_resource_cleanup in remoteproc_core.c/remoteproc_virtio.c.

import { ERRNO, RprocError, hex, type ErrnoName } from '../util/errors.ts';
import { FW_RSC_ADDR_ANY, RSC_HANDLED } from '../rsc/rsc-constants.ts';
import { checkRscTable } from '../rsc/rsc-parse.ts';
import { RscTableWriter } from '../rsc/rsc-writer.ts';
import type { RscCarveout, RscDevmem, RscEntry, RscTable, RscTrace, RscVdev } from '../rsc/rsc-types.ts';
import { PAGE_SIZE, alignUp, vringSize } from '../virtio/vring-layout.ts';
import { CarveoutList, MemEntry, type DmaAllocator } from './carveouts.ts';
import { IdAllocator } from '../util/id-allocator.ts';
import { RprocVdev, type RprocVring, type VdevHooks } from './vdev.ts';
import type { Rproc } from './rproc.ts';

const OP = 'handle-resources';

/** IOMMU-like mapping for devmem entries; without it devmem entries fail the boot (as in Linux). */
export interface RprocIommu {
  map(da: number, pa: number, len: number, flags: number): void;
  unmap(da: number, len: number): void;
}

export interface TraceBuffer {
  /** trace<N>: numbered per boot in table order. */
  readonly name: string;
  readonly da: number;
  readonly len: number;
  /** The entry's own name field (Linux ignores it; shown in dumps). */
  readonly rscName: string;
}

export interface DevmemMapping {
  readonly da: number;
  readonly pa: number;
  readonly len: number;
}

/** What resource handling needs from its rproc, kept narrow so that it can be tested alone. */
export interface ResourceHost {
  readonly owner: Rproc;
  readonly dma: DmaAllocator | undefined;
  readonly iommu: RprocIommu | undefined;
  readonly vdevHooks: VdevHooks | undefined;
  handleVendor(type: number, body: Uint8Array, offset: number, avail: number): number;
  warn(message: string): void;
}

export class RprocResources {
  readonly carveouts = new CarveoutList();
  readonly traces: TraceBuffer[] = [];
  readonly mappings: DevmemMapping[] = [];
  readonly vdevs: RprocVdev[] = [];
  readonly notifyIds = new IdAllocator();
  /** The table as validated when it was handled; its layout is trusted, remote memory is not. */
  table: RscTable | undefined;

  private readonly host: ResourceHost;

  constructor(host: ResourceHost) {
    this.host = host;
  }

  /**
   * Handle every entry of `tableBytes` (the cached copy at boot, the live table at attach) and
   * allocate the registered carveouts, writing addresses and notify ids into `tableBytes`.
   * On failure the caller runs cleanup(), which releases whatever was taken.
   */
  handle(tableBytes: Uint8Array): void {
    // Every structural check (TC-R03…R29) happens here, before the first side effect.
    const table = checkRscTable(tableBytes);
    this.table = table;
    const writer = new RscTableWriter(tableBytes, table.endian);
    for (const entry of table.entries) this.handleEntry(entry, tableBytes, writer);
    this.carveouts.allocateAll(this.host.dma);
    for (const mem of this.carveouts.list) {
      if (mem.rscBodyOffset === undefined || mem.buffer === undefined) continue;
      writer.setCarveout(mem.rscBodyOffset, { da: mem.buffer.da, pa: mem.buffer.pa, len: mem.len });
    }
  }

  private handleEntry(entry: RscEntry, tableBytes: Uint8Array, writer: RscTableWriter): void {
    switch (entry.kind) {
      case 'carveout':
        this.handleCarveout(entry);
        return;
      case 'devmem':
        this.handleDevmem(entry);
        return;
      case 'trace':
        this.handleTrace(entry);
        return;
      case 'vdev':
        this.handleVdev(entry, writer);
        return;
      case 'vendor': {
        const body = tableBytes.subarray(entry.bodyOffset);
        const ret = this.host.handleVendor(entry.type, body, entry.bodyOffset, entry.avail);
        // A Linux-style negative errno fails the boot, as a thrown error does.
        if (ret < 0) {
          throw new RprocError(
            errnoCode(-ret),
            OP,
            `handler of vendor resource ${entry.type} (entry ${entry.index} at ${hex(entry.offset)}) returned ${ret}`,
            { offset: entry.offset },
          );
        }
        // Linux ≤ 6.x let a positive "ignored" value escape as a boot failure; we continue (TC-R28).
        if (ret !== RSC_HANDLED)
          this.host.warn(`unsupported vendor resource ${entry.type} at ${hex(entry.offset)}`);
        return;
      }
      case 'unknown':
        this.host.warn(`unsupported resource ${entry.type} at ${hex(entry.offset)}`);
        return;
    }
  }

  private handleCarveout(entry: RscCarveout): void {
    const existing = this.carveouts.findByName(entry.name);
    if (existing !== undefined) {
      if (existing.rscBodyOffset !== undefined) {
        throw new RprocError(
          'ENOMEM',
          OP,
          `carveout "${entry.name}" (entry ${entry.index} at ${hex(entry.offset)}) is already associated to the resource table entry at ${hex(existing.rscBodyOffset - 4)}`,
          { offset: entry.offset },
        );
      }
      checkCarveoutDa(existing, entry.da, entry.len, `carveout entry ${entry.index} at ${hex(entry.offset)}`);
      existing.rscBodyOffset = entry.bodyOffset;
      existing.flags = entry.flags;
      return;
    }
    this.carveouts.add(
      new MemEntry({
        name: entry.name,
        da: entry.da,
        len: entry.len,
        flags: entry.flags,
        rscBodyOffset: entry.bodyOffset,
      }),
    );
  }

  private handleDevmem(entry: RscDevmem): void {
    const iommu = this.host.iommu;
    if (iommu === undefined) {
      throw new RprocError(
        'EINVAL',
        OP,
        `devmem entry ${entry.index} at ${hex(entry.offset)} (da ${hex(entry.da)} → pa ${hex(entry.pa)}) needs an IOMMU, and this processor has none`,
        { offset: entry.offset },
      );
    }
    iommu.map(entry.da, entry.pa, entry.len, entry.flags);
    this.mappings.push({ da: entry.da, pa: entry.pa, len: entry.len });
  }

  private handleTrace(entry: RscTrace): void {
    // The da is checked when the trace is read, not now (Linux: translation is lazy, TC-R27).
    this.traces.push({
      name: `trace${this.traces.length}`,
      da: entry.da,
      len: entry.len,
      rscName: entry.name,
    });
  }

  private handleVdev(entry: RscVdev, writer: RscTableWriter): void {
    const index = this.vdevs.length;
    const layout = {
      bodyOffset: entry.bodyOffset,
      numOfVrings: entry.numOfVrings,
      configLen: entry.configLen,
    };
    const vrings: RprocVring[] = [];
    for (const [i, vring] of entry.vrings.entries()) {
      const size = alignUp(vringSize(vring.num, vring.align), PAGE_SIZE);
      const name = `vdev${index}vring${i}`;
      let mem = this.carveouts.findByName(name);
      if (mem !== undefined) {
        checkCarveoutDa(
          mem,
          vring.da,
          size,
          `vring ${i} of vdev entry ${entry.index} at ${hex(entry.offset)}`,
        );
      } else {
        mem = new MemEntry({ name, da: vring.da, len: size });
        this.carveouts.add(mem);
      }
      const notifyId = this.notifyIds.alloc();
      if (notifyId === undefined) throw new RprocError('ENOSPC', OP, 'no notify id left');
      writer.setVringNotifyId(layout, i, notifyId);
      vrings.push({ index: i, num: vring.num, align: vring.align, notifyId, size, mem });
    }
    this.vdevs.push(
      new RprocVdev({
        rproc: this.host.owner,
        index,
        id: entry.id,
        dfeatures: entry.dfeatures,
        layout,
        vrings,
        hooks: this.host.vdevHooks,
      }),
    );
  }

  /** Whether any resource is still held (tests assert nothing stays allocated). */
  get empty(): boolean {
    return (
      this.carveouts.list.length === 0 &&
      this.traces.length === 0 &&
      this.mappings.length === 0 &&
      this.vdevs.length === 0 &&
      this.notifyIds.size === 0
    );
  }

  /**
   * rproc_resource_cleanup order: traces, devmem mappings, carveouts, vdevs (their notify ids are
   * released and the vring fields in `tableBytes`, the host's copy by now, are reset to da 0 and
   * notifyid -1).
   */
  cleanup(tableBytes: Uint8Array | undefined): void {
    this.traces.length = 0;
    for (const m of this.mappings.splice(0)) this.host.iommu?.unmap(m.da, m.len);
    this.carveouts.releaseAll(this.host.dma);
    const writer = tableBytes === undefined ? undefined : new RscTableWriter(tableBytes, this.table?.endian);
    for (const vdev of this.vdevs.splice(0)) {
      for (const vring of vdev.vrings) {
        this.notifyIds.free(vring.notifyId);
        writer?.setVringDa(vdev.layout, vring.index, 0);
        writer?.setVringNotifyId(vdev.layout, vring.index, FW_RSC_ADDR_ANY);
      }
    }
    this.table = undefined;
  }
}

/**
 * rproc_check_carveout_da: a table entry may name a pre-registered region only when it fits in
 * it — not longer, and when a da is requested, inside the region's [da, da + len).
 */
function checkCarveoutDa(mem: MemEntry, da: number, len: number, where: string): void {
  const fail = (why: string): never => {
    throw new RprocError(
      'ENOMEM',
      OP,
      `${where} does not fit region "${mem.name}" (da ${hex(mem.da)}, ${hex(mem.len)} bytes): ${why}`,
    );
  };
  if (len > mem.len) fail(`requested length ${hex(len)} is larger`);
  if (da === FW_RSC_ADDR_ANY) return;
  if (mem.da === FW_RSC_ADDR_ANY) fail(`requested da ${hex(da)} but the region has no fixed address`);
  if (da < mem.da || da + len > mem.da + mem.len)
    fail(`requested [${hex(da)}, ${hex(da + len)}) lies outside it`);
}

/** The errno name of a (positive) Linux errno number; EINVAL for numbers this project has no name for. */
function errnoCode(errno: number): ErrnoName {
  for (const [name, n] of Object.entries(ERRNO)) if (n === errno) return name as ErrnoName;
  return 'EINVAL';
}
