// The run's monitor: QEMU-monitor-style commands over the virtual SoC (QEMU's `info`, `stop`,
// `cont`, `x`, `cpu`), one line in, text out: the state of every core, stopping and continuing one
// core (its debug port), crashing and recovering it (as remoteproc's debugfs `crash` and `recovery`
// files do), dumping it, reading memory through a core's own view, and the rpmsg channels. A bad
// command gets a one-line error naming what was wrong; nothing here throws at the caller.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseElf } from '../elf/elf-reader.ts';
import { buildCoredump } from '../remoteproc/coredump.ts';
import {
  RPROC_FATAL_ERROR,
  RPROC_MMUFAULT,
  RPROC_WATCHDOG,
  type RprocCrashType,
} from '../remoteproc/rproc-state.ts';
import { describeStop } from '../soc/debug/core-debug-port.ts';
import { RV32_GPR_NAMES } from '../soc/debug/debug-protocol.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { RprocError, hex } from '../util/errors.ts';

export interface MonitorOptions {
  /** Where `coredump CORE` writes when it is given no file (default: the current directory). */
  readonly coredumpDir?: string;
  /** `quit`: end the run. */
  readonly quit?: () => void;
}

/** Most units one `x` prints. */
const X_MAX = 1024;

const CRASH_TYPES: Readonly<Record<string, RprocCrashType>> = {
  mmufault: RPROC_MMUFAULT,
  watchdog: RPROC_WATCHDOG,
  'fatal-error': RPROC_FATAL_ERROR,
};

const HELP = [
  'info cores                  state of every core (halted rv32 cores: where and why)',
  "info registers [CORE]       an rv32 core's registers",
  'info channels               the rpmsg channels the remotes announced',
  'core NAME                   the core x and info registers use by default',
  'stop CORE | cont CORE       halt / resume an rv32 core (its watchdog pauses meanwhile)',
  'crash CORE [mmufault|watchdog|fatal-error]   report a crash of that type (default fatal-error)',
  'recover CORE                recover a crashed core now (remoteproc recovery)',
  "coredump CORE [FILE]        write an ELF core of the core's memory now",
  'x/NFU ADDR [CORE]           N units (U: b, h, w; default w) at ADDR in hex (F: x) or decimal (d, u)',
  'help                        this text',
  'quit                        end the run',
];

/** A number as the user types it: 0x… hex, or decimal. */
function parseNumber(text: string): number | undefined {
  const t = text.trim();
  const v = /^0x[0-9a-f]{1,8}$/i.test(t)
    ? parseInt(t.slice(2), 16)
    : /^[0-9]{1,10}$/.test(t)
      ? Number(t)
      : NaN;
  return Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff ? v : undefined;
}

export class Monitor {
  private readonly soc: VirtualSoc;
  private readonly o: MonitorOptions;
  private current: SocCore | undefined;
  private dumps = 0;

  constructor(soc: VirtualSoc, options: MonitorOptions = {}) {
    this.soc = soc;
    this.o = options;
    this.current = soc.cores.find((c) => c.debugPort !== undefined) ?? soc.cores[0];
  }

  /** Run one command line; its output (errors as one `error: …` line). */
  async execute(line: string): Promise<string> {
    const words = line
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    if (words.length === 0) return '';
    try {
      return await this.command(words);
    } catch (e) {
      const message = e instanceof RprocError ? e.message : e instanceof Error ? e.message : String(e);
      return `error: ${message}\n`;
    }
  }

  private core(name: string | undefined): SocCore {
    if (name !== undefined) return this.soc.core(name);
    if (this.current === undefined) throw new RprocError('ENODEV', 'monitor', 'the board has no cores');
    return this.current;
  }

  private port(core: SocCore): NonNullable<SocCore['debugPort']> {
    const p = core.debugPort;
    if (p === undefined)
      throw new RprocError(
        'EOPNOTSUPP',
        'monitor',
        `${core.name} is a ${core.spec.kind} core: it has no debug port`,
      );
    if (!p.online)
      throw new RprocError('ENODEV', 'monitor', `${core.name} is not running (state ${core.rproc.state})`);
    return p;
  }

