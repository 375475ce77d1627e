// An Rproc on the FakePlatform, ready to drive: a fresh platform, firmware store, registry and
// processor ('m0', firmware 'fw', autoBoot off) with recorded subdevices and vdev hooks, and small
// ELF images with a chosen resource table, laid out as a linker lays out real firmware. What the
// loopback builds on, and what a test of code above the remoteproc core starts from.

import { buildElf, type SegmentSpec, type SectionSpec } from '../elf/elf-builder.ts';
import { PF, SHF } from '../elf/elf-constants.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { RprocRegistry } from '../remoteproc/rproc-registry.ts';
import { rprocAlloc, type Rproc, type RprocAllocOptions } from '../remoteproc/rproc.ts';
import type { RprocOps } from '../remoteproc/rproc-ops.ts';
import type { VdevHooks } from '../remoteproc/vdev.ts';
import { FakePlatform } from './fake-platform.ts';

/** Where the images built by firmwareWithTable put their code and (by default) their table. */
export const TEXT_DA = 0x8000_0000;
export const TABLE_DA = 0x8000_1000;
const TEXT_BYTES = new Uint8Array(0x40).map((_, i) => (i * 13 + 7) & 0xff);

export interface FirmwareOptions {
  /** Device address of the .resource_table section (sh_addr). */
  readonly tableDa?: number;
  /** false: the section is in the file but no PT_LOAD carries it (it is never loaded). */
  readonly tableLoaded?: boolean;
  readonly entry?: number;
  /** Extra PT_LOAD segments. */
  readonly segments?: readonly SegmentSpec[];
}

/**
 * A small ELF32 firmware: .text at TEXT_DA and, when `table` is given, a .resource_table section
 * carried by its own PT_LOAD at `tableDa`, as a linker lays out real firmware.
 */
export function firmwareWithTable(table: Uint8Array | undefined, options: FirmwareOptions = {}): Uint8Array {
  const tableDa = options.tableDa ?? TABLE_DA;
  const loaded = options.tableLoaded ?? true;
  const segments: SegmentSpec[] = [
    { paddr: TEXT_DA, flags: PF.PF_R | PF.PF_X, section: '.text' },
    ...(options.segments ?? []),
  ];
  const sections: SectionSpec[] = [
    { name: '.text', data: TEXT_BYTES, flags: SHF.SHF_ALLOC | SHF.SHF_EXECINSTR },
  ];
  if (table !== undefined) {
    if (loaded) segments.push({ paddr: tableDa, flags: PF.PF_R | PF.PF_W, section: '.resource_table' });
    sections.push({
      name: '.resource_table',
      data: table,
      addr: tableDa,
      flags: SHF.SHF_ALLOC | SHF.SHF_WRITE,
      align: 8,
    });
  }
  return buildElf({ class: 32, entry: options.entry ?? TEXT_DA, segments, sections });
}

export interface RprocRigOptions {
  /** The image stored as 'fw' (the processor's firmware name); null: none. */
  readonly firmware: Uint8Array | null;
  /** Platform subdevices, in registration order; ['a', 'b'] by default. */
  readonly subdevs?: readonly string[];
  /** Record vdev start/stop as `vdev<k>:start` / `vdev<k>:stop[(crashed)]`; default true. */
  readonly vdevHooks?: boolean;
  /** Overrides of the fake platform's ops. */
  readonly ops?: (platform: FakePlatform) => Partial<RprocOps>;
  /** The firmware store (it receives the 'fw' image); a plain FirmwareStore by default. */
  readonly store?: (platform: FakePlatform) => FirmwareStore;
  /** Ops the processor must not have (e.g. 'detach'). */
  readonly without?: readonly (keyof RprocOps)[];
  readonly alloc?: Partial<Omit<RprocAllocOptions, 'name' | 'ops'>>;
}

export interface Rig {
  readonly platform: FakePlatform;
  readonly store: FirmwareStore;
  readonly registry: RprocRegistry;
  readonly rproc: Rproc;
  /** Every 'log' message, as `<level>: <message>`. */
  readonly logs: string[];
}

export function recordingVdevHooks(platform: FakePlatform): VdevHooks {
  return {
    start: (vdev) => platform.record(`vdev${vdev.index}:start`),
    stop: (vdev, crashed) => platform.record(`vdev${vdev.index}:stop${crashed ? '(crashed)' : ''}`),
  };
}

/** A fresh platform, store, registry and processor ('m0', firmware 'fw', autoBoot off). */
export function rprocRig(options: RprocRigOptions): Rig {
  const platform = new FakePlatform();
  const store = options.store?.(platform) ?? new FirmwareStore();
  if (options.firmware !== null) store.add('fw', options.firmware);
  const registry = new RprocRegistry();
  const ops: RprocOps = { ...platform.ops(options.ops?.(platform) ?? {}) };
  for (const name of options.without ?? []) Reflect.deleteProperty(ops, name);
  const rproc = rprocAlloc({
    name: 'm0',
    ops,
    firmware: 'fw',
    firmwareStore: store,
    dma: platform.pool,
    registry,
    autoBoot: false,
    ...(options.vdevHooks === false ? {} : { vdevHooks: recordingVdevHooks(platform) }),
    ...options.alloc,
  });
  for (const name of options.subdevs ?? ['a', 'b']) rproc.addSubdev(platform.subdev(name));
  const logs: string[] = [];
  rproc.on('log', (e) => logs.push(`${e.level}: ${e.message}`));
  return { platform, store, registry, rproc, logs };
}
