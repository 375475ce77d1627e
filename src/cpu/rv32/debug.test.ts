// Debugger breakpoints, single steps, watch points and the Sdtrig triggers on a hart, under both
// engines: a stop happens before the instruction (or access), exactly as on the interpreter also
// when the code around it was translated before the stop point was set.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VirtTestMachine } from '../../../test/support/rv32/virt-test-machine.ts';
import { CSR } from './csr.ts';
import { asm } from '../../../test/support/rv32/asm.ts';
import { DATA, ENGINES, RAM_BASE, makeHart, peek32, poke32 } from '../../../test/support/rv32/test-hart.ts';
import { CAUSE } from './trap.ts';
import { MCONTROL, TINFO, TRIGGER_COUNT, TRIGGER_CSR, Triggers } from './triggers.ts';
import type { Hart } from './hart.ts';

const T0 = 5;
const T1 = 6;
const T2 = 7;
const S0 = 8;
const S1 = 9;
const A0 = 10;
const A1 = 11;
const A2 = 12;
const HANDLER = RAM_BASE + 0x400;

/** Handler: s0 = mcause, s1 = mtval, skip the trapping 4-byte instruction. */
const SKIP_HANDLER = [
  asm.csrrs(S0, CSR.mcause, 0),
  asm.csrrs(S1, CSR.mtval, 0),
  asm.csrrs(T0, CSR.mepc, 0),
  asm.addi(T0, T0, 4),
  asm.csrrw(0, CSR.mepc, T0),
  asm.mret(),
];

/** a0 counts to 1000 in a loop at +8/+12, then a2 = 7 at +16; ebreak (halt) at +20. */
const LOOP = [
  asm.addi(A0, 0, 5),
  asm.addi(A1, 0, 1000),
  asm.addi(A0, A0, 1), // +8
  asm.bne(A0, A1, -4), // +12
  asm.addi(A2, 0, 7), // +16
  asm.ebreak(), // +20
];

function load(engine: (typeof ENGINES)[number], program: readonly number[]): { hart: Hart; ram: Uint8Array } {
  const m = makeHart(engine, { ebreakTraps: false, data: [] });
  poke32(m.ram, RAM_BASE, program);
  poke32(m.ram, HANDLER, SKIP_HANDLER);
  return m;
}

/** A trigger written as M-mode software would: tselect, tdata2, tdata1. */
function arm(hart: Hart, index: number, tdata1: number, addr: number): void {
  hart.csr.write(TRIGGER_CSR.tselect, index);
  hart.csr.write(TRIGGER_CSR.tdata2, addr);
  hart.csr.write(TRIGGER_CSR.tdata1, tdata1);
}

const EXEC_M = 0x2000_0044;
const LOAD_M = 0x2000_0041;
const STORE_M = 0x2000_0042;

