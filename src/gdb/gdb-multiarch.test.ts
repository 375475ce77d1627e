// The real gdb (Debian's gdb-multiarch, in batch mode) against the stub, with a core in a worker
// thread and under the deterministic scheduler: break at main of the echo firmware's debug build,
// continue, backtrace, next/step/finish, read and write a variable and a register, a CSR, a write
// watch point hit by an echoed message, a hardware breakpoint, the thread list, the monitor through
// gdb's `monitor`; and Ctrl-C (SIGINT to gdb) stopping a core that spins, then `kill`. Skipped with
// a reason when gdb-multiarch is missing (CI installs it and requires it).

import '../cpu/core-kinds.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { Monitor } from '../monitor/monitor.ts';
import { bootLoaderStart } from '../soc/boot-loader.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { needTools } from '../../test/support/cross-tools.ts';
import { GdbServer } from './gdb-server.ts';

const gdb = needTools({ gdb: ['gdb-multiarch'] });
const skip = gdb.skip;
const ROOT = join(import.meta.dirname, '..', '..');
const SPIN = join(ROOT, 'firmware', 'tests', 'prebuilt', 'spin-virt.elf');
const GDB_TIMEOUT_MS = 120_000;

type Mode = 'worker' | 'deterministic';

interface Rig {
  readonly soc: VirtualSoc;
  readonly server: GdbServer;
  close(): Promise<void>;
}

/**
 * A SoC with `firmware` on rproc0, held at its entry point, and the stub listening on a free port.
 * A firmware given as bytes (a test program without a resource table) is started as a boot loader
 * would, outside the remoteproc life cycle.
 */
async function rig(mode: Mode, firmware: string, bytes?: Uint8Array): Promise<Rig> {
  const store = defaultFirmwareStore();
  if (bytes !== undefined) store.add(firmware, bytes);
  const soc = new VirtualSoc({
    firmwareStore: store,
    autoBoot: false,
    firmware: { rproc0: firmware },
    ...(mode === 'deterministic' ? { scheduler: { pace: 'realtime' as const } } : {}),
  });
  soc.core('rproc0').debugPort?.holdAtNextStart();
  await soc.start();
  if (bytes === undefined) await soc.rproc('rproc0').boot();
  else await bootLoaderStart(soc.core('rproc0'), store, firmware);
  const monitor = new Monitor(soc);
  const server = await GdbServer.listen({
    cores: soc.cores.flatMap((c) => (c.debugPort === undefined ? [] : [c.debugPort])),
    port: 0,
    monitor: (cmd) => monitor.execute(cmd),
  });
  return {
    soc,
    server,
    close: async () => {
      await server.close();
      await soc.close();
    },
  };
}

