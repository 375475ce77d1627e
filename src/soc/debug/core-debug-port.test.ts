// The debug port of an rv32 core of the virtual SoC, with the C echo firmware, in each way a core
// executes: a worker thread of its own, a core group's thread, and the host thread under the
// deterministic scheduler. Held at the entry point, a breakpoint at main, registers and memory
// through the core's view, a single step, a watch point on a variable the firmware writes when a
// message comes, a halt of a running core; and a halted core's watchdog does not bite.

import '../../cpu/core-kinds.ts';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseElf } from '../../elf/elf-reader.ts';
import { readSymbols } from '../../elf/elf-symbols.ts';
import { defaultFirmwareStore } from '../default-firmware.ts';
import { prebuiltPath } from '../../../test/support/prebuilt.ts';
import { VirtualSoc, type VirtualSocOptions } from '../virtual-soc.ts';
import type { CoreDebugPort } from './core-debug-port.ts';
import type { DebugStop } from './debug-protocol.ts';

const ECHO = readFileSync(prebuiltPath('echo.elf'));
const image = parseElf(ECHO);
function symbol(name: string): number {
  const s = readSymbols(image).symbols.find((x) => x.name === name);
  if (s === undefined) throw new Error(`echo.elf has no symbol ${name}`);
  return Number(s.value);
}
/** The bytes the ELF loads at addr (its PT_LOAD segments). */
function elfBytes(addr: number, len: number): Uint8Array {
  for (const ph of image.programHeaders) {
    const va = Number(ph.vaddr);
    if (ph.type === 1 && addr >= va && addr + len <= va + ph.filesz) {
      const off = ph.offset + addr - va;
      return new Uint8Array(ECHO.subarray(off, off + len));
    }
  }
  throw new Error(`no loaded bytes at ${addr}`);
}

const MODES: readonly (readonly [string, Partial<VirtualSocOptions>])[] = [
  ['a worker thread of its own', { coreThreads: 8 }],
  ['a core group thread', { coreThreads: 1 }],
  ['the deterministic scheduler', { scheduler: true }],
];

function nextStop(port: CoreDebugPort, timeoutMs = 20_000): Promise<DebugStop> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no stop within ${timeoutMs} ms`)), timeoutMs);
    port.once('stop', (stop) => {
      clearTimeout(timer);
      resolve(stop);
    });
  });
}

async function bootHeld(
  options: Partial<VirtualSocOptions>,
): Promise<{ soc: VirtualSoc; port: CoreDebugPort; entry: DebugStop }> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: 'echo.elf' },
    ...options,
  });
  const port = soc.core('rproc0').debugPort;
  assert.ok(port !== undefined, 'an rv32 core has a debug port');
  port.holdAtNextStart();
  const entry = nextStop(port);
  await soc.start();
  await soc.rproc('rproc0').boot();
  return { soc, port, entry: await entry };
}

for (const [where, options] of MODES) {
  describe(`debug port of an rv32 core in ${where}`, () => {
    it('holds at entry, stops at main, reads registers and memory, steps, watches a variable, halts', async () => {
      const { soc, port, entry } = await bootHeld(options);
      try {
        assert.deepEqual(entry, { pc: Number(image.header.entry), reason: { kind: 'entry' } });
        assert.equal(port.held, true);
        const main = symbol('main');
        await port.insert({ type: 'soft', addr: main });
        const atMain = nextStop(port);
        await port.resume();
        assert.deepEqual(await atMain, { pc: main, reason: { kind: 'breakpoint', hard: false } });
        const regs = await port.readRegisters();
        assert.equal(regs[32], main);
        assert.equal(regs[0], 0);
        assert.deepEqual(await port.readMemory(main, 8), elfBytes(main, 8));
        // Memory the core cannot see is an error naming the address.
        await assert.rejects(port.readMemory(0x4000_0000, 4), /EFAULT.*0x40000000/);
        // The CLINT reads without side effects; mtime moves.
        assert.equal((await port.readMemory(0x0200_bff8, 8)).length, 8);
        // The UART's status reads (THRE | TEMT), its receive register does not (it would take a byte).
        assert.deepEqual(await port.readMemory(0x1000_0005, 1), Uint8Array.of(0x60));
        await assert.rejects(port.readMemory(0x1000_0000, 1), /EFAULT.*0x10000000/);
        // The PLIC's claim register shows what a claim would return, and claims nothing.
        assert.deepEqual(await port.readMemory(0x0c20_0004, 4), new Uint8Array(4));

        const step = await port.step();
        assert.equal(step.reason.kind, 'step');
        assert.notEqual(step.pc, main);
        assert.equal((await port.readRegisters())[32], step.pc);
        await port.writeRegister(10, 0x1234);
        assert.equal((await port.readRegisters())[10], 0x1234);
        assert.equal(await port.readCsr(0x301), 0x4000_1105, 'misa');
        await assert.rejects(port.writeCsr(0xf14, 1), /EPERM/);

        // A write watch point on `echoed`, hit when the first message is echoed back.
        await port.remove({ type: 'soft', addr: main });
        const echoed = symbol('echoed');
        await port.insert({ type: 'watch', access: 'write', addr: echoed, len: 4 });
        await port.resume();
        const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 20_000 });
        const replies: string[] = [];
        const ept = ch.open((data) => replies.push(new TextDecoder().decode(data)));
        const watched = nextStop(port);
        await ept.send(new TextEncoder().encode('hi'));
        const w = await watched;
        assert.deepEqual(w.reason, { kind: 'watch', addr: echoed, access: 'write' });
        assert.deepEqual(await port.readMemory(echoed, 4), new Uint8Array(4), 'stopped before the store');
        await port.remove({ type: 'watch', access: 'write', addr: echoed, len: 4 });
        await port.resume();
        const deadline = Date.now() + 20_000;
        while (replies.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        assert.deepEqual(replies, ['hi']);
        assert.deepEqual(await port.readMemory(echoed, 4), new Uint8Array([1, 0, 0, 0]));

        const halted = await port.halt();
        assert.equal(halted.reason.kind, 'halt');
        assert.equal(port.held, true);
        await port.resume();
        assert.equal(port.held, false);
      } finally {
        await soc.close();
      }
    });

    it("a held core's watchdog does not bite; resumed, it bites after a period", async () => {
      const { soc, port } = await bootHeld(options);
      try {
        const crashes: string[] = [];
        soc.rproc('rproc0').on('crash', (c) => crashes.push(c.typeName));
        // Arm the watchdog (PERIOD_MS = 20) as the firmware would; echo never kicks it.
        await port.writeMemory(0x0201_1000, new Uint8Array([20, 0, 0, 0]));
        if (soc.scheduler === undefined) await new Promise((r) => setTimeout(r, 300));
        else await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(crashes, [], 'no bite while held');
        const crashed = soc.rproc('rproc0').next('crash');
        await port.resume();
        assert.equal((await crashed).typeName, 'watchdog');
      } finally {
        await soc.close();
      }
    });
  });
}
