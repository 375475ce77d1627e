// Lock-step cross-check of the two engines on every firmware ELF in the repository
// (firmware/prebuilt and firmware/tests/prebuilt): an interpreter hart and a translating hart (the
// default, adaptive threshold and threshold 1, no probation) run the same image on the test
// machine in slices of a few dozen instructions; after every slice the pc, instret, the 31
// registers and the trap CSRs must be equal, and every few slices the whole RAM. The first
// divergence fails the test naming the ELF, the slice's start pc and instret, and the register
// (or RAM address) that differs. Each run stops after MAX_INSNS instructions or when the program
// ends; the SoC's firmware ends within about 10,000 instructions, at its first access to a device
// the test machine lacks (the mailbox: a fatal trap, the same on both engines), which covers its
// start-up code, C runtime and SDK initialisation.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseElf } from '../../elf/elf-reader.ts';
import { hex } from '../../util/errors.ts';
import { VirtTestMachine, type MachineOutcome } from '../../../test/support/rv32/virt-test-machine.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', 'firmware');
const DIRS = [join(ROOT, 'prebuilt'), join(ROOT, 'tests', 'prebuilt')];
/** Instructions compared per ELF and threshold: enough for start-up and a good part of each program. */
const MAX_INSNS = 150_000;
/** An odd slice length, so that slices end at every kind of instruction, inside and between blocks. */
const SLICE = 37;
/** RAM is compared every this many slices (and at the end). */
const RAM_EVERY = 16;

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1'];
const regName = (r: number): string =>
  `x${r}${ABI[r] === undefined ? (r <= 17 ? ` (a${r - 10})` : r <= 27 ? ` (s${r - 16})` : ` (t${r - 25})`) : ` (${ABI[r]})`}`;

function machines(elf: Uint8Array, threshold: number | undefined): [VirtTestMachine, VirtTestMachine] {
  const image = parseElf(elf);
  const base = Math.min(
    ...image.programHeaders.filter((p) => p.type === 1 && p.memsz > 0).map((p) => Number(p.paddr)),
  );
  // Linked low: the user-mode build, which talks to the Linux system calls qemu-riscv32 offers.
  const linuxAbi = base < 0x8000_0000;
  const ramBase = linuxAbi ? 0x1_0000 : 0x8000_0000;
  // The SoC firmware's shared-memory window (0x8010_0000) sits in RAM here.
  const ramSize = 2 << 20;
  const make = (engine: 'interpreter' | 'jit'): VirtTestMachine => {
    const m = new VirtTestMachine({
      engine,
      linuxAbi,
      ramBase,
      ramSize,
      jitProbation: null,
      ...(threshold === undefined ? {} : { jitThreshold: threshold }),
    });
    m.load(elf);
    return m;
  };
  return [make('interpreter'), make('jit')];
}

/** The first difference in architectural state, or undefined. */
function difference(a: VirtTestMachine, b: VirtTestMachine, withRam: boolean): string | undefined {
  const ha = a.hart;
  const hb = b.hart;
  if (ha.instret !== hb.instret) return `instret interpreter ${ha.instret}, jit ${hb.instret}`;
  if (ha.pc !== hb.pc) return `pc interpreter ${hex(ha.pc)}, jit ${hex(hb.pc)}`;
  for (let r = 1; r < 32; r++) {
    const va = ha.x[r] ?? 0;
    const vb = hb.x[r] ?? 0;
    if (va !== vb) return `${regName(r)} interpreter ${hex(va >>> 0)}, jit ${hex(vb >>> 0)}`;
  }
  for (const k of [
    'mepc',
    'mcause',
    'mtval',
    'mtvec',
    'mscratch',
    'mie',
    'mpie',
    'mieBits',
    'mipBits',
  ] as const) {
    if (ha.csr[k] !== hb.csr[k])
      return `${k} interpreter ${hex(ha.csr[k] >>> 0)}, jit ${hex(hb.csr[k] >>> 0)}`;
  }
  if (withRam && Buffer.compare(a.ram, b.ram) !== 0) {
    let i = 0;
    while (a.ram[i] === b.ram[i]) i++;
    return `RAM byte at ${hex(a.ramBase + i)} interpreter ${hex(a.ram[i] ?? 0)}, jit ${hex(b.ram[i] ?? 0)}`;
  }
  return undefined;
}

function outcomeText(o: MachineOutcome | undefined): string {
  if (o === undefined) return 'still running';
  return o.kind === 'fatal' ? `fatal at ${hex(o.fatal.pc)}` : 'code' in o ? `${o.kind} ${o.code}` : o.kind;
}

/** Run both engines in lock-step; returns what the program did, for the test's sanity checks. */
function lockstep(
  name: string,
  elf: Uint8Array,
  threshold: number | undefined,
): { instret: number; translated: number; outcome: string } {
  const [interp, jit] = machines(elf, threshold);
  let slices = 0;
  for (;;) {
    const pc = interp.hart.pc;
    const at = interp.hart.instret;
    const budget = Math.min(SLICE, MAX_INSNS - at);
    const oa = interp.step(budget);
    const ob = jit.step(budget);
    const last = oa !== undefined || ob !== undefined || interp.hart.instret >= MAX_INSNS;
    const diff =
      difference(interp, jit, last || ++slices % RAM_EVERY === 0) ??
      (outcomeText(oa) === outcomeText(ob)
        ? undefined
        : `outcome interpreter ${outcomeText(oa)}, jit ${outcomeText(ob)}`);
    if (diff !== undefined) {
      assert.fail(`${name}: the engines diverge in the slice from pc ${hex(pc)} (instret ${at}): ${diff}`);
    }
    if (last) {
      assert.equal(interp.uartOutput, jit.uartOutput, `${name}: UART output`);
      return {
        instret: interp.hart.instret,
        translated: jit.hart.jitStats?.translatedInsns ?? 0,
        outcome: outcomeText(oa),
      };
    }
  }
}

const elfs = DIRS.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.elf'))
    .sort()
    .map((f) => ({ name: `${d === DIRS[0] ? 'prebuilt' : 'tests/prebuilt'}/${f}`, path: join(d, f) })),
);

describe('interpreter and jit in lock-step on every firmware ELF', () => {
  it('finds the ELFs', () => {
    assert.ok(elfs.length >= 10, `only ${elfs.length} ELFs`);
  });
  for (const { name, path } of elfs) {
    for (const threshold of [undefined, 1]) {
      it(`${name}, threshold ${threshold ?? 'default (adaptive)'}`, (t) => {
        const r = lockstep(name, readFileSync(path), threshold);
        t.diagnostic(`${r.instret} instructions, ${r.translated} translated, ${r.outcome}`);
        assert.ok(r.instret >= 100, `${name} ran only ${r.instret} instructions (${r.outcome})`);
        // The adaptive threshold needs about 2,000 interpreted instructions to come down to loops
        // run a few times; shorter programs are covered by the threshold-1 pass.
        if (threshold === 1 || r.instret >= 5000) {
          assert.ok(
            r.translated > 0,
            `${name}: nothing ran translated in ${r.instret} instructions (${r.outcome})`,
          );
        }
      });
    }
  }
});