/** Run gdb-multiarch in batch mode with these commands; `interrupt` sends it SIGINT once called back. */
function runGdb(
  port: number,
  commands: readonly string[],
  interrupt?: (sigint: () => void) => void,
): Promise<string> {
  const tool = gdb.get('gdb');
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off'];
  for (const c of commands) args.push('-ex', c.replace('PORT', String(port)));
  const child = spawn(tool, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  interrupt?.(() => child.kill('SIGINT'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gdb did not finish within ${GDB_TIMEOUT_MS} ms:\n${out}`));
    }, GDB_TIMEOUT_MS);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** Each pattern matches, in this order. */
function assertInOrder(out: string, patterns: readonly RegExp[]): void {
  let at = 0;
  for (const p of patterns) {
    const m = new RegExp(p.source, p.flags.includes('g') ? p.flags : p.flags + 'g');
    m.lastIndex = at;
    const hit = m.exec(out);
    assert.ok(hit !== null, `${String(p)} not found after offset ${at} in gdb's output:\n${out}`);
    at = hit.index + hit[0].length;
  }
}

for (const mode of ['worker', 'deterministic'] as const) {
  describe(`gdb-multiarch against the stub (${mode})`, { skip }, () => {
    it('break at main, backtrace, next/step/finish, variables, registers, a watch point, a hardware breakpoint, threads, monitor', async () => {
      const r = await rig(mode, 'echo-debug.elf');
      try {
        // The host talks to the firmware once it announces its channel: two messages, one after the other.
        const echoes: string[] = [];
        void r.soc.rpmsg
          .waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: GDB_TIMEOUT_MS })
          .then(async (ch) => {
            const ept = ch.open((data) => {
              echoes.push(new TextDecoder().decode(data));
              if (echoes.length === 1) void ept.send(new TextEncoder().encode('second'));
            });
            await ept.send(new TextEncoder().encode('first'));
          });
        const out = await runGdb(r.server.address().port, [
          'file firmware/prebuilt/echo-debug.elf',
          'directory firmware',
          'target remote :PORT',
          'info registers pc',
          'break main',
          'continue',
          'bt',
          'next',
          'next',
          'step',
          'bt',
          'finish',
          'print echoed',
          'set var echoed = 41',
          'print echoed',
          'set $a5 = 1234',
          'print $a5',
          'print/x $misa',
          'stepi',
          'print $pc == $pc',
          'watch echoed',
          'continue',
          'bt 1',
          'delete',
          'hbreak echo_cb',
          'continue',
          'info threads',
          'monitor info cores',
          'delete',
          'detach',
        ]);
        assertInOrder(out, [
          /pc\s+0x80000000\s+0x80000000 <_start>/,
          /Breakpoint 1 at 0x[0-9a-f]+: file samples\/echo\/main\.c, line \d+\./,
          /Breakpoint 1, main \(\) at samples\/echo\/main\.c:\d+/,
          /#0 +main \(\) at samples\/echo\/main\.c:\d+/,
          /fw_init\(&resource_table, sizeof resource_table\);/,
          /uart_puts\("echo: firmware up\\n"\);/,
          /uart_puts \(s=.*"echo: firmware up\\n"\) at sdk\/uart\.c:\d+/,
          /#1 +0x[0-9a-f]+ in main \(\) at samples\/echo\/main\.c:\d+/,
          /main \(\) at samples\/echo\/main\.c:\d+\n\d+\s+trace_puts/,
          /\$1 = 0/,
          /\$2 = 41/,
          /\$3 = 1234/,
          /\$4 = 0x40001105/,
          /\$5 = 1/,
          /Hardware watchpoint 2: echoed/,
          /Hardware watchpoint 2: echoed\s+Old value = 41\s+New value = 42/,
          /#0 +echo_cb \(/,
          /Hardware assisted breakpoint 3 at 0x[0-9a-f]+: file samples\/echo\/main\.c/,
          /Breakpoint 3, echo_cb \(/,
          /\* 1 +Thread 1 "rproc0"/,
          /\* rproc0 +rv32 +running .*halted/,
          /Inferior 1 \(Remote target\) detached/,
        ]);
        // Detached: the core runs on and echoes what it was sent.
        const deadline = Date.now() + 30_000;
        while (echoes.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
        assert.deepEqual(echoes, ['first', 'second']);
      } finally {
        await r.close();
      }
    });

    it('Ctrl-C stops a spinning core (SIGINT), which then is where it spun; kill ends the session', async () => {
      const r = await rig(mode, 'spin-virt.elf', new Uint8Array(readFileSync(SPIN)));
      const kills: number[] = [];
      r.server.on('kill', () => kills.push(1));
      try {
        const out = await runGdb(
          r.server.address().port,
          [`file ${SPIN}`, 'target remote :PORT', 'continue', 'bt', 'x/wx &spins', 'kill'],
          (sigint) => {
            // Once gdb has resumed the core, let it spin a while, then press Ctrl-C.
            const onHeld = ({ on }: { readonly on: boolean }): void => {
              if (on) return;
              r.server.off('held', onHeld);
              setTimeout(sigint, 500);
            };
            r.server.on('held', onHeld);
          },
        );
        assertInOrder(out, [
          /Program received signal SIGINT, Interrupt\./,
          /#0 +0x[0-9a-f]+ in main \(\)/,
          /<spins>:\s+0x[0-9a-f]{8}/,
          /\[Inferior 1 \(Remote target\) killed\]/,
        ]);
        const spins = /<spins>:\s+0x([0-9a-f]{8})/.exec(out)?.[1];
        assert.ok(spins !== undefined && parseInt(spins, 16) > 0, `spins = ${spins ?? '?'}`);
        assert.equal(kills.length, 1);
      } finally {
        await r.close();
      }
    });
  });
}
