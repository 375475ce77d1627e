// The backend's real file I/O (node-kernel-io.ts) on real files: writes are one write(2) on an
// existing file opened O_WRONLY|O_TRUNC (no O_CREAT, no trailing newline added), attributes are read
// with their newline and stripped of exactly one, firmware is installed atomically with mode 0644,
// device nodes are opened O_NONBLOCK (EAGAIN reads as "nothing yet") and a regular file is refused.
// Then the whole backend on the simulated kernel laid out on disk: the exact bytes the kernel got,
// channels mapped to their processor through real sysfs links, a tty echo through a real terminal.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from './kernel-io.ts';
import { NodeKernelIo } from './node-kernel-io.ts';
import { LinuxRemoteProcessors } from './linux-processors.ts';
import { FakeTree } from '../../test/fake-kernel/fake-tree.ts';
import { fakeFirmwareImage } from '../../test/fake-kernel/fake-programs.ts';
import { FAST_POLL } from '../../test/fake-kernel/fake-linux.ts';

async function errnoOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return errnoCode(e);
  }
}

describe('NodeKernelIo on real files', () => {
  const io = new NodeKernelIo();

  it('writes exactly the value over what was there, and never creates a missing attribute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-io-'));
    try {
      const attr = join(dir, 'state');
      writeFileSync(attr, 'running\n');
      await io.writeFile(attr, 'stop');
      assert.equal(readFileSync(attr, 'latin1'), 'stop');
      assert.equal(await errnoOf(io.writeFile(join(dir, 'nope'), 'start')), 'ENOENT');
      assert.equal(existsSync(join(dir, 'nope')), false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('installs a file atomically with mode 0644, leaving nothing aside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-io-'));
    try {
      const path = join(dir, 'fw.elf');
      writeFileSync(path, 'old');
      await io.installFile(path, new Uint8Array([1, 2, 3]));
      assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
      assert.equal(statSync(path).mode & 0o777, 0o644);
      assert.deepEqual(readdirSync(dir), ['fw.elf']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('opens device nodes O_NONBLOCK (nothing to read is null, not a wait) and refuses regular files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rproc-io-'));
    try {
      const fifo = join(dir, 'rpmsg0');
      execFileSync('mkfifo', [fifo]);
      const file = await io.openDevice(fifo);
      assert.equal(await file.read(64), null);
      const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      await writer.write(Buffer.from('hi'));
      assert.equal(new TextDecoder().decode((await file.read(64)) ?? new Uint8Array()), 'hi');
      await writer.close();
      await file.close();
      writeFileSync(join(dir, 'plain'), '');
      assert.equal(await errnoOf(io.openDevice(join(dir, 'plain'))), 'ENODEV');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('Linux backend on the simulated kernel laid out on disk', () => {
  function onDisk(): { tree: FakeTree; host: LinuxRemoteProcessors; close(): Promise<void> } {
    const tree = new FakeTree({
      processors: [
        { name: 'm4', firmware: 'rproc-m4-fw' },
        { name: 'dsp', firmware: 'rproc-dsp-fw' },
      ],
    });
    const host = new LinuxRemoteProcessors({
      sysfs: tree.sysfs,
      dev: tree.dev,
      kernelRelease: tree.kernel.flavour.release,
      ...FAST_POLL,
    });
    return {
      tree,
      host,
      close: async () => {
        await host.close();
        await tree.settled();
        tree.close();
      },
    };
  }

  it('reads attributes as the kernel prints them and writes values without a newline', async () => {
    const t = onDisk();
    try {
      assert.equal(
        readFileSync(join(t.tree.sysfs, 'class/remoteproc/remoteproc0/state'), 'latin1'),
        'offline\n',
      );
      const m4 = await t.host.get('m4');
      assert.deepEqual(await m4.info(), {
        name: 'm4',
        device: 'remoteproc0',
        state: 'offline',
        firmware: 'rproc-m4-fw',
        recovery: 'enabled',
        coredump: 'disabled',
      });
      const running = m4.next('state', (e) => e.to === 'running');
      await m4.start({ firmware: { name: 'all.elf', bytes: fakeFirmwareImage('all-echo') } });
      await running;
      await t.tree.settled();
      assert.deepEqual(
        t.tree.kernel.writes.map((w) => [w.path.split('/').pop(), w.value, w.error]),
        [
          ['firmware', 'all.elf', undefined],
          ['state', 'start', undefined],
        ],
      );
      // Installed where firmware_class.path points (the tree's lib/firmware), as the kernel found it.
      assert.deepEqual(
        [...readFileSync(join(t.tree.firmwareDir, 'all.elf'))],
        [...fakeFirmwareImage('all-echo')],
      );
      assert.equal(await m4.trace(), 'all-echo: ready\n');
    } finally {
      await t.close();
    }
  });

  it('maps channels to their processor through the sysfs links, and echoes through a real terminal', async () => {
    const t = onDisk();
    try {
      t.tree.kernel.firmwareFs.write(join(t.tree.firmwareDir, 'rproc-dsp-fw'), fakeFirmwareImage('all-echo'));
      await (await t.host.get('dsp')).start();
      const tty = await t.host.waitForChannel('rpmsg-tty', { processor: 'dsp' }, { timeoutMs: 5000 });
      assert.deepEqual([tty.processor, tty.driver, tty.kind], ['dsp', 'rpmsg_tty', 'tty']);
      assert.deepEqual(await t.host.channels({ processor: 'm4' }), []);
      const ep = await t.host.open(tty);
      assert.equal(ep.path, join(t.tree.dev, 'ttyRPMSG0'));
      await ep.send('over a pty');
      let got = '';
      while (got.length < 'over a pty'.length)
        got += new TextDecoder().decode(await ep.receive({ timeoutMs: 5000 }));
      assert.equal(got, 'over a pty');
      await ep.close();
    } finally {
      await t.close();
    }
  });
});
