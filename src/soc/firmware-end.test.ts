// How firmware starts and ends on the virtual SoC beyond the rpmsg story: the default firmware
// store finds the shipped images (`new VirtualSoc()` boots the default board as it comes), a
// firmware without a resource table boots with a warning (stm32/imx parse_fw), an invalid table
// still refuses the boot, and a firmware that writes the test finisher ends: an 'exit' event with
// QEMU virt's code, then the processor goes offline with every power reference dropped.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../cpu/core-kinds.ts';
import { VirtualSoc, type SocEvents } from './virtual-soc.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { failingFirmware, passingFirmware } from '../../test/support/tiny-firmware.ts';
import { buildElf } from '../elf/elf-builder.ts';
import type { RprocState } from '../remoteproc/rproc-state.ts';

type Mode = 'worker' | 'deterministic';
const modes: readonly Mode[] = ['worker', 'deterministic'];

function socWith(
  mode: Mode,
  images: Record<string, Uint8Array>,
  firmware: Record<string, string>,
): VirtualSoc {
  const store = defaultFirmwareStore();
  for (const [name, bytes] of Object.entries(images)) store.add(name, bytes);
  return new VirtualSoc({
    firmwareStore: store,
    autoBoot: false,
    firmware,
    ...(mode === 'deterministic' ? { scheduler: true as const } : {}),
  });
}

describe('the default firmware store', () => {
  it('lets new VirtualSoc() boot both cores of the default board with the shipped firmware', async () => {
    const soc = new VirtualSoc({ autoBoot: false });
    try {
      await soc.start();
      for (const c of soc.cores) await c.rproc.boot();
      assert.deepEqual(
        soc.cores.map((c) => [c.name, c.rproc.firmware, c.rproc.state]),
        [
          ['rproc0', 'hello.elf', 'running'],
          ['rproc1', 'rpmsg-echo', 'running'],
        ],
      );
      const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1' });
      assert.equal(ch.name, 'rpmsg-echo');
    } finally {
      await soc.close();
    }
  });

  it('finds explicit firmwareDirs first, then the shipped images', async () => {
    const soc = new VirtualSoc({ autoBoot: false, firmwareDirs: ['/nonexistent-firmware-dir'] });
    try {
      const fw = await soc.firmwareStore.request('echo.elf');
      assert.match(fw.source, /firmware[/\\]prebuilt[/\\]echo\.elf$/);
      await assert.rejects(
        soc.firmwareStore.request('no-such.elf'),
        /nonexistent-firmware-dir[/\\]no-such\.elf/,
      );
    } finally {
      await soc.close();
    }
  });
});

for (const mode of modes)
  describe(`firmware that ends through the test finisher (${mode} cores)`, () => {
    const cases: [string, Uint8Array, Omit<SocEvents['exit'], 'core' | 'reason'>][] = [
      ['FAIL with code 3', failingFirmware(3), { code: 3, cause: 'fail' }],
      ['PASS', passingFirmware(), { code: 0, cause: 'pass' }],
    ];
    for (const [name, bytes, expected] of cases) {
      it(`${name}: an exit event, then the processor goes offline`, async () => {
        const soc = socWith(mode, { 'end.elf': bytes }, { rproc0: 'end.elf' });
        const rproc = soc.rproc('rproc0');
        const states: RprocState[] = [];
        rproc.on('state', (e) => states.push(e.to));
        const logs: string[] = [];
        rproc.on('log', (e) => logs.push(`${e.level}: ${e.message}`));
        try {
          await soc.start();
          const exited = soc.next('exit');
          const offline = rproc.next('state', (e) => e.to === 'offline');
          await rproc.boot();
          const exit = await exited;
          assert.deepEqual({ code: exit.code, cause: exit.cause }, expected);
          assert.equal(exit.core, 'rproc0');
          assert.match(exit.reason, expected.cause === 'fail' ? /FAIL, code 3/ : /PASS/);
          await offline;
          assert.deepEqual(states, ['running', 'offline']);
          assert.equal(rproc.power, 0);
          assert.ok(
            logs.some((l) => /^warn: .*no resource table in firmware end\.elf/.test(l)),
            logs.join('\n'),
          );
          // Offline for good: booting again runs the firmware again.
          const again = soc.next('exit');
          await rproc.boot();
          assert.equal((await again).code, expected.code);
        } finally {
          await soc.close();
        }
      });
    }
  });

describe('a resource table that is present but invalid', () => {
  it('still refuses the boot with EINVAL', async () => {
    const bytes = buildElf({
      class: 32,
      entry: 0x8000_0000,
      segments: [{ paddr: 0x8000_0000, data: new Uint8Array(16), flags: 5 }],
      sections: [{ name: '.resource_table', addr: 0x8000_1000, data: new Uint8Array(8) }],
    });
    const soc = socWith('worker', { 'bad.elf': bytes }, { rproc0: 'bad.elf' });
    try {
      await soc.start();
      await assert.rejects(soc.rproc('rproc0').boot(), /EINVAL/);
      assert.equal(soc.rproc('rproc0').state, 'offline');
    } finally {
      await soc.close();
    }
  });
});
