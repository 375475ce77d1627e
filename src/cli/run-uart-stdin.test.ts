// `rproc run --uart-stdin`, spawned as a user runs it with piped input: the shell sample answers
// what was typed on its UART and the run ends once the output settles, in worker and deterministic
// modes; a crash typed into it leaves a coredump whose line says how to open it in gdb (and gdb,
// when installed, shows the faulting function); misuse is one line and a documented status.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../../test/support/cross-tools.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHELL = 'firmware/prebuilt/shell.elf';

function rproc(args: readonly string[], input: string) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'rproc.mjs'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
}

describe('rproc run --uart-stdin (piped)', () => {
  for (const mode of [[], ['--deterministic']] as const) {
    it(`${mode.length === 0 ? 'worker' : 'deterministic'}: the firmware reads the pipe; the run ends when output settles`, () => {
      const r = rproc(['run', SHELL, '--uart-stdin', ...mode], 'echo one two\rpeek 0x4\rnope\r');
      assert.equal(r.status, 0, r.stderr);
      // The UART goes to stdout as the firmware writes it: prompt, echo of the typed line, reply —
      // between the run's own timestamped event lines (a trace line may come in the middle).
      const uart = r.stdout
        .split('\n')
        .filter((l) => !/^\s+\d+\.\d+s /.test(l))
        .join('\n');
      assert.match(
        uart,
        /^shell: type help\n> echo one two\none two\n> peek 0x4\npeek: access fault at 0x00000004\n> nope\nnope: unknown command \(try help\)\n> $/m,
      );
      assert.match(r.stdout, /state running → offline/);
      assert.equal(r.stderr, '');
    });
  }

  it('a crash typed in: the coredump line says how to open it, and gdb shows where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-uart-core-'));
    try {
      const r = rproc(
        ['run', SHELL, '--uart-stdin', '--deterministic', '--coredump', dir, '--allow-crash'],
        'crash\r',
      );
      assert.equal(r.status, 0, r.stderr);
      const core = join(dir, 'rproc0-core-1.elf');
      assert.ok(
        r.stdout.includes(`written to ${core}; open it with: gdb-multiarch ${SHELL} ${core}`),
        r.stdout,
      );
      const gdb = findTool('gdb-multiarch');
      if (gdb === undefined) return;
      const g = spawnSync(gdb, ['-nx', '-batch', '-ex', 'bt 1', SHELL, core], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.match(g.stdout, /^#0\s+0x[0-9a-f]+ in shell_crash \(\)$/m, g.stdout + g.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const misuse: readonly [string, readonly string[], number, RegExp][] = [
    ['with --console', [SHELL, '--console', 'x'], 2, /--uart-stdin and --console both want stdin/],
    ['on a js core', ['--core', 'rproc1=rpmsg-echo'], 1, /rproc1 is a js core: it has no UART to type into/],
  ];
  for (const [what, args, status, message] of misuse) {
    it(`${what}: exit status ${status} and one line`, () => {
      const r = rproc(['run', ...args, '--uart-stdin'], '');
      assert.equal(r.status, status, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});
