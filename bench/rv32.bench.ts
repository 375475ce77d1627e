// Guest MIPS of the rv32 core against qemu-riscv32 (TCG) running the same program in the same run
// (the baseline is QEMU's MIPS, so the ratio is the fraction of QEMU's speed), on two unrelated
// workloads of firmware/tests:
//
//   rv32/interp-mips, rv32/jit-mips   compute: CRC-32, quicksort, matrix multiply (long loops);
//                                     interpreter alone and with the block translator
//   rv32/jit-mips-branchy             branchy: linked lists, a tokenizer/evaluator state machine,
//                                     many small functions (short blocks, calls and returns)
//   rv32/jit-mips-equal-work,         the same two with the translator running QEMU's own build
//   rv32/jit-mips-branchy-equal-work  (QEMU_ITERS): both engines do the same work, so each pays
//                                     its start-up (for us, V8 compiling the regions) over it
//
// Instruction counts are exact: ours is the hart's instret; QEMU's comes from the counting plugin
// firmware/tests/qemu/icount.c, built here with the host gcc (Debian ships no qemu-plugin.h, so it
// declares the API by hand). QEMU runs QEMU_ITERS (10×) more iterations of the same kernels so
// that its start-up does not dominate; without gcc, QEMU's count is taken from our own
// engine running that same ELF (the two agree exactly, programs.test.ts checks it).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../test/support/cross-tools.ts';
import type { EngineKind } from '../src/cpu/rv32/hart.ts';
import { VirtTestMachine } from '../test/support/rv32/virt-test-machine.ts';
import { record, type Bench, type BenchRecord } from './bench.ts';

const PREBUILT = join(import.meta.dirname, '..', 'firmware', 'tests', 'prebuilt');
const RUNS = 3;

interface Workload {
  readonly name: string;
  /** Our build (BENCH_ITERS) and QEMU's (QEMU_ITERS, 10× the work). */
  readonly ours: string;
  readonly qemu: string;
}

const workload = (name: string): Workload => ({
  name,
  ours: join(PREBUILT, `${name}-bench-linux.elf`),
  qemu: join(PREBUILT, `${name}-qemu-linux.elf`),
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** One fresh machine per run: translation and V8's optimisation of it are part of the cost. */
function ourRun(engine: EngineKind, elf: Uint8Array): { mips: number; instret: number; output: string } {
  const m = new VirtTestMachine({ engine, linuxAbi: true, ramBase: 0x1_0000 });
  m.load(elf);
  const t0 = process.hrtime.bigint();
  const r = m.runToEnd(1e12, 1_000_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.outcome.kind !== 'exit' || r.outcome.code !== 0)
    throw new Error(`compute failed on ${engine}: ${r.output}`);
  return { mips: r.instret / seconds / 1e6, instret: r.instret, output: r.output };
}

function qemuCount(qemu: string, qemuElf: string): { count: number; how: string } {
  const gcc = findTool('gcc', 'cc');
  if (gcc !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'icount-'));
    try {
      const lib = join(dir, 'libicount.so');
      const src = join(import.meta.dirname, '..', 'firmware', 'tests', 'qemu', 'icount.c');
      const built = spawnSync(gcc, ['-O2', '-shared', '-fPIC', '-o', lib, src], { encoding: 'utf8' });
      if (built.status === 0) {
        const q = spawnSync(qemu, ['-plugin', lib, '-d', 'plugin', qemuElf], { encoding: 'utf8' });
        const n = /insns=(\d+)/.exec(q.stderr)?.[1];
        if (n !== undefined) return { count: Number(n), how: 'QEMU plugin count' };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { count: ourRun('jit', readFileSync(qemuElf)).instret, how: 'count from our engine (no plugin)' };
}

function qemuMips(qemu: string, qemuElf: string, count: number): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(qemu, [qemuElf], { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0) throw new Error(`qemu-riscv32 failed: ${r.stderr}`);
  }
  return count / median(times) / 1e6;
}

/** Which build a record runs: ours (BENCH_ITERS) or QEMU's (QEMU_ITERS, the same work as the baseline). */
type Build = 'ours' | 'qemu';

const bench: Bench = {
  name: 'rv32',
  description:
    'guest MIPS on firmware/tests compute (CRC+sort+matrix) and branchy (lists, state machine, calls) vs qemu-riscv32 in the same run',
  run() {
    const qemu = findTool('qemu-riscv32');
    if (qemu === undefined)
      throw new Error('rv32 bench needs qemu-riscv32 (Debian qemu-user) for its baseline');
    const records: BenchRecord[] = [];
    for (const [w, runs] of [
      [
        workload('compute'),
        [
          ['interpreter', 'rv32/interp-mips', 'ours'],
          ['jit', 'rv32/jit-mips', 'ours'],
          ['jit', 'rv32/jit-mips-equal-work', 'qemu'],
        ],
      ],
      [
        workload('branchy'),
        [
          ['jit', 'rv32/jit-mips-branchy', 'ours'],
          ['jit', 'rv32/jit-mips-branchy-equal-work', 'qemu'],
        ],
      ],
    ] as const) {
      records.push(...measureWorkload(qemu, w, runs));
    }
    return Promise.resolve(records);
  },
};

function measureWorkload(
  qemu: string,
  w: Workload,
  engines: readonly (readonly [EngineKind, string, Build])[],
): BenchRecord[] {
  const elfs = { ours: readFileSync(w.ours), qemu: readFileSync(w.qemu) };
  const { count, how } = qemuCount(qemu, w.qemu);
  const baseline = qemuMips(qemu, w.qemu, count);
  const records: BenchRecord[] = [];
  {
    for (const [engine, name, build] of engines) {
      const runs = Array.from({ length: RUNS }, () => ourRun(engine, elfs[build]));
      const instret = runs[0]?.instret ?? 0;
      records.push(
        record(
          name,
          median(runs.map((r) => r.mips)),
          { name: `qemu-riscv32/${w.name}-mips`, value: baseline },
          'MIPS',
          `${w.name}, ${engine}, ${(instret / 1e6).toFixed(0)}M instructions${build === 'qemu' ? " (QEMU's build: equal work)" : ''}, median of ${RUNS}; baseline qemu-riscv32 on ${(count / 1e6).toFixed(0)}M (${how})`,
        ),
      );
    }
  }
  return records;
}

export default bench;
