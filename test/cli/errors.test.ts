// Every failure a user's input can cause is one line on stderr naming the value and where it came
// from, with a documented status (1 failed, 2 bad usage) — never a stack trace — through the real
// process: files, folders, flags, board files, firmware for the wrong core.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBoard } from '../../src/soc/fdt/boards/default-board.ts';
import { writeFdt } from '../../src/soc/fdt/fdt-writer.ts';
import { spawnSync } from 'node:child_process';
import { ROOT, removeScratch, rproc, scratchDir, STACK_FRAME } from './cli-process.ts';

const dir = scratchDir('errors');
after(() => removeScratch(dir));
const file = join(dir, 'plain-file');
writeFileSync(file, 'not a folder');
// The default board with no auto-boot core.
const quiet = defaultBoard();
quiet.alias('rproc0')?.props.delete('auto-boot');
const quietBoard = join(dir, 'quiet.dtb');
writeFileSync(quietBoard, writeFdt(quiet));
const badDts = join(dir, 'bad.dts');
writeFileSync(badDts, '/dts-v1/;\n/ { broken = ; };\n');

const cases: [string, string[], number, RegExp][] = [
  // Folders and files
  [
    '--board naming a folder',
    ['run', 'hello.elf', '--board', dir],
    1,
    /EISDIR: board file .* is a directory/,
  ],
  [
    '--board naming a missing file',
    ['run', 'hello.elf', '--board', 'no/board.dtb'],
    1,
    /ENOENT: board file no\/board\.dtb does not exist/,
  ],
  ['--board with a broken .dts', ['run', 'hello.elf', '--board', badDts], 1, /bad\.dts/],
  [
    'demo --coredump naming an existing file',
    ['demo', '--coredump', file],
    1,
    /ENOTDIR: --coredump .*plain-file: exists and is not a directory/,
  ],
  [
    'run --coredump naming an existing file',
    ['run', 'hello.elf', '--coredump', file],
    1,
    /ENOTDIR: --coredump .*plain-file/,
  ],
  [
    'a missing firmware file',
    ['run', 'no/such.elf'],
    1,
    /ENOENT: FIRMWARE no\/such\.elf: firmware 'no\/such\.elf' not found \(looked in: /,
  ],
  ['a firmware that is not ELF', ['run', 'README.md'], 1, /FIRMWARE README\.md: .*bad magic/],
  ['a folder as firmware', ['run', dir], 1, /ENOENT: FIRMWARE .*: firmware .* not found/],
  ['inspect of a folder', ['inspect', dir], 1, /EISDIR: .* is a directory, not a firmware image/],
  [
    'inspect of a missing file',
    ['inspect', 'no/such.elf'],
    1,
    /ENOENT: cannot read no\/such\.elf: no such file/,
  ],
  // Firmware and cores
  [
    'a js image on an rv32 core',
    ['run', '--core', 'rproc0=rpmsg-echo'],
    1,
    /ENOEXEC: --core rproc0=rpmsg-echo: the image is e_machine 0 .* rproc0 is a rv32 core/,
  ],
  [
    'an unknown core',
    ['run', '--core', 'rproc9=hello.elf'],
    2,
    /--core rproc9=hello\.elf: no core "rproc9" on this board \(cores: rproc0, rproc1\)/,
  ],
  [
    'two images for one core',
    ['run', '--core', 'rproc0=hello.elf', '--core', 'rproc0=echo.elf'],
    2,
    /gives core rproc0 two firmware images/,
  ],
  [
    '--core NAME without FIRMWARE',
    ['run', '--core', 'rproc0'],
    2,
    /--core rproc0 names a core for FIRMWARE, but none is given/,
  ],
  ['--core without a file', ['run', '--core', 'rproc0='], 2, /--core takes NAME=FILE, not "rproc0="/],
  // Flags
  [
    '--timeout 0',
    ['run', 'hello.elf', '--timeout', '0'],
    2,
    /--timeout takes a number of seconds above 0 and at most 2147483, not "0"/,
  ],
  ['--timeout -1', ['run', 'hello.elf', '--timeout=-1'], 2, /not "-1"/],
  ['--timeout soon', ['run', 'hello.elf', '--timeout', 'soon'], 2, /not "soon"/],
  ['--timeout Infinity', ['run', 'hello.elf', '--timeout', 'Infinity'], 2, /not "Infinity"/],
  ['--timeout past the largest timer', ['run', 'hello.elf', '--timeout', '2147484'], 2, /not "2147484"/],
  ['--timeout empty', ['run', 'hello.elf', '--timeout', ''], 2, /not ""/],
  [
    '--crash-loop 0',
    ['run', 'hello.elf', '--crash-loop', '0'],
    2,
    /--crash-loop takes a whole number from 1 to 1000, not "0"/,
  ],
  [
    '--send without =',
    ['run', 'hello.elf', '--send', 'novalue'],
    2,
    /--send takes CHANNEL=TEXT, not "novalue"/,
  ],
  ['an unknown option', ['run', 'hello.elf', '--bogus'], 2, /Unknown option '--bogus'/],
  ['an unknown command', ['frobnicate'], 2, /unknown command 'frobnicate'/],
  ['help for an unknown command', ['help', 'frobnicate'], 2, /unknown command 'frobnicate'/],
  ['too many arguments', ['run', 'a.elf', 'b.elf'], 2, /expected 0 to 1 argument/],
  [
    'nothing to run on a board that boots nothing',
    ['run', '--board', 'src/soc/fdt/boards/default-board.dtb', '--core', 'rproc9=x'],
    2,
    /no core "rproc9"/,
  ],
];

describe('one line, no stack trace, for every bad input', () => {
  for (const [name, argv, status, pattern] of cases) {
    it(`${name}: status ${status}`, async () => {
      const r = await rproc(argv);
      assert.equal(r.status, status, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, STACK_FRAME);
    });
  }

  it('anything unexpected is one "internal error" line asking for a bug report, exit 1, no stack trace', () => {
    // The last-resort handler of the real process entry, faced with an exception nobody caught.
    const script = [
      `import { runRproc } from ${JSON.stringify(join(ROOT, 'src', 'cli', 'process-entry.ts'))};`,
      `await runRproc(['--version']);`,
      `setImmediate(() => { throw new TypeError('nobody expected this'); });`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(
      r.stderr,
      'rproc: internal error: TypeError: nobody expected this (this is a bug in rproc: please report it with the command line that caused it)\n',
    );
  });

  it('with --json a failure is also an error event, and every stdout line is JSON', async () => {
    const r = await rproc(['run', 'no/such.elf', '--json']);
    assert.equal(r.status, 1);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((e) => e['event']),
      ['start', 'error', 'end'],
    );
    assert.equal(lines[1]?.['code'], 'ENOENT');
    assert.equal(lines[2]?.['status'], 1);
  });
});
