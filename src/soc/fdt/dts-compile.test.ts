// dtc integration: compiling .dts source and files, dtc's errors as EINVAL with its message, the
// ENOENT message when dtc is missing, the timeout, and loadBoardBlob/loadBoard choosing between
// .dtb and .dts by magic. Tests that need dtc skip without it (and fail in CI, which requires it).

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DTC_MISSING_MESSAGE, compileDts, decompileDtb, dtcAvailable } from './dts-compile.ts';
import { readFdt } from './fdt-reader.ts';
import { loadBoard, loadBoardBlob } from './load-board.ts';
import {
  AMP_BOARD_DTB,
  AMP_BOARD_DTS,
  ampBoardBytes,
  rprocErrorOfAsync,
  skipWithoutDtc,
} from '../../../test/support/fdt-fixtures.ts';

const MISSING = { dtc: '/nonexistent/bin/dtc' };
const scratch = mkdtempSync(join(tmpdir(), 'rproc-fdt-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('compileDts', () => {
  it('compiles the AMP test board to the committed blob', { skip: skipWithoutDtc }, async () => {
    assert.deepEqual(await compileDts(AMP_BOARD_DTS), ampBoardBytes());
    assert.deepEqual(await compileDts({ path: AMP_BOARD_DTS }), ampBoardBytes());
  });

  it('compiles source text given on stdin', { skip: skipWithoutDtc }, async () => {
    const dtb = await compileDts({ source: '/dts-v1/;\n/ { model = "x"; n { v = <7>; }; };\n' });
    const fdt = readFdt(dtb);
    assert.equal(fdt.root.string('model'), 'x');
    assert.equal(fdt.requireNode('/n').u32('v'), 7);
  });

  it('reports a dtc syntax error as EINVAL with dtc’s message', { skip: skipWithoutDtc }, async () => {
    const e = await rprocErrorOfAsync(() =>
      compileDts({ source: '/dts-v1/;\n/ { broken = ; };\n', name: 'broken.dts' }),
    );
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, /^EINVAL: dtc could not compile broken\.dts: .*(syntax error|ERROR)/);
  });

  it('reports an unresolved reference as EINVAL', { skip: skipWithoutDtc }, async () => {
    const e = await rprocErrorOfAsync(() => compileDts({ source: '/dts-v1/;\n/ { r = <&nowhere>; };\n' }));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, /nowhere/);
  });

  it('a missing file is EINVAL naming it', { skip: skipWithoutDtc }, async () => {
    const e = await rprocErrorOfAsync(() => compileDts(join(scratch, 'absent.dts')));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, /absent\.dts/);
  });

  it('without dtc: ENOENT with how to install it', async () => {
    const e = await rprocErrorOfAsync(() => compileDts({ source: '/dts-v1/; / { };' }, MISSING));
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.message, `ENOENT: ${DTC_MISSING_MESSAGE}`);
    assert.equal(
      e.detail,
      'dtc (device-tree-compiler) is not installed: install it (apt-get install device-tree-compiler) or pass a .dtb',
    );
    assert.equal(await dtcAvailable(MISSING), false);
  });

  it('kills a dtc that does not finish in time: ETIMEDOUT', async () => {
    const slow = join(scratch, 'slow-dtc.sh');
    writeFileSync(slow, '#!/bin/sh\nexec sleep 10\n');
    chmodSync(slow, 0o755);
    const started = Date.now();
    const e = await rprocErrorOfAsync(() => compileDts({ source: '' }, { dtc: slow, timeoutMs: 100 }));
    assert.equal(e.code, 'ETIMEDOUT');
    assert.ok(Date.now() - started < 5000);
  });

  it('decompiles a blob', { skip: skipWithoutDtc }, async () => {
    const dts = await decompileDtb(ampBoardBytes());
    assert.match(dts, /firmware-name = "hello.elf";/);
    assert.match(dts, /vdev0vring0@90100000 \{/);
  });
});

describe('loadBoardBlob / loadBoard', () => {
  it('returns a .dtb as is (recognised by its magic, whatever the file name)', async () => {
    const copy = join(scratch, 'board.bin');
    writeFileSync(copy, ampBoardBytes());
    assert.deepEqual(await loadBoardBlob(copy, MISSING), ampBoardBytes());
    assert.deepEqual(await loadBoardBlob(AMP_BOARD_DTB, MISSING), ampBoardBytes());
  });

  it('compiles a .dts', { skip: skipWithoutDtc }, async () => {
    assert.deepEqual(await loadBoardBlob(AMP_BOARD_DTS), ampBoardBytes());
    const fdt = await loadBoard(AMP_BOARD_DTS);
    assert.equal(fdt.node('rproc0')?.string('firmware-name'), 'hello.elf');
  });

  it('a .dts without dtc is the ENOENT install message', async () => {
    const e = await rprocErrorOfAsync(() => loadBoardBlob(AMP_BOARD_DTS, MISSING));
    assert.equal(e.code, 'ENOENT');
    assert.match(e.message, /apt-get install device-tree-compiler\) or pass a \.dtb/);
  });

  it('a missing file is ENOENT naming it', async () => {
    const e = await rprocErrorOfAsync(() => loadBoardBlob(join(scratch, 'nope.dtb')));
    assert.equal(e.code, 'ENOENT');
    assert.match(e.message, /board file .*nope\.dtb does not exist/);
  });

  it('a directory is EISDIR naming it, not a raw read error', async () => {
    const e = await rprocErrorOfAsync(() => loadBoardBlob(scratch));
    assert.equal(e.code, 'EISDIR');
    assert.equal(e.message, `EISDIR: board file ${scratch} is a directory`);
  });

  it(
    'an unreadable file keeps its errno name and names the file',
    { skip: process.getuid?.() === 0 ? 'root reads any file' : false },
    async () => {
      const path = join(scratch, 'locked.dtb');
      writeFileSync(path, ampBoardBytes());
      chmodSync(path, 0);
      const e = await rprocErrorOfAsync(() => loadBoardBlob(path));
      assert.equal(e.code, 'EACCES');
      assert.match(e.message, /cannot read board file .*locked\.dtb \(EACCES\)/);
    },
  );

  it('a .dtb with a good magic but a bad body fails when read, with EINVAL', async () => {
    const bad = ampBoardBytes().slice(0, 64);
    const path = join(scratch, 'truncated.dtb');
    writeFileSync(path, bad);
    const e = await rprocErrorOfAsync(() => loadBoard(path));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, /totalsize 0x[0-9a-f]+ at offset 0x4 is past the end of the 0x40-byte buffer/);
  });

  it('without a path, loads the embedded default board', async () => {
    const fdt = await loadBoard();
    assert.equal(fdt.root.string('model'), 'rproc-ts virtual AMP SoC');
  });
});