describe('debugger breakpoints', () => {
  for (const engine of ENGINES) {
    it(`${engine}: a software breakpoint stops before the instruction; removed, the run goes on`, () => {
      const { hart } = load(engine, LOOP);
      hart.setSoftBreakpoint(RAM_BASE + 8, true);
      const r = hart.run(100_000);
      assert.equal(r.reason, 'debug');
      assert.deepEqual(r.stop, { kind: 'breakpoint', pc: RAM_BASE + 8, hard: false });
      assert.equal(hart.pc, RAM_BASE + 8);
      assert.equal(hart.x[A0], 5);
      // Again at once: the instruction still has not run.
      assert.equal(hart.run(100_000).reason, 'debug');
      assert.equal(hart.x[A0], 5);
      hart.setSoftBreakpoint(RAM_BASE + 8, false);
      hart.setSoftBreakpoint(RAM_BASE + 16, true);
      const r2 = hart.run(100_000);
      assert.deepEqual(r2.stop, { kind: 'breakpoint', pc: RAM_BASE + 16, hard: false });
      assert.equal(hart.x[A0], 1000);
      assert.equal(hart.x[A2], 0);
      hart.setSoftBreakpoint(RAM_BASE + 16, false);
      assert.equal(hart.run(100_000).reason, 'halt');
      assert.equal(hart.x[A2], 7);
    });

    it(`${engine}: a breakpoint set in a loop that already ran (translated) stops there`, () => {
      const { hart } = load(engine, LOOP);
      assert.equal(hart.run(301).reason, 'budget');
      const a0 = hart.x[A0] ?? 0;
      const atBranch = hart.pc === RAM_BASE + 12;
      hart.setSoftBreakpoint(RAM_BASE + 12, true);
      const r = hart.run(100_000);
      assert.deepEqual(r.stop, { kind: 'breakpoint', pc: RAM_BASE + 12, hard: false });
      assert.equal(hart.x[A0], atBranch ? a0 : a0 + 1);
      assert.equal(r.executed, atBranch ? 0 : 1);
      // Removed again, the loop runs to its end with the same result as without it.
      hart.setSoftBreakpoint(RAM_BASE + 12, false);
      assert.equal(hart.run(100_000).reason, 'halt');
      assert.equal(hart.x[A0], 1000);
      assert.equal(hart.x[A2], 7);
    });

    it(`${engine}: a single step runs one instruction, past a breakpoint at pc`, () => {
      const { hart } = load(engine, LOOP);
      hart.setSoftBreakpoint(RAM_BASE, true);
      assert.equal(hart.run(100).reason, 'debug');
      assert.equal(hart.step(), undefined);
      assert.equal(hart.pc, RAM_BASE + 4);
      assert.equal(hart.x[A0], 5);
      assert.equal(hart.instret, 1);
      for (let i = 0; i < 5; i++) hart.step();
      // +4, +8, +12 (taken back to +8), +8, +12
      assert.equal(hart.pc, RAM_BASE + 8);
      assert.equal(hart.x[A0], 7);
      assert.equal(hart.instret, 6);
    });

    it(`${engine}: a step into a trap ends at the handler with the trap taken`, () => {
      const { hart } = load(engine, [...asm.li(T0, HANDLER), asm.csrrw(0, CSR.mtvec, T0), asm.ecall()]);
      hart.step();
      hart.step();
      hart.step();
      assert.equal(hart.pc, RAM_BASE + 12);
      hart.step();
      assert.equal(hart.pc, HANDLER);
      assert.equal(hart.csr.mcause, CAUSE.ECALL_M);
    });

    it(`${engine}: a hardware breakpoint takes a trigger and reports hard`, () => {
      const { hart } = load(engine, LOOP);
      assert.equal(hart.claimTrigger('execute', RAM_BASE + 16, 2), true);
      const r = hart.run(100_000);
      assert.deepEqual(r.stop, { kind: 'breakpoint', pc: RAM_BASE + 16, hard: true });
      assert.equal(hart.releaseTrigger('execute', RAM_BASE + 16, 2), true);
      assert.equal(hart.releaseTrigger('execute', RAM_BASE + 16, 2), false);
      assert.equal(hart.run(100_000).reason, 'halt');
    });
  }
});

/** t0 = DATA; t1 = 42; sw t1 → DATA; lw t2 ← DATA; ebreak. */
const STORE_THEN_LOAD = [
  ...asm.li(T0, DATA),
  asm.addi(T1, 0, 42),
  asm.sw(T1, T0, 0), // +12
  asm.lw(T2, T0, 0), // +16
  asm.ebreak(),
];

