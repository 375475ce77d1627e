// A processor's resources as its users see them (rproc.resources): the resource table the host
// edits right now, the named memory regions (carveouts), the trace buffers with their text, and the
// vdevs, all held for the current boot or attach. Read-only: resource handling itself (resources.ts)
// belongs to the life cycle. Mirrors what remoteproc_debugfs.c shows of struct rproc.

import type { CarveoutList } from './carveouts.ts';
import type { RprocResources, TraceBuffer } from './resources.ts';
import type { RprocVdev } from './vdev.ts';

/** What the view reads from its processor beyond the handled resources. */
export interface ResourceViewHost {
  /** rproc->table_ptr: the host copy, or the loaded table in device memory. */
  table(): Uint8Array | undefined;
  /** Whether any table copy (cached, live, pristine) is still held. */
  holdsTables(): boolean;
  daToVa(da: bigint, len: number): Uint8Array | undefined;
}

export class RprocResourceView {
  private readonly handled: RprocResources;
  private readonly host: ResourceViewHost;

  constructor(handled: RprocResources, host: ResourceViewHost) {
    this.handled = handled;
    this.host = host;
  }

  /** The table edits go to right now: the host copy, or the loaded table in device memory. */
  get table(): Uint8Array | undefined {
    return this.host.table();
  }

  get carveouts(): CarveoutList {
    return this.handled.carveouts;
  }

  get traces(): readonly TraceBuffer[] {
    return this.handled.traces;
  }

  get vdevs(): readonly RprocVdev[] {
    return this.handled.vdevs;
  }

  /** True when no carveout, mapping, trace, vdev, notify id or table is held. */
  get idle(): boolean {
    return this.handled.empty && !this.host.holdsTables();
  }

  /**
   * The text of trace buffer `index` (trace<N>): bytes up to the first NUL within its length,
   * translated now, since the remote may have moved memory. Undefined when it does not translate.
   */
  readTrace(index: number): string | undefined {
    const trace = this.handled.traces[index];
    if (trace === undefined) return undefined;
    // Remote-written memory: the read is bounded by len and stops at the first NUL; bytes are
    // decoded leniently so that garbage prints as replacement characters, never throws.
    const va = this.host.daToVa(BigInt(trace.da), trace.len);
    if (va === undefined) return undefined;
    const nul = va.indexOf(0);
    return new TextDecoder('utf-8', { fatal: false }).decode(nul < 0 ? va : va.subarray(0, nul));
  }
}
