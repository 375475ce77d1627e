// `rproc inspect`: the golden output on the committed fixture firmware, the JSON form, exit
// statuses (0 ok, 1 failed, 2 usage) and clear errors — never a stack trace — on broken images.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';
import { memoryIo } from './io.ts';

const root = join(import.meta.dirname, '..', '..');
const fixture = join('firmware', 'prebuilt', 'hello.elf');
const golden = (name: string): string => join(root, 'test', 'golden', name);

async function run(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const status = await main(argv, io);
    return { status, stdout: io.stdout, stderr: io.stderr };
  } finally {
    process.chdir(cwd);
  }
}

function checkGolden(name: string, actual: string): void {
  const file = golden(name);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, actual);
  assert.equal(
    actual,
    readFileSync(file, 'utf8'),
    `${name} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`,
  );
}

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function tempFile(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-inspect-'));
  scratch.push(dir);
  const path = join(dir, 'fw.elf');
  writeFileSync(path, bytes);
  return path;
}

describe('rproc inspect', () => {
  it('prints the fixture firmware as the golden file says', async () => {
    const r = await run('inspect', fixture);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    checkGolden('hello.inspect.txt', r.stdout);
  });

  it('gives the same report as JSON', async () => {
    const r = await run('inspect', fixture, '--json');
    assert.equal(r.status, 0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((e) => e['event']),
      ['start', 'inspect', 'end'],
    );
    const { t: _t, event: _e, ...inspected } = lines[1] ?? {};
    checkGolden('hello.inspect.json', JSON.stringify(inspected, null, 2) + '\n');
    const report = inspected as {
      elf: { class: string; machineName: string; entry: string };
      segments: { da: string; filesz: number; memsz: number }[];
      resourceTable: { entries: { kind: string }[] };
      problems: unknown[];
    };
    assert.equal(report.elf.class, 'ELF32');
    assert.equal(report.elf.machineName, 'RISC-V');
    assert.equal(report.elf.entry, '0x80000000');
    assert.deepEqual(
      report.resourceTable.entries.map((e) => e.kind),
      ['carveout', 'trace', 'vdev'],
    );
    assert.deepEqual(report.problems, []);
  });

  it('exits 1 with every problem listed for a broken image, without a stack trace', async () => {
    const bytes = new Uint8Array(readFileSync(join(root, fixture)));
    // Make the resource table's first entry offset point past the table end.
    const tableOffset = 0x1078;
    new DataView(bytes.buffer).setUint32(tableOffset + 16, 0x1000, true);
    // And the program header table run past the end of the file.
    new DataView(bytes.buffer).setUint16(44, 0x7ff, true);
    const r = await run('inspect', tempFile(bytes));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /Problems: \d+ error/);
    assert.match(r.stdout, /program header table at 0x34 .* runs past the end/);
    assert.match(r.stdout, /resource entry 0 .*0x1000/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .*\.ts:\d+/);
  });

  it('exits 1 for a file that is not ELF, naming the bad magic', async () => {
    const r = await run(
      'inspect',
      tempFile(new TextEncoder().encode('#!/bin/sh\necho not firmware\n'.repeat(4))),
    );
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad magic/);
  });

  it('exits 1 for a missing file with one clear line on stderr', async () => {
    const r = await run('inspect', 'no/such/firmware.elf');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^rproc inspect: ENOENT: cannot read no\/such\/firmware\.elf: no such file$/m);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('reports errors as JSON with --json', async () => {
    const r = await run('inspect', 'no/such/firmware.elf', '--json');
    assert.equal(r.status, 1);
    const error = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; code?: string; errno?: number })
      .find((e) => e.event === 'error');
    assert.equal(error?.code, 'ENOENT');
    assert.equal(error.errno, 2);
  });

  it('refuses a big-endian image on the default little-endian host, and accepts it with --host-endian be', async () => {
    const { buildElf } = await import('../elf/elf-builder.ts');
    const { buildRscTable } = await import('../rsc/rsc-build.ts');
    const table = buildRscTable([{ kind: 'trace', da: 0x2000, len: 0x100, name: 'trace0' }], {
      endian: 'be',
    });
    const bytes = buildElf({
      class: 32,
      endian: 'be',
      entry: 0x1000,
      segments: [{ paddr: 0x1000, data: new Uint8Array(16), flags: 5 }],
      sections: [{ name: '.resource_table', addr: 0x2000, data: table }],
    });
    const path = tempFile(bytes);
    const le = await run('inspect', path);
    assert.equal(le.status, 1);
    assert.match(le.stdout, /unsupported firmware endianness: big-endian image on a little-endian host/);
    const be = await run('inspect', path, '--host-endian', 'be');
    assert.equal(be.status, 0, be.stdout);
  });
});

describe('rproc command line', () => {
  const usage: [string, string[], number, RegExp][] = [
    ['no arguments prints help, status 2', [], 2, /Usage: rproc <command>/],
    ['--help prints help, status 0', ['--help'], 0, /Commands:\n(\s+\w+.*\n)*\s+inspect/],
    ['help inspect prints the verb help', ['help', 'inspect'], 0, /Usage: rproc inspect FILE/],
    ['inspect --help', ['inspect', '--help'], 0, /--host-endian/],
    ['unknown command', ['frobnicate'], 2, /unknown command 'frobnicate'/],
    ['unknown option', ['inspect', '--bogus', 'x'], 2, /bogus/],
    ['missing argument', ['inspect'], 2, /expected 1 argument/],
    ['too many arguments', ['inspect', 'a', 'b'], 2, /expected 1 argument/],
    ['bad option value', ['inspect', 'x', '--host-endian', 'middle'], 2, /le or be/],
  ];
  for (const [name, argv, status, pattern] of usage) {
    it(name, async () => {
      const r = await run(...argv);
      assert.equal(r.status, status);
      assert.match(r.stdout + r.stderr, pattern);
    });
  }
});