describe('debugger watch points', () => {
  for (const engine of ENGINES) {
    it(`${engine}: a write watch stops before the store; the store has not happened`, () => {
      const { hart, ram } = load(engine, STORE_THEN_LOAD);
      assert.equal(hart.claimTrigger('write', DATA, 4), true);
      const r = hart.run(1000);
      assert.deepEqual(r.stop, { kind: 'watch', pc: RAM_BASE + 12, addr: DATA, access: 'write' });
      assert.equal(peek32(ram, DATA), 0);
      // A step with the watch still set stops again; without it the store happens.
      assert.deepEqual(hart.step(), { kind: 'watch', pc: RAM_BASE + 12, addr: DATA, access: 'write' });
      hart.releaseTrigger('write', DATA, 4);
      assert.equal(hart.step(), undefined);
      assert.equal(peek32(ram, DATA), 42);
      assert.equal(hart.run(1000).reason, 'halt');
      assert.equal(hart.x[T2], 42);
    });

    it(`${engine}: read watches ignore stores, access watches see both, and a byte inside the range counts`, () => {
      const read = load(engine, STORE_THEN_LOAD).hart;
      read.claimTrigger('read', DATA + 2, 1);
      assert.deepEqual(read.run(1000).stop, {
        kind: 'watch',
        pc: RAM_BASE + 16,
        addr: DATA + 2,
        access: 'read',
      });
      const access = load(engine, STORE_THEN_LOAD).hart;
      access.claimTrigger('access', DATA, 8);
      assert.equal(access.run(1000).stop?.pc, RAM_BASE + 12);
      access.releaseTrigger('access', DATA, 8);
      access.step();
      access.claimTrigger('access', DATA, 8);
      assert.deepEqual(access.run(1000).stop, {
        kind: 'watch',
        pc: RAM_BASE + 16,
        addr: DATA,
        access: 'access',
      });
      const miss = load(engine, STORE_THEN_LOAD).hart;
      miss.claimTrigger('write', DATA + 4, 4);
      assert.equal(miss.run(1000).reason, 'halt');
    });

    it(`${engine}: an AMO is a read and a write`, () => {
      const { hart } = load(engine, [
        ...asm.li(T0, DATA),
        asm.addi(T1, 0, 1),
        asm.amoadd(T2, T1, T0),
        asm.ebreak(),
      ]);
      hart.claimTrigger('read', DATA, 4);
      assert.deepEqual(hart.run(1000).stop, { kind: 'watch', pc: RAM_BASE + 12, addr: DATA, access: 'read' });
    });
  }
});

