// A crash of real firmware (firmware/prebuilt/crash.elf) on the rv32 core, dumped by remoteproc
// and opened by the real gdb: the dump carries the registers of the faulting instruction
// (NT_PRSTATUS) so that `gdb-multiarch crash.elf core` shows the pc and a backtrace naming the
// faulting function — in a worker thread, in a core group's thread and under the deterministic
// scheduler, in both coredump modes; readelf -n lists the notes; `set osabi none` shows the CSRs.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { VirtualSoc, type VirtualSocOptions } from './virtual-soc.ts';
import '../cpu/core-kinds.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { readElf } from '../elf/elf-reader.ts';
import { NT, PT } from '../elf/elf-constants.ts';
import { parseNotes } from '../elf/elf-core-notes.ts';
import type { CoredumpMode } from '../remoteproc/rproc-state.ts';
import { needTools } from '../../test/support/cross-tools.ts';

const CRASH_ELF = join(import.meta.dirname, '..', '..', 'firmware', 'prebuilt', 'crash.elf');
const gdb = needTools({ gdb: ['gdb-multiarch'] });
const readelf = needTools({ readelf: ['riscv64-unknown-elf-readelf', 'readelf'] });

type Where = 'worker' | 'core group' | 'deterministic';

const SOC_OPTIONS: Record<Where, Partial<VirtualSocOptions>> = {
  worker: { coreThreads: 2 },
  // The default board's two cores (rv32 + js) share one thread.
  'core group': { coreThreads: 1 },
  deterministic: { scheduler: true },
};

/** Boot crash.elf, send it `command`, and return the dump of the crash it causes. */
async function crashDump(
  where: Where,
  mode: Exclude<CoredumpMode, 'disabled'>,
  command: string,
): Promise<Uint8Array> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: 'crash.elf' },
    ...SOC_OPTIONS[where],
  });
  const rproc = soc.rproc('rproc0');
  rproc.coredump.mode = mode;
  try {
    await soc.start();
    await rproc.boot();
    const ch = await soc.rpmsg.waitForChannel('crasher', { rproc, timeoutMs: 10_000 });
    const dumped = rproc.next('coredump');
    await ch.open().send(new TextEncoder().encode(command));
    const dump = await dumped;
    // Inline: read while the stopped core's memory is still there, then let recovery go on.
    const bytes = dump.bytes().slice();
    dump.release();
    return bytes;
  } finally {
    await soc.close();
  }
}

function withCoreFile<T>(bytes: Uint8Array, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-core-'));
  try {
    const path = join(dir, 'rproc0-core');
    writeFileSync(path, bytes);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runGdb(tool: string, core: string, commands: readonly string[]): string {
  const r = spawnSync(tool, ['-nx', '-batch', ...commands.flatMap((c) => ['-ex', c]), CRASH_ELF, core], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout + r.stderr;
}

const cases: readonly [Where, Exclude<CoredumpMode, 'disabled'>][] = [
  ['worker', 'enabled'],
  ['worker', 'inline'],
  ['core group', 'enabled'],
  ['deterministic', 'enabled'],
  ['deterministic', 'inline'],
];

describe('crash coredump with registers', () => {
  for (const [where, mode] of cases) {
    it(`${where}, ${mode}: NT_PRSTATUS holds the faulting pc; gdb shows it and a backtrace`, async (t) => {
      const bytes = await crashDump(where, mode, 'store');
      const image = readElf(bytes).image;
      assert.ok(image !== undefined);
      const note = image.programHeaders[0];
      assert.equal(note?.type, PT.PT_NOTE);
      const notes = parseNotes(bytes.subarray(note.offset, note.offset + note.filesz));
      const prstatus = notes.find((n) => n.type === NT.NT_PRSTATUS);
      assert.ok(prstatus !== undefined);
      assert.equal(prstatus.desc.length, 204);

      if (gdb.skip !== false) {
        t.skip(`notes checked; opening the dump: ${gdb.skip}`);
        return;
      }
      withCoreFile(bytes, (core) => {
        const out = runGdb(gdb.get('gdb'), core, ['info registers pc', 'bt']);
        assert.match(out, /Program terminated with signal SIGSEGV/);
        assert.match(out, /^pc\s+0x8[0-9a-f]{7}\s+0x8[0-9a-f]{7} <crash_store\+\d+>$/m);
        assert.match(out, /^#0\s+0x8[0-9a-f]{7} in crash_store \(\)$/m);
        assert.match(out, /^#1\s+0x8[0-9a-f]{7} in crash_cb \(\)$/m);
        assert.match(out, /in main \(\)$/m);
        assert.doesNotMatch(out, /Couldn't find general-purpose registers|core file may not match/);
      });
    });
  }

  it(
    'an illegal instruction: SIGILL in crash_illegal; with `set osabi none` gdb reads mcause and mepc',
    { skip: gdb.skip },
    async () => {
      const bytes = await crashDump('deterministic', 'enabled', 'illegal');
      withCoreFile(bytes, (core) => {
        const out = runGdb(gdb.get('gdb'), core, ['bt 1', 'set osabi none', 'p/x $mcause', 'p/x $mepc']);
        assert.match(out, /Program terminated with signal SIGILL/);
        const pc = /^#0\s+(0x8[0-9a-f]{7}) in crash_illegal \(\)$/m.exec(out)?.[1];
        assert.ok(pc !== undefined, out);
        assert.match(out, /^\$1 = 0x2$/m);
        assert.match(out, new RegExp(`^\\$2 = ${pc}$`, 'm'));
      });
    },
  );

  it('readelf -n lists the notes', { skip: readelf.skip }, async () => {
    const bytes = await crashDump('deterministic', 'enabled', 'store');
    withCoreFile(bytes, (core) => {
      const r = spawnSync(readelf.get('readelf'), ['-n', core], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /CORE\s+0x000000cc\s+NT_PRSTATUS/);
      assert.match(r.stdout, /GDB\s+0x00000028\s+NT_RISCV_CSR/);
      assert.match(r.stdout, /GDB\s+0x[0-9a-f]{8}\s+NT_GDB_TDESC/);
    });
  });
});