  private async command(words: readonly string[]): Promise<string> {
    const [cmd = '', ...args] = words;
    if (cmd === 'help' || cmd === '?') return HELP.join('\n') + '\n';
    if (cmd === 'quit' || cmd === 'q') {
      this.o.quit?.();
      return '';
    }
    if (cmd === 'info') return this.info(args);
    if (cmd === 'core') {
      this.current = this.core(this.need(args, 0, 'core NAME'));
      return `current core: ${this.current.name}\n`;
    }
    if (cmd === 'stop') {
      const core = this.core(this.need(args, 0, 'stop CORE'));
      const stop = await this.port(core).halt();
      return `${core.name}: stopped (${describeStop(stop)})\n`;
    }
    if (cmd === 'cont' || cmd === 'c') {
      const core = this.core(this.need(args, 0, 'cont CORE'));
      await this.port(core).resume();
      return `${core.name}: running\n`;
    }
    if (cmd === 'crash') return this.crash(args);
    if (cmd === 'recover') {
      const core = this.core(this.need(args, 0, 'recover CORE'));
      const state = core.rproc.state;
      if (state !== 'crashed') return `${core.name} is ${state}, not crashed: nothing to recover\n`;
      await core.rproc.crash.recover();
      return `${core.name}: recovered (${core.rproc.state})\n`;
    }
    if (cmd === 'coredump') return this.coredump(args);
    if (cmd.startsWith('x')) return this.examine(cmd, args);
    throw new RprocError('EINVAL', 'monitor', `unknown command "${cmd}" (help lists them)`);
  }

  private need(args: readonly string[], i: number, usage: string): string {
    const v = args[i];
    if (v === undefined) throw new RprocError('EINVAL', 'monitor', `usage: ${usage}`);
    return v;
  }

  private async info(args: readonly string[]): Promise<string> {
    const what = args[0];
    if (what === 'cores') {
      const lines: string[] = [];
      for (const c of this.soc.cores) {
        let exec = c.running ? 'running' : 'not running';
        const p = c.debugPort;
        if (p?.online === true) {
          const s = await p.status();
          exec = s.halted
            ? `halted: ${s.stop === undefined ? `pc ${hex(s.pc)}` : describeStop(s.stop)}`
            : `running, pc ${hex(s.pc)}`;
        }
        const mark = c === this.current ? '*' : ' ';
        lines.push(
          `${mark} ${c.name.padEnd(10)} ${c.spec.kind.padEnd(5)} ${c.rproc.state.padEnd(9)} crashes ${c.rproc.crash.count}  ${exec}`,
        );
      }
      return lines.join('\n') + '\n';
    }
    if (what === 'registers') {
      const core = this.core(args[1]);
      const regs = await this.port(core).readRegisters();
      const out: string[] = [`pc   ${hex(regs[32] ?? 0).padStart(10)}`];
      for (let i = 0; i < 32; i += 4) {
        const row: string[] = [];
        for (let j = i; j < i + 4; j++)
          row.push(
            `${(RV32_GPR_NAMES[j] ?? '').padEnd(4)} ${((regs[j] ?? 0) >>> 0).toString(16).padStart(8, '0')}`,
          );
        out.push(row.join('  '));
      }
      return `${core.name}:\n${out.join('\n')}\n`;
    }
    if (what === 'channels') {
      const lines: string[] = [];
      for (const dev of this.soc.rpmsg.buses) {
        for (const ch of dev.channelList) {
          const src = ch.ept?.addr;
          lines.push(
            `${dev.vdev.parentName.padEnd(10)} ${ch.name.padEnd(20)} remote ${ch.dst}  local ${src ?? '-'}  ${ch.deviceName}`,
          );
        }
      }
      return lines.length === 0 ? 'no channels\n' : lines.join('\n') + '\n';
    }
    throw new RprocError('EINVAL', 'monitor', `info takes cores, registers or channels, not "${what ?? ''}"`);
  }

  private crash(args: readonly string[]): string {
    const core = this.core(this.need(args, 0, 'crash CORE [mmufault|watchdog|fatal-error]'));
    const word = args[1] ?? 'fatal-error';
    const type = CRASH_TYPES[word];
    if (type === undefined)
      throw new RprocError(
        'EINVAL',
        'monitor',
        `crash type "${word}" is none of mmufault, watchdog, fatal-error`,
      );
    if (core.rproc.state !== 'running')
      throw new RprocError(
        'EINVAL',
        'monitor',
        `${core.name} is ${core.rproc.state}: only a running core crashes`,
      );
    core.rproc.reportCrash(type, { message: 'crash requested from the monitor' });
    return `${core.name}: ${word} crash reported\n`;
  }