describe('Sdtrig triggers from M-mode (breakpoint.S behaviour)', () => {
  for (const engine of ENGINES) {
    it(`${engine}: an execute trigger traps before the instruction (mcause 3, mtval = pc); a load there does not`, () => {
      const target = RAM_BASE + 28;
      const { hart } = load(engine, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        ...asm.li(T0, target),
        asm.lw(A1, T0, 0), // +20: reads the instruction word: no trap
        asm.addi(A2, 0, 1), // +24
        asm.addi(A0, A0, 1), // +28: target
        asm.ebreak(),
      ]);
      arm(hart, 0, EXEC_M, target);
      assert.equal(hart.csr.read(TRIGGER_CSR.tdata1), EXEC_M);
      assert.equal(hart.run(1000).reason, 'halt');
      assert.equal(hart.x[S0], CAUSE.BREAKPOINT);
      assert.equal((hart.x[S1] ?? 0) >>> 0, target);
      assert.equal(hart.x[A0], 0, 'the instruction did not run');
      assert.equal(hart.x[A2], 1);
      assert.equal(hart.x[A1], asm.addi(A0, A0, 1));
    });

    it(`${engine}: load and store triggers trap before the access, mtval = the address`, () => {
      const { hart, ram } = load(engine, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        ...asm.li(T0, DATA),
        asm.addi(T1, 0, 9),
        asm.sw(T1, T0, 0), // no trap: load trigger
        asm.lw(T2, T0, 0), // traps
        asm.csrrw(A0, CSR.mcause, 0),
        asm.ebreak(),
      ]);
      arm(hart, 1, LOAD_M, DATA);
      assert.equal(hart.run(1000).reason, 'halt');
      assert.equal(hart.x[A0], CAUSE.BREAKPOINT);
      assert.equal((hart.x[S1] ?? 0) >>> 0, DATA);
      assert.equal(hart.x[T2], 0, 'the load did not happen');
      assert.equal(peek32(ram, DATA), 9);

      const st = load(engine, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        ...asm.li(T0, DATA),
        asm.addi(T1, 0, 9),
        asm.sb(T1, T0, 3), // traps: byte 3 of the watched word; memory stays 0
        asm.ebreak(),
      ]);
      arm(st.hart, 0, STORE_M, DATA);
      assert.equal(st.hart.run(1000).reason, 'halt');
      assert.equal(st.hart.x[S0], CAUSE.BREAKPOINT);
      assert.equal((st.hart.x[S1] ?? 0) >>> 0, DATA + 3);
      assert.equal(peek32(st.ram, DATA), 0);
    });

    it(`${engine}: an execute trigger armed on code already translated fires`, () => {
      const { hart } = load(engine, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        asm.addi(A1, 0, 1000),
        asm.addi(A0, A0, 1), // +16
        asm.bne(A0, A1, -4),
        asm.ebreak(),
      ]);
      assert.equal(hart.run(500).reason, 'budget');
      arm(hart, 0, EXEC_M, RAM_BASE + 16);
      hart.run(100);
      assert.equal(hart.x[S0], CAUSE.BREAKPOINT);
      assert.equal((hart.x[S1] ?? 0) >>> 0, RAM_BASE + 16);
    });

    it(`${engine}: the debugger's breakpoint at a firmware trigger's pc stops first; resumed, the trigger fires`, () => {
      const target = RAM_BASE + 12;
      const { hart } = load(engine, [
        ...asm.li(T0, HANDLER),
        asm.csrrw(0, CSR.mtvec, T0),
        asm.addi(A0, A0, 1), // +12
        asm.ebreak(),
      ]);
      arm(hart, 0, EXEC_M, target);
      hart.setSoftBreakpoint(target, true);
      assert.deepEqual(hart.run(1000).stop, { kind: 'breakpoint', pc: target, hard: false });
      hart.setSoftBreakpoint(target, false);
      assert.equal(hart.run(1000).reason, 'halt');
      assert.equal(hart.x[S0], CAUSE.BREAKPOINT);
      assert.equal(hart.x[A0], 0);
    });
  }
});

