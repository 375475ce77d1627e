// Typing into a firmware over the UART: the shell sample (firmware/prebuilt/shell.elf) reads its
// input through the UART's receive interrupt and the PLIC, sleeping in wfi between lines. Commands
// typed through SocCore.uart get their replies, with line editing, in a worker thread and in
// deterministic mode; input sent before the firmware is up is not lost; `crash` is a crash report
// naming the function; a js core has no UART to type into.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from './virtual-soc.ts';
import '../cpu/core-kinds.ts';
import { defaultFirmwareStore } from './default-firmware.ts';
import { RprocError } from '../util/errors.ts';
import { CORE_WORD } from './core-block.ts';

type Mode = 'worker' | 'deterministic';

/** A booted shell and everything it printed so far. */
async function shell(
  mode: Mode,
): Promise<{ soc: VirtualSoc; output: () => string; waitFor: (re: RegExp) => Promise<string> }> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: 'shell.elf' },
    ...(mode === 'deterministic' ? { scheduler: true as const } : {}),
  });
  let out = '';
  const waiters: (() => void)[] = [];
  soc.on('uart', (e) => {
    if (e.core !== 'rproc0') return;
    out += e.text;
    for (const w of waiters.splice(0)) w();
  });
  await soc.start();
  await soc.rproc('rproc0').boot();
  const waitFor = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + 20_000;
    while (!re.test(out)) {
      if (Date.now() > deadline)
        throw new Error(`no ${String(re)} in the UART output: ${JSON.stringify(out)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return out;
  };
  return { soc, output: () => out, waitFor };
}

for (const mode of ['worker', 'deterministic'] as const)
  describe(`UART shell (${mode})`, () => {
    it('answers typed commands, with backspace and Ctrl-U line editing; typed-ahead input is kept', async () => {
      const { soc, waitFor } = await shell(mode);
      try {
        const uart = soc.core('rproc0').uart;
        // Sent at once, before the firmware has set its UART up.
        await uart.send('echo first\r');
        await waitFor(/^first$/m);
        await uart.send('echo  hello   world\r');
        await waitFor(/^hello world$/m);
        await uart.send('peek 0x80000000\r');
        const peek = await waitFor(/^0x80000000: 0x[0-9a-f]{8}$/m);
        const fw = soc.rproc('rproc0').loadedFirmware;
        assert.ok(fw !== undefined);
        // The first word of the firmware's code, as loaded from the ELF (its first PT_LOAD at 0x80000000).
        const word = /^0x80000000: (0x[0-9a-f]{8})$/m.exec(peek)?.[1];
        assert.equal(word, '0x00002197', 'auipc gp at _start');
        await uart.send('peek 0x4\r');
        await waitFor(/^peek: access fault at 0x00000004$/m);
        await uart.send('ecxo\x7f\x7fho edited\r');
        await waitFor(/^edited$/m);
        await uart.send('garbage\x15echo killed\r');
        await waitFor(/^killed$/m);
        await uart.send('nope\r');
        await waitFor(/^nope: unknown command \(try help\)$/m);
        await uart.send('help\r');
        await waitFor(/peek ADDR[^\n]*\n[\s\S]*> $/);
      } finally {
        await soc.close();
      }
    });

    it('takes a long paste through the 256-byte ring and the firmware buffer without losing a byte', async () => {
      const { soc, waitFor } = await shell(mode);
      try {
        const words = Array.from({ length: 12 }, (_, i) => `word${i}`).join(' ');
        const lines = Array.from({ length: 30 }, (_, i) => `echo ${i} ${words}\r`).join('');
        assert.ok(lines.length > 4 * 256);
        await soc.core('rproc0').uart.send(lines);
        const out = await waitFor(/^29 word0 [^\n]*\n> $/m);
        for (let i = 0; i < 30; i++) assert.match(out, new RegExp(`^${i} ${words}$`, 'm'));
      } finally {
        await soc.close();
      }
    });

    it('crash: an unhandled store fault becomes a crash report in shell_crash; exit ends the core', async () => {
      const { soc, waitFor } = await shell(mode);
      const rproc = soc.rproc('rproc0');
      rproc.crash.recoveryDisabled = true;
      try {
        const crash = rproc.next('crash');
        await soc.core('rproc0').uart.send('crash\r');
        const c = await crash;
        assert.equal(c.typeName, 'mmufault');
        assert.match(c.detail?.symbol ?? '', /^shell_crash/);
        await waitFor(/fault: store\/AMO access fault/);
      } finally {
        await soc.close();
      }
      const again = await shell(mode);
      try {
        const exited = new Promise<number>((resolve) => again.soc.on('exit', (e) => resolve(e.code)));
        await again.soc.core('rproc0').uart.send('exit 3\r');
        assert.equal(await exited, 3);
      } finally {
        await again.soc.close();
      }
    });
  });

describe('UART input in deterministic mode', () => {
  /** Type a paste, then lines one at a time with host pauses between; log what the shell printed, when. */
  async function scenario(hostJitter: boolean): Promise<string[]> {
    const { soc, waitFor } = await shell('deterministic');
    const log: string[] = [];
    const s = soc.scheduler;
    assert.ok(s !== undefined);
    const block = soc.core('rproc0').block;
    const at = (): string => `${s.now}ns/${block.load(CORE_WORD.INSTRET_LO) >>> 0}i`;
    soc.on('uart', (e) => log.push(`${at()} ${JSON.stringify(e.text)}`));
    try {
      const uart = soc.core('rproc0').uart;
      // With jitter, the host is also busy now and then while the paste goes through the ring.
      const busy = hostJitter
        ? setInterval(() => {
            const until = performance.now() + 2;
            while (performance.now() < until);
          }, 1)
        : undefined;
      await uart.send(Array.from({ length: 60 }, (_, i) => `echo paste ${i}\r`).join(''));
      await waitFor(/^paste 59$/m);
      clearInterval(busy);
      for (let i = 0; i < 5; i++) {
        if (hostJitter) await new Promise((r) => setTimeout(r, (i * 7) % 5));
        await uart.send(`echo line ${i}\r`);
        await waitFor(new RegExp(`^line ${i}\n> $`, 'm'));
      }
    } finally {
      await soc.close();
    }
    return log;
  }

  it('delivers typed input at the same instruction on every run, whatever the host pace', async () => {
    const first = await scenario(false);
    const second = await scenario(true);
    assert.ok(first.length > 20);
    assert.deepEqual(second, first);
  });
});

describe('UART input on a js core', () => {
  it('is refused: EOPNOTSUPP naming the core', () => {
    const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false });
    assert.throws(
      () => soc.core('rproc1').uart,
      (e: unknown) =>
        e instanceof RprocError && e.code === 'EOPNOTSUPP' && /rproc1 is a js core/.test(e.message),
    );
  });
});
