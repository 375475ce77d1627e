// Shared fixtures for the remoteproc core tests: the prebuilt hello.elf firmware, small ELF images
// with a chosen resource table, a "rig" that wires an Rproc to a FakePlatform (recording subdevices
// and vdev hooks), and helpers to read tables in fake RAM and to await crash handling. Test-only.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildElf, type SegmentSpec, type SectionSpec } from '../../elf/elf-builder.ts';
import { PF, SHF } from '../../elf/elf-constants.ts';
import { parseElf } from '../../elf/elf-reader.ts';
import { loadResourceTableCopyOptional } from '../../elf/elf-rsc-table.ts';
import { isRprocError, type ErrnoName } from '../../util/errors.ts';
import { FirmwareStore } from '../firmware-store.ts';
import { RprocRegistry } from '../rproc-registry.ts';
import { rprocAlloc, type Rproc, type RprocAllocOptions } from '../rproc.ts';
import type { RprocOps } from '../rproc-ops.ts';
import type { VdevHooks } from '../vdev.ts';
import { FakePlatform } from './fake-platform.ts';

export const HELLO_ELF_URL = new URL('../../../firmware/prebuilt/hello.elf', import.meta.url);

/** firmware/prebuilt/hello.elf: a carveout, a trace buffer and an rpmsg vdev with two vrings. */
export function helloElf(): Uint8Array {
  return new Uint8Array(readFileSync(HELLO_ELF_URL));
}

/** hello.elf's .resource_table as the file holds it (a copy) and its sh_addr. */
export function helloTable(): { readonly da: number; readonly bytes: Uint8Array } {
  const t = loadResourceTableCopyOptional(parseElf(helloElf()));
  assert.ok(t !== undefined, 'hello.elf has a resource table');
  return { da: Number(t.da), bytes: t.table };
}

/** Where the images built by firmwareWithTable put their code and (by default) their table. */
export const TEXT_DA = 0x8000_0000;
export const TABLE_DA = 0x8000_1000;
export const TEXT_BYTES = new Uint8Array(0x40).map((_, i) => (i * 13 + 7) & 0xff);

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

export interface RigOptions {
  /** The image stored as 'fw' (the processor's firmware name); hello.elf by default. */
  readonly firmware?: Uint8Array | null;
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
export function rig(options: RigOptions = {}): Rig {
  const platform = new FakePlatform();
  const store = options.store?.(platform) ?? new FirmwareStore();
  const fw = options.firmware === undefined ? helloElf() : options.firmware;
  if (fw !== null) store.add('fw', fw);
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

/** Await `promise` to reject with an RprocError of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrnoName): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(isRprocError(caught), `expected an RprocError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Let every pending setImmediate callback and the promise chains they start run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Put `table` into fake RAM at `da` and make getLoadedRscTable return it (attach mode). */
export function installLiveTable(platform: FakePlatform, table: Uint8Array, da = 0x8000_2000): Uint8Array {
  const view = platform.ramView(BigInt(da), table.length);
  assert.ok(view !== undefined, 'the live table must fit the fake RAM');
  view.set(table);
  platform.loadedTable = { da, size: table.length };
  return view;
}

export function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

export function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
}

/** True when `view` is a window into `memory` (same buffer), i.e. not a copy. */
export function isViewOf(view: Uint8Array | undefined, memory: Uint8Array): boolean {
  return view !== undefined && view.buffer === memory.buffer;
}
