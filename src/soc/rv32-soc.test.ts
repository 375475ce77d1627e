// Real C firmware on the rv32 core of the virtual SoC, in a worker thread and in deterministic
// mode: the rpmsg echo sample under 10,000 messages of random sizes, a crash with its coredump read
// back by readelf and recovery, the watchdog sample's bite, and boot/shutdown cycles that leave
// nothing behind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { VirtualSoc } from './virtual-soc.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { readElf } from '../elf/elf-reader.ts';
import { PT } from '../elf/elf-constants.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RprocCoredump } from '../remoteproc/coredump.ts';
import { needTools } from '../../test/support/cross-tools.ts';
import '../cpu/core-kinds.ts';

type Mode = 'worker' | 'deterministic';

function rv32Soc(mode: Mode, firmware: string): VirtualSoc {
  return new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: firmware },
    ...(mode === 'deterministic' ? { scheduler: true as const } : {}),
  });
}

/** Send every payload and collect the echoes in order; resolves when all came back. */
async function echoAll(
  ch: RpmsgChannel,
  payloads: readonly Uint8Array[],
  timeoutMs: number,
): Promise<Uint8Array[]> {
  const ept = ch.open();
  const got: Uint8Array[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${got.length} of ${payloads.length} echoes after ${timeoutMs} ms`)),
      timeoutMs,
    );
    ept.setCallback((data) => {
      got.push(data.slice());
      if (got.length === payloads.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Keep a bounded number in flight: the firmware echoes with a non-blocking send.
  const window = 64;
  for (let i = 0; i < payloads.length; i++) {
    while (i - got.length >= window) await new Promise((r) => setImmediate(r));
    await ept.send(payloads[i] ?? new Uint8Array(0));
  }
  await done;
  return got;
}

for (const mode of ['worker', 'deterministic'] as const)
  describe(`C firmware on the rv32 core (${mode})`, () => {
    it('echoes 10,000 messages of random sizes (1–496 bytes), every byte checked', async () => {
      const soc = rv32Soc(mode, 'echo.elf');
      try {
        await soc.start();
        await soc.rproc('rproc0').boot();
        const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 10_000 });
        const sizes = fc.sample(fc.integer({ min: 1, max: 496 }), { numRuns: 10_000, seed: 42 });
        const payloads = sizes.map((n, i) => {
          const p = new Uint8Array(n);
          for (let j = 0; j < n; j++) p[j] = (i * 31 + j * 7) & 0xff;
          return p;
        });
        const got = await echoAll(ch, payloads, 60_000);
        for (let i = 0; i < payloads.length; i++) assert.deepEqual(got[i], payloads[i], `message ${i}`);
      } finally {
        await soc.close();
      }
    });

    it('crashes on command, dumps its memory, recovers and echoes again', async (t) => {
      const soc = rv32Soc(mode, 'crash.elf');
      const rproc = soc.rproc('rproc0');
      rproc.coredump.mode = 'enabled';
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('crasher', { rproc, timeoutMs: 10_000 });
        assert.deepEqual(await echoAll(ch, [new TextEncoder().encode('before')], 5000), [
          new TextEncoder().encode('before'),
        ]);
        const crash = rproc.next('crash');
        const dump = rproc.next('coredump');
        const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
        await ch.open().send(new TextEncoder().encode('store'));
        const c = await crash;
        assert.equal(c.typeName, 'mmufault');
        const detail = c.detail;
        assert.ok(detail !== undefined);
        assert.equal(detail.cause, 7);
        assert.equal(detail.tval, 0x1000);
        assert.match(detail.symbol ?? '', /^crash_store/);
        const d: RprocCoredump = await dump;
        const bytes = d.bytes();
        const core = readElf(bytes).image;
        assert.ok(core !== undefined);
        const first = core.programHeaders.find((p) => p.type === PT.PT_LOAD);
        assert.ok(first !== undefined);
        assert.equal(first.paddr, 0x8000_0000n);
        // The dump holds the loaded firmware: its first instruction bytes, as in the ELF.
        const fw = rproc.loadedFirmware;
        assert.ok(fw !== undefined);
        const text = readElf(fw.bytes).image?.programHeaders.find((p) => p.type === PT.PT_LOAD);
        assert.ok(text !== undefined);
        assert.deepEqual(
          bytes.subarray(first.offset, first.offset + 16),
          fw.bytes.subarray(text.offset, text.offset + 16),
        );
        // binutils must read the dump too (CI requires readelf; locally its absence is reported).
        const readelf = needTools({ readelf: ['riscv64-unknown-elf-readelf', 'readelf'] });
        if (readelf.skip === false) {
          const dir = mkdtempSync(join(tmpdir(), 'rproc-core-'));
          try {
            const path = join(dir, 'core.elf');
            writeFileSync(path, bytes);
            const out = spawnSync(readelf.get('readelf'), ['-h', '-l', path], { encoding: 'utf8' }).stdout;
            assert.match(out, /Type:\s+CORE/);
            assert.match(out, /LOAD\s+0x[0-9a-f]+ 0x80000000 0x80000000/);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        } else {
          t.diagnostic(`the readelf check of the dump was not run: ${readelf.skip}`);
        }
        assert.equal((await recovered).phase, 'done');
        const again = await soc.rpmsg.waitForChannel('crasher', { rproc, timeoutMs: 10_000 });
        assert.deepEqual(await echoAll(again, [new TextEncoder().encode('after')], 5000), [
          new TextEncoder().encode('after'),
        ]);
      } finally {
        await soc.close();
      }
    });

    it('reports an illegal instruction with the function it happened in', async () => {
      const soc = rv32Soc(mode, 'crash.elf');
      const rproc = soc.rproc('rproc0');
      rproc.crash.recoveryDisabled = true;
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('crasher', { rproc, timeoutMs: 10_000 });
        const crash = rproc.next('crash');
        await ch.open().send(new TextEncoder().encode('illegal'));
        const c = await crash;
        assert.equal(c.typeName, 'fatal error');
        const detail = c.detail;
        assert.ok(detail !== undefined);
        assert.equal(detail.cause, 2);
        assert.match(detail.symbol ?? '', /^crash_illegal/);
        assert.match(detail.message, /illegal instruction at pc 0x8000/);
      } finally {
        await soc.close();
      }
    });

    it('bites when the watchdog sample stops kicking', async () => {
      const soc = rv32Soc(mode, 'watchdog.elf');
      const rproc = soc.rproc('rproc0');
      rproc.crash.recoveryDisabled = true;
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('watchdog', { rproc, timeoutMs: 10_000 });
        await new Promise((r) => setTimeout(r, 300)); // kicking: no bite
        assert.equal(rproc.state, 'running');
        const crash = rproc.next('crash');
        await ch.open().send(new TextEncoder().encode('starve'));
        assert.equal((await crash).typeName, 'watchdog');
      } finally {
        await soc.close();
      }
    });

    it('boots and shuts down ten times without leaving workers or memory behind', async () => {
      const soc = rv32Soc(mode, 'echo.elf');
      const rproc = soc.rproc('rproc0');
      try {
        await soc.start();
        const heap: number[] = [];
        for (let i = 0; i < 10; i++) {
          await rproc.boot();
          const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 10_000 });
          await echoAll(ch, [new Uint8Array([i])], 5000);
          await rproc.shutdown();
          assert.equal(soc.core('rproc0').running, false);
          assert.ok(rproc.resources.idle);
          assert.equal(soc.core('rproc0').pool?.outstanding, 0);
          global.gc?.();
          heap.push(process.memoryUsage().heapUsed);
        }
        // No growth trend: the last cycles use no more than the first ones plus slack.
        const first = Math.min(...heap.slice(0, 3));
        const last = Math.min(...heap.slice(-3));
        assert.ok(last < first + 16 * 1024 * 1024, `heap grew from ${first} to ${last}`);
      } finally {
        await soc.close();
      }
    });
  });
