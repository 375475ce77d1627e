// Test benches for the control files: the hello.elf fixture on the fake platform (firmware boot),
// and a processor found running with a resource table already in its RAM (attach). Each bench has
// its own registry, so device names are remoteproc0 in every test.

import { readFileSync } from 'node:fs';
import { buildRscTable } from '../../src/rsc/index.ts';
import type { RscEntrySpec } from '../../src/rsc/index.ts';
import { FirmwareStore } from '../../src/remoteproc/firmware-store.ts';
import { RprocRegistry } from '../../src/remoteproc/rproc-registry.ts';
import { rprocAlloc, type Rproc } from '../../src/remoteproc/rproc.ts';
import { FakePlatform } from '../../src/testing/fake-platform.ts';

export const HELLO_ELF = 'hello.elf';
const HELLO_PATH = new URL('../../firmware/prebuilt/hello.elf', import.meta.url);

export interface Bench {
  readonly rproc: Rproc;
  readonly platform: FakePlatform;
  readonly logs: string[];
}

function record(rproc: Rproc): string[] {
  const logs: string[] = [];
  rproc.on('log', (e) => logs.push(`${e.level}: ${e.message}`));
  return logs;
}

/** hello.elf, added with auto-boot off: 'offline' until something starts it. */
export async function fixtureBench(): Promise<Bench> {
  const platform = new FakePlatform();
  const firmwareStore = new FirmwareStore();
  firmwareStore.add(HELLO_ELF, new Uint8Array(readFileSync(HELLO_PATH)));
  const rproc = rprocAlloc({
    name: 'm0',
    ops: platform.ops(),
    firmware: HELLO_ELF,
    firmwareStore,
    dma: platform.pool,
    autoBoot: false,
    registry: new RprocRegistry(),
  });
  const logs = record(rproc);
  await rproc.add();
  return { rproc, platform, logs };
}

/** Where attachBench puts the live resource table in the core's RAM. */
const LIVE_TABLE_DA = 0x8000_1000;

/** A core already running `entries` as its resource table: 'detached' until booted (attached). */
export async function attachBench(entries: readonly RscEntrySpec[]): Promise<Bench> {
  const platform = new FakePlatform();
  const table = buildRscTable(entries);
  platform.ram.set(table, LIVE_TABLE_DA - platform.map.ramDa);
  platform.loadedTable = { da: LIVE_TABLE_DA, size: table.length };
  const rproc = rprocAlloc({
    name: 'a0',
    ops: platform.ops(),
    detached: true,
    dma: platform.pool,
    autoBoot: false,
    registry: new RprocRegistry(),
  });
  const logs = record(rproc);
  await rproc.add();
  return { rproc, platform, logs };
}

/** Let queued crash handling and recoveries run (they start from setImmediate). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
