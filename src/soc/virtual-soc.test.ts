// The virtual SoC end to end, on real worker-thread cores and again with every core in the host
// thread under the deterministic scheduler: boot a js core from its ELF image, watch its channel
// appear through the name service, echo, crash it on command, get the coredump, see it recover and
// echo again, then shut down with nothing left running.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from './virtual-soc.ts';
import { FirmwareStore } from '../remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../cpu/js/bundled-firmware.ts';
import { readElf } from '../elf/elf-reader.ts';
import { ET, PT } from '../elf/elf-constants.ts';
import type { RprocCoredump } from '../remoteproc/coredump.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import '../cpu/core-kinds.ts';

type Mode = 'worker' | 'deterministic';

function socWith(mode: Mode, firmware: Record<string, string> = {}): VirtualSoc {
  const store = new FirmwareStore();
  addBundledJsFirmware(store);
  return new VirtualSoc({
    firmwareStore: store,
    autoBoot: false,
    firmware,
    ...(mode === 'deterministic' ? { scheduler: true as const } : {}),
  });
}

async function echo(ch: RpmsgChannel, text: string, timeoutMs = 2000): Promise<string> {
  const ept = ch.open();
  const reply = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no echo of "${text}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ept.setCallback((data) => {
      clearTimeout(timer);
      resolve(new TextDecoder().decode(data));
    });
  });
  await ept.send(new TextEncoder().encode(text));
  return reply;
}

for (const mode of ['worker', 'deterministic'] as const)
  describe(`virtual SoC with ${mode} cores`, () => {
    it('boots, echoes, crashes, dumps, recovers, echoes again and shuts down', async () => {
      const soc = socWith(mode, { rproc1: 'crasher' });
      const rproc = soc.rproc('rproc1');
      const states: string[] = [];
      rproc.on('state', (e) => states.push(e.to));
      rproc.coredump.mode = 'enabled';
      try {
        await soc.start();
        await rproc.boot();
        assert.equal(rproc.state, 'running');

        const ch = await soc.rpmsg.waitForChannel('crasher', { rproc });
        assert.ok(ch.dst >= 1024, `remote endpoint address ${ch.dst}`);
        assert.equal(await echo(ch, 'ping 1'), 'ping 1');
        assert.match(rproc.resources.readTrace(0) ?? '', /crasher: ready/);

        const crash = rproc.next('crash');
        const dump = rproc.next('coredump');
        const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
        const removed = soc.rpmsg.next('channel', (e) => e.action === 'remove' && e.channel === ch);
        await ch.open().send(new TextEncoder().encode('mmu'));

        const c = await crash;
        assert.equal(c.typeName, 'mmufault');
        assert.match(c.detail?.message ?? '', /store at 0x1000: not mapped/);
        await removed;

        const d: RprocCoredump = await dump;
        const core = readElf(d.bytes()).image;
        assert.ok(core !== undefined);
        assert.equal(core.header.type, ET.ET_CORE);
        assert.equal(core.header.entry, 0x8000_0000n);
        const loads = core.programHeaders.filter((p) => p.type === PT.PT_LOAD);
        assert.ok(loads.length >= 1);
        assert.equal(loads[0]?.paddr, 0x8000_0000n);
        // The dump holds the firmware's memory: the js boot record's magic at the boot address.
        const first = loads[0];
        assert.deepEqual([...d.read(first.offset, 4)], [0x52, 0x50, 0x4a, 0x53]);

        assert.equal((await recovered).phase, 'done');
        assert.equal(rproc.state, 'running');
        assert.equal(rproc.crash.count, 1);
        const again = await soc.rpmsg.waitForChannel('crasher', { rproc });
        assert.notEqual(again, ch);
        assert.equal(await echo(again, 'ping 2'), 'ping 2');

        await rproc.shutdown();
        assert.equal(rproc.state, 'offline');
        assert.ok(rproc.resources.idle);
        assert.equal(soc.core('rproc1').running, false);
        assert.deepEqual(states, ['running', 'crashed', 'offline', 'running', 'offline']);
      } finally {
        await soc.close();
      }
    });

    it('reports a watchdog bite when the firmware stops kicking', async () => {
      const soc = socWith(mode, { rproc1: 'watchdog-starver' });
      const rproc = soc.rproc('rproc1');
      rproc.crash.recoveryDisabled = true;
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('watchdog', { rproc });
        assert.equal(await echo(ch, 'still alive'), 'still alive');
        const crash = rproc.next('crash');
        await ch.open().send(new TextEncoder().encode('starve'));
        const c = await crash;
        assert.equal(c.typeName, 'watchdog');
        assert.match(c.detail?.message ?? '', /watchdog bite/);
        assert.equal(rproc.state, 'crashed');
      } finally {
        await soc.close();
      }
    });

    it('reports a firmware panic as a fatal error', async () => {
      const soc = socWith(mode, { rproc1: 'crasher' });
      const rproc = soc.rproc('rproc1');
      rproc.crash.recoveryDisabled = true;
      try {
        await soc.start();
        await rproc.boot();
        const ch = await soc.rpmsg.waitForChannel('crasher', { rproc });
        const crash = rproc.next('crash');
        await ch.open().send(new TextEncoder().encode('panic'));
        const c = await crash;
        assert.equal(c.typeName, 'fatal error');
        assert.match(c.detail?.message ?? '', /firmware panic/);
      } finally {
        await soc.close();
      }
    });

    it('streams sensor readings after the host asks for them', async () => {
      const soc = socWith(mode, { rproc1: 'sensor' });
      try {
        await soc.start();
        await soc.rproc('rproc1').boot();
        const ch = await soc.rpmsg.waitForChannel('sensor', { rproc: 'rproc1' });
        const ept = ch.open();
        const readings: { seq: number }[] = [];
        const three = new Promise<void>((resolve) => {
          ept.setCallback((data) => {
            readings.push(JSON.parse(new TextDecoder().decode(data)) as { seq: number });
            if (readings.length === 3) resolve();
          });
        });
        await ept.send(new TextEncoder().encode('5'));
        await three;
        assert.deepEqual(
          readings.map((r) => r.seq),
          [0, 1, 2],
        );
      } finally {
        await soc.close();
      }
    });

    it('leaves no worker, port, timer or immediate behind after close', async () => {
      const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      const soc = socWith(mode);
      await soc.start();
      await soc.rproc('rproc1').boot();
      await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc1' });
      if (mode === 'worker')
        assert.ok(process.getActiveResourcesInfo().includes('MessagePort'), 'the core worker is running');
      await soc.close();
      await new Promise((r) => setImmediate(r));
      const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      assert.deepEqual(after, before);
    });

    it('fails a boot with a clear error when the firmware is missing, and stays usable', async () => {
      const soc = socWith(mode, { rproc1: 'no-such-firmware' });
      try {
        await soc.start();
        await assert.rejects(soc.rproc('rproc1').boot(), /ENOENT: firmware 'no-such-firmware' not found/);
        assert.equal(soc.rproc('rproc1').state, 'offline');
        assert.equal(soc.rproc('rproc1').power, 0);
      } finally {
        await soc.close();
      }
    });
  });
