// A core the board marks rproc-ts,early-boot: the SoC's boot loader loads its firmware and starts
// it before the host looks, the host attaches (state 'attached', no firmware loaded by remoteproc),
// talks to it, detaches leaving it running, attaches and talks again (the firmware hears of the
// detach and starts its devices over), and stops it on shutdown. On worker cores and in
// deterministic mode, for the rv32 C echo firmware and the js echo program alike; and a boot loader
// that cannot load the firmware says which core and which file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from './virtual-soc.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { defaultBoard } from './fdt/boards/default-board.ts';
import type { Fdt } from './fdt/fdt-tree.ts';
import '../cpu/core-kinds.ts';

function earlyBootBoard(core: string): Fdt {
  const board = defaultBoard();
  const node = board.alias(core);
  assert.ok(node !== undefined);
  node.props.set('rproc-ts,early-boot', new Uint8Array(0));
  return board;
}

async function echo(soc: VirtualSoc, text: string): Promise<string> {
  const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { anyDevice: true, timeoutMs: 10_000 });
  const ept = ch.open();
  const reply = new Promise<string>((resolve) =>
    ept.setCallback((d) => resolve(new TextDecoder().decode(d))),
  );
  await ept.send(new TextEncoder().encode(text));
  const got = await reply;
  ept.destroy();
  return got;
}

const cases = [
  { core: 'rproc0', firmware: 'echo.elf', mode: 'worker' },
  { core: 'rproc1', firmware: 'rpmsg-echo', mode: 'worker' },
  { core: 'rproc0', firmware: 'echo.elf', mode: 'deterministic' },
  { core: 'rproc1', firmware: 'rpmsg-echo', mode: 'deterministic' },
] as const;

describe('early-boot cores: attach, detach, shutdown', () => {
  for (const { core, firmware, mode } of cases) {
    it(`${core} running ${firmware} (${mode})`, async () => {
      const soc = new VirtualSoc({
        board: earlyBootBoard(core),
        firmwareStore: defaultFirmwareStore(),
        autoBoot: false,
        firmware: { [core]: firmware },
        ...(mode === 'deterministic' ? { scheduler: true as const } : {}),
      });
      const rproc = soc.rproc(core);
      rproc.autoBoot = true;
      const states: string[] = [];
      rproc.on('state', (e) => states.push(e.to));
      try {
        assert.equal(rproc.state, 'detached');
        await soc.start();
        assert.equal(rproc.state, 'attached');
        assert.equal(rproc.loadedFirmware, undefined, 'remoteproc loaded nothing: the boot loader did');
        assert.ok(soc.core(core).running);
        assert.equal(await echo(soc, `hello ${core}`), `hello ${core}`);

        const removed = soc.rpmsg.next('channel', (e) => e.action === 'remove');
        await rproc.detach();
        await removed;
        assert.equal(rproc.state, 'detached');
        assert.ok(soc.core(core).running, 'a detached core keeps running');
        assert.equal(rproc.power, 0);

        // Attach again: the firmware heard of the detach (HOST_EVENT.DETACHED) and starts over.
        await rproc.boot();
        assert.equal(rproc.state, 'attached');
        assert.equal(await echo(soc, 'again'), 'again');
        await rproc.shutdown();
        assert.equal(rproc.state, 'offline');
        assert.equal(soc.core(core).running, false);
        assert.deepEqual(states, ['attached', 'detached', 'attached', 'offline']);
      } finally {
        await soc.close();
      }
    });
  }

  it('names the core and the file when the boot loader cannot load it', async () => {
    const store = defaultFirmwareStore();
    store.add('not-elf', new TextEncoder().encode('this is not an ELF image'));
    const soc = new VirtualSoc({
      board: earlyBootBoard('rproc0'),
      firmwareStore: store,
      autoBoot: false,
      firmware: { rproc0: 'not-elf' },
    });
    try {
      await assert.rejects(
        soc.start(),
        /EINVAL: rproc0: cannot boot not-elf before the host: image is too small/,
      );
      assert.equal(soc.core('rproc0').running, false);
    } finally {
      await soc.close();
    }
  });
});