describe('trigger CSRs', () => {
  const fresh = (): Triggers => new Triggers(() => undefined);

  it('tselect counts the triggers: an index past the last is ignored', () => {
    const t = fresh();
    t.write(TRIGGER_CSR.tselect, TRIGGER_COUNT - 1);
    assert.equal(t.read(TRIGGER_CSR.tselect), TRIGGER_COUNT - 1);
    t.write(TRIGGER_CSR.tselect, TRIGGER_COUNT);
    assert.equal(t.read(TRIGGER_CSR.tselect), TRIGGER_COUNT - 1);
  });

  it('resets to type 2, unarmed; tinfo says types 2 and 6, and ignores writes', () => {
    const t = fresh();
    assert.equal(t.read(TRIGGER_CSR.tdata1), 0x2000_0000);
    assert.equal(t.read(TRIGGER_CSR.tinfo), TINFO);
    assert.equal(TINFO, 0x44);
    t.write(TRIGGER_CSR.tinfo, 0);
    assert.equal(t.read(TRIGGER_CSR.tinfo), 0x44);
    assert.equal(t.read(0x7a5), undefined, 'no tcontrol, as on QEMU');
  });

  it('tdata1 keeps type, size and the mode/access bits; match, chain, action, timing, select, hit and dmode read 0', () => {
    const t = fresh();
    t.write(
      TRIGGER_CSR.tdata1,
      0x2000_0000 |
        MCONTROL.DMODE |
        (0xf << 7) |
        (1 << 11) |
        (1 << 12) |
        (1 << 18) |
        (1 << 19) |
        (1 << 20) |
        (3 << 16) |
        0x5f,
    );
    assert.equal(t.read(TRIGGER_CSR.tdata1), 0x2003_005f);
    // mcontrol6: size 4 (6 bytes) is not supported, so the size goes.
    t.write(TRIGGER_CSR.tdata1, 0x6004_0044);
    assert.equal(t.read(TRIGGER_CSR.tdata1), 0x6000_0044);
    // A type we do not implement (3, icount) leaves the trigger as it was.
    t.write(TRIGGER_CSR.tdata1, 0x3000_0044);
    assert.equal(t.read(TRIGGER_CSR.tdata1), 0x6000_0044);
  });

  it('tdata3 keeps mhvalue and folds mhselect to 0 or 4', () => {
    const t = fresh();
    t.write(TRIGGER_CSR.tdata3, -1);
    assert.equal((t.read(TRIGGER_CSR.tdata3) ?? 0) >>> 0, 0xfe00_0000);
    t.write(TRIGGER_CSR.tdata3, 3 << 23);
    assert.equal(t.read(TRIGGER_CSR.tdata3), 0);
  });

  it('the debugger takes only free triggers, and M-mode cannot write them', () => {
    const t = fresh();
    t.write(TRIGGER_CSR.tselect, 0);
    t.write(TRIGGER_CSR.tdata1, EXEC_M);
    const taken: number[] = [];
    for (let i = 1; i < TRIGGER_COUNT; i++) taken.push(t.claim('write', 0x100 * i, 4));
    assert.deepEqual(taken, [1, 2, 3]);
    assert.equal(t.claim('read', 0x900, 4), -1, 'all in use');
    t.write(TRIGGER_CSR.tselect, 2);
    const owned = t.read(TRIGGER_CSR.tdata1) ?? 0;
    assert.equal(owned & MCONTROL.DMODE, MCONTROL.DMODE);
    assert.equal((owned >>> 12) & 0xf, 1, 'action 1: enter Debug Mode');
    t.write(TRIGGER_CSR.tdata1, 0x2000_0000);
    t.write(TRIGGER_CSR.tdata2, 0);
    assert.equal(t.read(TRIGGER_CSR.tdata1), owned);
    assert.equal(t.read(TRIGGER_CSR.tdata2), 0x200);
    t.release(2);
    assert.equal(t.read(TRIGGER_CSR.tdata1), 0x2000_0000);
    assert.equal(t.claim('read', 0x900, 4), 2);
  });

  it('only triggers enabled for M with an access bit are armed', () => {
    const t = fresh();
    t.write(TRIGGER_CSR.tdata2, 0x80);
    t.write(TRIGGER_CSR.tdata1, 0x2000_0004 | MCONTROL.U | MCONTROL.S); // U and S only
    assert.deepEqual(t.armed(), []);
    t.write(TRIGGER_CSR.tdata1, 0x2000_0040); // M, no access
    assert.deepEqual(t.armed(), []);
    t.write(TRIGGER_CSR.tdata1, 0x2002_0042); // M, store, 2 bytes
    assert.deepEqual(t.armed(), [
      { index: 0, debugger: false, execute: false, load: false, store: true, addr: 0x80, len: 2 },
    ]);
  });
});

describe('the checked mode (a data watch point is set)', () => {
  const TESTS = join(import.meta.dirname, '..', '..', '..', 'firmware', 'tests', 'prebuilt');
  for (const name of ['compute-virt.elf', 'traps-virt.elf', 'atomics-virt.elf']) {
    it(`${name}: with a watch point that never hits, the same output and the same instructions retired`, () => {
      const run = (watched: boolean) => {
        const m = new VirtTestMachine({ engine: 'jit' });
        m.load(readFileSync(join(TESTS, name)));
        if (watched) assert.equal(m.hart.claimTrigger('access', 0x10, 4), true);
        return m.runToEnd(50_000_000);
      };
      const plain = run(false);
      const checked = run(true);
      assert.deepEqual(checked.outcome, { kind: 'pass' }, checked.output);
      assert.equal(checked.output, plain.output);
      assert.equal(checked.instret, plain.instret);
    });
  }
});
