// Shared fixtures for the remoteproc core tests: the prebuilt hello.elf firmware, the rig of
// src/testing/rproc-rig.ts with hello.elf by default, and helpers to read tables in fake RAM and
// to await crash handling.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseElf } from '../../src/elf/elf-reader.ts';
import { loadResourceTableCopyOptional } from '../../src/elf/elf-rsc-table.ts';
import { isRprocError, type ErrnoName } from '../../src/util/errors.ts';
import type { FakePlatform } from '../../src/testing/fake-platform.ts';
import { rprocRig, type Rig, type RprocRigOptions } from '../../src/testing/rproc-rig.ts';

const HELLO_ELF_URL = new URL('../../firmware/prebuilt/hello.elf', import.meta.url);

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

export { TABLE_DA, firmwareWithTable, type Rig } from '../../src/testing/rproc-rig.ts';

export type RigOptions = Omit<RprocRigOptions, 'firmware'> & {
  /** The image stored as 'fw'; hello.elf by default, null: none. */
  readonly firmware?: Uint8Array | null;
};

/** rprocRig (src/testing/rproc-rig.ts) with hello.elf as the firmware unless the test names one. */
export function rig(options: RigOptions = {}): Rig {
  return rprocRig({ ...options, firmware: options.firmware === undefined ? helloElf() : options.firmware });
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