  private async coredump(args: readonly string[]): Promise<string> {
    const core = this.core(this.need(args, 0, 'coredump CORE [FILE]'));
    const rproc = core.rproc;
    const fw = rproc.loadedFirmware;
    const segments = rproc.coredump.segments;
    if (fw === undefined || segments.length === 0)
      throw new RprocError(
        'ENODATA',
        'monitor',
        `${core.name} has no loaded firmware to dump (state ${rproc.state})`,
      );
    const header = parseElf(fw.bytes).header;
    // A running rv32 core is halted while its memory is copied, so the dump is one instant.
    const port = core.debugPort?.online === true ? core.debugPort : undefined;
    const wasHeld = port?.held ?? true;
    if (port !== undefined && !wasHeld) await port.halt();
    try {
      const dump = buildCoredump(
        'enabled',
        { class: header.class, machine: header.machine },
        rproc.bootAddr,
        segments,
        (da, len) => rproc.daToVa(da, len),
        () => undefined,
      );
      if (dump === undefined) throw new RprocError('ENODATA', 'monitor', `${core.name}: nothing to dump`);
      const path = args[1] ?? join(this.o.coredumpDir ?? '.', `${core.name}-monitor-${++this.dumps}.elf`);
      await writeFile(path, dump.bytes());
      return `${core.name}: coredump of ${dump.size} bytes written to ${path}\n`;
    } finally {
      if (port !== undefined && !wasHeld) await port.resume();
    }
  }

  /** x/NFU ADDR [CORE]: QEMU's and gdb's examine. */
  private async examine(cmd: string, args: readonly string[]): Promise<string> {
    const m = /^x(?:\/(\d*)([xdu]?)([bhw]?)([xdu]?))?$/.exec(cmd);
    if (m === null) throw new RprocError('EINVAL', 'monitor', `"${cmd}" is not x/NFU (e.g. x/4w, x/16xb)`);
    const count = m[1] === undefined || m[1] === '' ? 1 : Number(m[1]);
    const format = m[2] !== '' && m[2] !== undefined ? m[2] : m[4] !== '' && m[4] !== undefined ? m[4] : 'x';
    const size = m[3] === 'b' ? 1 : m[3] === 'h' ? 2 : 4;
    if (!Number.isInteger(count) || count < 1 || count > X_MAX)
      throw new RprocError('EINVAL', 'monitor', `x: count ${m[1] ?? ''} is not 1..${X_MAX}`);
    const addr = parseNumber(this.need(args, 0, 'x/NFU ADDR [CORE]'));
    if (addr === undefined)
      throw new RprocError('EINVAL', 'monitor', `x: "${args[0] ?? ''}" is not an address (0x… or decimal)`);
    const core = this.core(args[1]);
    const len = count * size;
    if (addr + len > 0x1_0000_0000)
      throw new RprocError('EINVAL', 'monitor', `x: ${hex(addr)} + ${len} bytes runs past 4 GiB`);
    const bytes = await this.read(core, addr, len);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const perLine = 16 / size;
    const lines: string[] = [];
    for (let i = 0; i < count; i += perLine) {
      const cells: string[] = [];
      for (let j = i; j < Math.min(count, i + perLine); j++) {
        const off = j * size;
        const u =
          size === 1
            ? view.getUint8(off)
            : size === 2
              ? view.getUint16(off, true)
              : view.getUint32(off, true);
        const s =
          size === 1 ? view.getInt8(off) : size === 2 ? view.getInt16(off, true) : view.getInt32(off, true);
        cells.push(
          format === 'd'
            ? String(s)
            : format === 'u'
              ? String(u)
              : `0x${u.toString(16).padStart(2 * size, '0')}`,
        );
      }
      lines.push(`${(addr + i * size).toString(16).padStart(8, '0')}: ${cells.join(' ')}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Bytes through the core's view: its debug port (devices readable without side effects too), else its address map. */
  private async read(core: SocCore, addr: number, len: number): Promise<Uint8Array> {
    const p = core.debugPort;
    if (p?.online === true) {
      const out = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const part = await p.readMemory(addr + got, len - got);
        if (part.length === 0) break;
        out.set(part, got);
        got += part.length;
      }
      return out;
    }
    const view = core.daToVa(addr, len);
    if (view === undefined)
      throw new RprocError(
        'EFAULT',
        'monitor',
        `${hex(addr)}..${hex(addr + len)} is not memory ${core.name} can see`,
      );
    return view.slice();
  }
}
