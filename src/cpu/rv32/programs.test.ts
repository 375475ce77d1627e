// The self-checking test programs of firmware/tests (built ELFs committed in prebuilt/), loaded
// with the project's ELF loader and run to the test finisher under both engines, on plain and on
// shared memory; the user-mode build of `compute` under qemu-riscv32 must print the same
// checksums, and (when the QEMU counting plugin can be built) retire the same instruction count.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { needTools } from '../../../test/support/cross-tools.ts';
import { ENGINES } from '../../../test/support/rv32/test-hart.ts';
import { VirtTestMachine } from '../../../test/support/rv32/virt-test-machine.ts';

const TESTS_DIR = join(import.meta.dirname, '..', '..', '..', 'firmware', 'tests');
const prebuilt = (name: string): Uint8Array => readFileSync(join(TESTS_DIR, 'prebuilt', name));

function runVirt(name: string, engine: (typeof ENGINES)[number], shared = false) {
  const m = new VirtTestMachine({ engine, shared });
  m.load(prebuilt(name));
  return m.runToEnd(20_000_000);
}

describe('firmware/tests programs', () => {
  for (const engine of ENGINES) {
    for (const shared of [false, true]) {
      const where = `${engine}${shared ? ', shared RAM' : ''}`;
      it(`${where}: compute passes`, () => {
        const r = runVirt('compute-virt.elf', engine, shared);
        assert.deepEqual(r.outcome, { kind: 'pass' }, r.output);
        assert.match(r.output, /compute: PASS/);
      });
      it(`${where}: traps passes, with our documented choices`, () => {
        const r = runVirt('traps-virt.elf', engine, shared);
        assert.deepEqual(r.outcome, { kind: 'pass' }, r.output);
        assert.match(r.output, /amo_misaligned_cause=00000006/);
        assert.match(r.output, /mepc_readback=80000122/);
        assert.match(r.output, /misa=40001105/);
        assert.match(r.output, /instret_delta=00000003/);
      });
      it(`${where}: sdtrig passes (breakpoint.S behaviour), with our trigger count and mtval`, () => {
        const r = runVirt('sdtrig-virt.elf', engine, shared);
        assert.deepEqual(r.outcome, { kind: 'pass' }, r.output);
        assert.match(r.output, /triggers=00000004/);
        assert.match(r.output, /tinfo=00000044/);
        assert.match(r.output, /tcontrol_traps=00000001/);
        // As QEMU since its watchpoint-tval fix: the pc for execute, the address for loads/stores.
        assert.match(r.output, /exec_tval_is_pc=00000001/);
        assert.match(r.output, /load_tval_is_addr=00000001/);
      });
      it(`${where}: uart passes (receive side and its PLIC interrupt, in loopback)`, () => {
        const r = runVirt('uart-virt.elf', engine, shared);
        assert.deepEqual(r.outcome, { kind: 'pass' }, r.output);
        assert.match(r.output, /uart: PASS/);
      });
      it(`${where}: atomics passes; SC after a trap fails`, () => {
        const r = runVirt('atomics-virt.elf', engine, shared);
        assert.deepEqual(r.outcome, { kind: 'pass' }, r.output);
        assert.match(r.output, /sc_after_trap=00000001/);
      });
    }
  }

  it('both engines retire the same instructions and print the same output', () => {
    const [a, b] = ENGINES.map((e) => runVirt('compute-virt.elf', e));
    assert.equal(a?.instret, b?.instret);
    assert.equal(a?.output, b?.output);
  });
});

describe('compute against qemu-riscv32', () => {
  const qemu = needTools({ qemu: ['qemu-riscv32'] });
  const withGcc = needTools({ qemu: ['qemu-riscv32'], gcc: ['gcc', 'cc'] });

  it('prints the same checksums (user-mode build, Linux write/exit)', { skip: qemu.skip }, () => {
    const elf = join(TESTS_DIR, 'prebuilt', 'compute-linux.elf');
    const q = spawnSync(qemu.get('qemu'), [elf], { encoding: 'latin1' });
    assert.equal(q.status, 0, q.stderr);
    const m = new VirtTestMachine({ linuxAbi: true, ramBase: 0x1_0000 });
    m.load(readFileSync(elf));
    const ours = m.runToEnd(20_000_000);
    assert.deepEqual(ours.outcome, { kind: 'exit', code: 0 });
    assert.equal(ours.output, q.stdout);
    // and the bare-metal build computes the same
    assert.equal(runVirt('compute-virt.elf', 'jit').output, q.stdout);
  });

  it(
    'retires exactly as many instructions as QEMU executes (counting plugin)',
    { skip: withGcc.skip },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'icount-'));
      try {
        const lib = join(dir, 'libicount.so');
        const built = spawnSync(
          withGcc.get('gcc'),
          ['-O2', '-shared', '-fPIC', '-o', lib, join(TESTS_DIR, 'qemu', 'icount.c')],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(built.status, 0, built.stderr);
        const elf = join(TESTS_DIR, 'prebuilt', 'compute-linux.elf');
        const q = spawnSync(withGcc.get('qemu'), ['-plugin', lib, '-d', 'plugin', elf], {
          encoding: 'utf8',
        });
        const count = /insns=(\d+)/.exec(q.stderr)?.[1];
        assert.ok(count !== undefined, q.stderr);
        const m = new VirtTestMachine({ linuxAbi: true, ramBase: 0x1_0000 });
        m.load(readFileSync(elf));
        assert.equal(m.runToEnd(20_000_000).instret, Number(count));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('firmware/tests programs against qemu-system-riscv32 -M virt', () => {
  const tools = needTools({ qemu: ['qemu-system-riscv32'] });
  for (const name of [
    'compute-virt.elf',
    'traps-virt.elf',
    'atomics-virt.elf',
    'uart-virt.elf',
    'sdtrig-virt.elf',
  ]) {
    it(`${name} passes on QEMU too`, { skip: tools.skip }, () => {
      const r = spawnSync(
        tools.get('qemu'),
        [
          '-M',
          'virt',
          '-bios',
          'none',
          '-nographic',
          '-monitor',
          'none',
          '-kernel',
          join(TESTS_DIR, 'prebuilt', name),
        ],
        // Generous: a loaded CI machine slows qemu-system down many times.
        { encoding: 'latin1', timeout: 90_000 },
      );
      // qemu exits 0 on SIGTERM, so a timeout must be told apart from a pass.
      assert.equal(r.signal, null, `qemu did not finish within 90 s: ${r.stdout}${r.stderr}`);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: PASS/);
    });
  }
});
