// docs/linux-boards.md's worked example is true: ping() from examples/same-program runs unchanged on
// the virtual SoC and on Linux, and board.ts — the board entry point, run as its own process —
// boots a firmware file, echoes and stops on the simulated kernel laid out on disk.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ping } from '../../examples/same-program/ping.ts';
import { VirtualSoc } from '../../src/soc/virtual-soc.ts';
import { VirtualSocProcessors } from '../../src/soc/soc-processors.ts';
import { FirmwareStore } from '../../src/remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../../src/cpu/js/bundled-firmware.ts';
import '../../src/cpu/core-kinds.ts';
import { FakeTree } from '../fake-kernel/fake-tree.ts';
import { fakeFirmwareImage } from '../fake-kernel/fake-programs.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('the worked example of docs/linux-boards.md', () => {
  it('pings on the virtual SoC', async () => {
    const firmwareStore = new FirmwareStore();
    addBundledJsFirmware(firmwareStore);
    const soc = new VirtualSoc({ firmwareStore, autoBoot: false });
    await soc.start();
    const host = new VirtualSocProcessors(soc);
    try {
      assert.deepEqual(await ping(host, { processor: 'rproc1', firmware: 'crasher', channel: 'crasher' }), [
        'hello',
        'world',
      ]);
      assert.equal(await (await host.get('rproc1')).state(), 'offline');
    } finally {
      await host.close();
      await soc.close();
    }
  });

  it('pings on a board: board.ts as its own process against the simulated kernel on disk', async () => {
    const tree = new FakeTree({ processors: [{ name: 'm4' }] });
    const dir = mkdtempSync(join(tmpdir(), 'rproc-example-'));
    try {
      const file = join(dir, 'echo.elf');
      writeFileSync(file, fakeFirmwareImage('raw-echo'));
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'examples/same-program/board.ts', 'm4', file, 'rpmsg-raw'],
        { cwd: root, env: { ...process.env, RPROC_SYSFS: tree.sysfs, RPROC_DEV: tree.dev } },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, err);
      assert.equal(out.trim(), "[ 'hello', 'world' ]");
      await tree.settled();
      assert.equal(tree.kernel.processor('m4').state, 'offline');
      assert.equal(tree.kernel.processor('m4').firmware, 'echo.elf');
    } finally {
      await tree.settled();
      tree.close();
      rmSync(dir, { recursive: true });
    }
  });
});
