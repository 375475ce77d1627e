// FirmwareStore lookup order (memory, path, search path) and its errors: ENOENT listing every
// place tried, EINVAL for an empty name, and an unreadable file keeping its errno instead of a raw
// file-system error.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirmwareStore } from './firmware-store.ts';

const scratch = mkdtempSync(join(tmpdir(), 'rproc-store-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('FirmwareStore', () => {
  it('looks in memory first, then the path, then each search directory', async () => {
    const dir = join(scratch, 'lib');
    mkdirSync(dir);
    writeFileSync(join(dir, 'fw.elf'), 'from-dir');
    const store = new FirmwareStore([join(scratch, 'none'), dir]);
    const found = await store.request('fw.elf');
    assert.equal(found.source, join(dir, 'fw.elf'));
    assert.equal(new TextDecoder().decode(found.bytes), 'from-dir');
    store.add('fw.elf', new TextEncoder().encode('from-memory'));
    assert.equal((await store.request('fw.elf')).source, 'memory:fw.elf');
  });

  it('says ENOENT with every place it looked, and skips directories of that name', async () => {
    mkdirSync(join(scratch, 'adir.elf'));
    const store = new FirmwareStore([scratch]);
    await assert.rejects(store.request('adir.elf'), (e: Error) => {
      assert.match(
        e.message,
        /^ENOENT: firmware 'adir\.elf' not found \(looked in: .*adir\.elf, .*adir\.elf\)$/,
      );
      return true;
    });
  });

  it('refuses an empty name with EINVAL', async () => {
    await assert.rejects(new FirmwareStore().request(''), /EINVAL: empty firmware name/);
  });

  it(
    'keeps the errno of a file it found but cannot read',
    { skip: process.getuid?.() === 0 ? 'root reads any file' : false },
    async () => {
      const path = join(scratch, 'locked.elf');
      writeFileSync(path, 'x');
      chmodSync(path, 0);
      await assert.rejects(
        new FirmwareStore().request(path),
        /^.*EACCES: cannot read firmware .*locked\.elf \(EACCES\)/,
      );
    },
  );
});
