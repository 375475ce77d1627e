// The monitor's commands over a SoC running the C echo firmware (rv32) and the js echo program:
// core states, stop/cont through the debug port, x through a core's view (rv32 and js), the
// registers, crash and recover, a coredump file readelf can read, the channels, and one-line errors.

import '../cpu/core-kinds.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseElf } from '../elf/elf-reader.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { prebuiltPath } from '../../test/support/prebuilt.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { Monitor } from './monitor.ts';

const ECHO = readFileSync(prebuiltPath('echo.elf'));
const ENTRY = Number(parseElf(ECHO).header.entry);

/** The bytes echo.elf loads at addr. */
function loadedBytes(addr: number, len: number): Buffer {
  for (const ph of parseElf(ECHO).programHeaders) {
    const va = Number(ph.vaddr);
    if (ph.type === 1 && addr >= va && addr + len <= va + ph.filesz) {
      const off = ph.offset + addr - va;
      return ECHO.subarray(off, off + len);
    }
  }
  throw new Error(`echo.elf loads nothing at ${addr}`);
}

describe('monitor', () => {
  let soc: VirtualSoc;
  let monitor: Monitor;
  let dir: string;
  let quits = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rproc-monitor-'));
    soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      firmware: { rproc0: 'echo.elf' },
      scheduler: true,
    });
    monitor = new Monitor(soc, { coredumpDir: dir, quit: () => quits++ });
    await soc.start();
    soc.rproc('rproc0').crash.recoveryDisabled = true;
    await soc.rproc('rproc0').boot();
    await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 20_000 });
  });

  after(async () => {
    await soc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the cores with their state; stop and cont hold and release an rv32 core', async () => {
    assert.match(
      await monitor.execute('info cores'),
      /^\* rproc0 +rv32 +running +crashes 0 +running, pc 0x8/m,
    );
    assert.match(await monitor.execute('info cores'), /^ {2}rproc1 +js +offline +crashes 0 +not running$/m);
    assert.match(await monitor.execute('stop rproc0'), /^rproc0: stopped \(halt, pc 0x8[0-9a-f]+\)$/m);
    assert.match(await monitor.execute('info cores'), /rproc0 .* halted: halt, pc 0x8/);
    assert.equal(soc.core('rproc0').debugPort?.held, true);
    assert.equal(await monitor.execute('cont rproc0'), 'rproc0: running\n');
    assert.equal(soc.core('rproc0').debugPort?.held, false);
  });

  it('x reads through the core view, in words, halfwords or bytes, hex or decimal', async () => {
    const loaded = loadedBytes(ENTRY, 16);
    const word = (off: number): string => `0x${loaded.readUInt32LE(off).toString(16).padStart(8, '0')}`;
    assert.equal(
      await monitor.execute(`x/4w 0x${ENTRY.toString(16)}`),
      `${ENTRY.toString(16)}: ${[0, 4, 8, 12].map(word).join(' ')}\n`,
    );
    const byte = (off: number): string => `0x${loaded.readUInt8(off).toString(16).padStart(2, '0')}`;
    assert.equal(await monitor.execute(`x/2xb ${ENTRY}`), `${ENTRY.toString(16)}: ${byte(0)} ${byte(1)}\n`);
    assert.match(await monitor.execute('x/1dh 0x80000000'), /^80000000: -?\d+\n$/);
    // Twenty words: four to a line.
    assert.equal((await monitor.execute('x/20w 0x80000000')).split('\n').length, 6);
    // The CLINT is readable (no side effects) through an rv32 core's view; unmapped memory is not.
    assert.match(await monitor.execute('x/2w 0x0200bff8'), /^0200bff8: 0x[0-9a-f]{8} 0x[0-9a-f]{8}\n$/);
    assert.match(await monitor.execute('x/1w 0x40000000'), /^error: EFAULT: .*0x40000000/);
  });

  it("shows an rv32 core's registers", async () => {
    const out = await monitor.execute('info registers rproc0');
    assert.match(out, /^rproc0:\npc +0x8[0-9a-f]+\nzero 00000000 {2}ra {3}8[0-9a-f]{7}/);
    assert.equal(out.split('\n').length, 11);
  });

  it('lists the channels', async () => {
    assert.match(
      await monitor.execute('info channels'),
      /^rproc0 +rpmsg-echo +remote 1024 +local - +virtio0\.rpmsg-echo\.-1\.1024$/m,
    );
  });

  it('writes a coredump that readelf-style parsing reads back, without stopping the run', async () => {
    const out = await monitor.execute('coredump rproc0');
    const m = /written to (.*)\n$/.exec(out);
    assert.ok(m?.[1] !== undefined, out);
    const core = parseElf(new Uint8Array(readFileSync(m[1])));
    assert.equal(core.header.type, 4, 'ET_CORE');
    assert.equal(soc.rproc('rproc0').state, 'running');
    assert.equal(soc.core('rproc0').debugPort?.held, false, 'resumed after the copy');
  });

  it('crashes a core on request, and recovers it', async () => {
    const crashed = soc.rproc('rproc0').next('crash');
    assert.equal(await monitor.execute('crash rproc0 watchdog'), 'rproc0: watchdog crash reported\n');
    assert.equal((await crashed).typeName, 'watchdog');
    assert.equal(soc.rproc('rproc0').state, 'crashed');
    assert.equal(await monitor.execute('recover rproc0'), 'rproc0: recovered (running)\n');
    assert.equal(
      await monitor.execute('recover rproc0'),
      'rproc0 is running, not crashed: nothing to recover\n',
    );
  });

  it('answers bad commands with one line naming what was wrong', async () => {
    const table: readonly (readonly [string, RegExp])[] = [
      ['frobnicate', /^error: EINVAL: unknown command "frobnicate"/],
      ['info', /^error: EINVAL: info takes cores, registers or channels/],
      ['stop', /^error: EINVAL: usage: stop CORE$/],
      ['stop nosuch', /^error: ENODEV: no core "nosuch" on this board/],
      ['stop rproc1', /^error: EOPNOTSUPP: rproc1 is a js core: it has no debug port$/],
      ['crash rproc0 sideways', /^error: EINVAL: crash type "sideways" is none of/],
      ['crash rproc1', /^error: EINVAL: rproc1 is offline: only a running core crashes$/],
      ['x/0w 0x80000000', /^error: EINVAL: x: count 0 is not 1\.\.1024$/],
      ['x/4q 0x80000000', /^error: EINVAL: "x\/4q" is not x\/NFU/],
      ['x/4w banana', /^error: EINVAL: x: "banana" is not an address/],
      ['x/4w 0xffffffff', /^error: EINVAL: x: 0xffffffff \+ 16 bytes runs past 4 GiB$/],
      ['coredump rproc1', /^error: ENODATA: rproc1 has no loaded firmware/],
    ];
    for (const [line, want] of table) {
      const out = await monitor.execute(line);
      assert.match(out, new RegExp(want.source, 'm'), line);
      assert.equal(out.split('\n').length, 2, `one line for ${line}`);
    }
    assert.equal(await monitor.execute('   '), '');
  });

  it('help lists the commands; quit ends the run; core selects the default core', async () => {
    assert.match(await monitor.execute('help'), /info cores[\s\S]*x\/NFU ADDR/);
    assert.equal(await monitor.execute('core rproc1'), 'current core: rproc1\n');
    assert.match(await monitor.execute('info registers'), /^error: EOPNOTSUPP: rproc1 is a js core/);
    await monitor.execute('core rproc0');
    const before = quits;
    await monitor.execute('quit');
    assert.equal(quits, before + 1);
  });
});
