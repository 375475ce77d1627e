// rproc run's debugging options: --gdb PORT (QEMU's -gdb tcp::PORT: the GDB stub, src/gdb, on the
// board's rv32 cores), --gdb-wait (QEMU's -S: the cores wait at their entry point for gdb) and
// --monitor (QEMU-monitor-style commands from stdin, src/monitor). Also the run's rule for time
// while a debugger holds a core: --timeout and channel waits do not count it (docs/debugging.md).

import { createInterface, type Interface } from 'node:readline';
import { GdbServer, GDB_DEFAULT_HOST } from '../gdb/gdb-server.ts';
import { Monitor } from '../monitor/monitor.ts';
import type { CoreDebugPort } from '../soc/debug/core-debug-port.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { RprocError } from '../util/errors.ts';
import { UsageError, type OptionSpec, type OptionValues } from './command.ts';

export const DEBUG_RUN_OPTIONS: OptionSpec = {
  gdb: { type: 'string' },
  'gdb-wait': { type: 'boolean' },
  monitor: { type: 'boolean' },
};

export const DEBUG_RUN_HELP: readonly string[] = [
  "  --gdb PORT             serve gdb on 127.0.0.1:PORT (QEMU's -gdb tcp::PORT; HOST:PORT listens on HOST;",
  '                         0 picks a free port); `target remote :PORT` in gdb; kill in gdb ends the run',
  "  --gdb-wait             hold the rv32 cores at their entry point until gdb continues (QEMU's -S)",
  '  --monitor              monitor commands from stdin, one per line (info cores, stop/cont CORE,',
  '                         x/4w ADDR, coredump CORE, help); gdb reaches them with `monitor CMD`',
];

/** Longest wait setTimeout takes: a channel wait while a debugger may hold the cores has no bound. */
const UNBOUNDED_MS = 0x7fff_ffff;
/** How often a --timeout looks whether a core is held (host time). */
const HELD_POLL_MS = 20;

export interface GdbAddress {
  readonly host: string;
  readonly port: number;
}

export interface DebugRunOptions {
  readonly gdb: GdbAddress | undefined;
  readonly gdbWait: boolean;
  readonly monitor: boolean;
}

/**
 * `PORT`, `:PORT` or `tcp::PORT` (loopback), `HOST:PORT`, `tcp:HOST:PORT` or `[HOST]:PORT` (there).
 * PORT is 0..65535 (0: a free one).
 */
export function parseGdbAddress(text: string): GdbAddress {
  const t = text.startsWith('tcp:') ? text.slice(4) : text;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(.*)$/.exec(t);
  const host = m === null ? '' : (m[1] ?? m[2] ?? '');
  const portText = m === null ? t : (m[3] ?? '');
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port > 65535)
    throw new UsageError(`--gdb takes PORT, tcp::PORT or HOST:PORT (PORT 0..65535), not "${text}"`);
  return { host: host === '' ? GDB_DEFAULT_HOST : host, port };
}

export function parseDebugRunOptions(values: OptionValues): DebugRunOptions {
  const raw = values['gdb'];
  const gdb = typeof raw === 'string' ? parseGdbAddress(raw) : undefined;
  const gdbWait = values['gdb-wait'] === true;
  const monitor = values['monitor'] === true;
  if (gdbWait && gdb === undefined) throw new UsageError('--gdb-wait needs --gdb PORT');
  if (monitor && typeof values['console'] === 'string')
    throw new UsageError('--monitor and --console both want stdin: choose one');
  if (monitor && values['uart-stdin'] === true)
    throw new UsageError('--monitor and --uart-stdin both want stdin: choose one');
  return { gdb, gdbWait, monitor };
}

export interface DebugRunHooks {
  /** An event line (text and JSON forms), as the run's reporter says them. */
  readonly say: (event: Record<string, unknown> & { readonly event: string }, text: string) => void;
  /** Raw text for stdout (the monitor's answers in text mode). */
  readonly out: (text: string) => void;
  readonly json: boolean;
  /** End the run (gdb's kill, the monitor's quit). */
  readonly stop: () => void;
  /** Where the monitor's coredump command writes by default (--coredump DIR). */
  readonly coredumpDir?: string;
}

/** The debugging side of one `rproc run`: nothing at all when no option asked for it. */
export class DebugRun {
  private readonly soc: VirtualSoc;
  private readonly o: DebugRunOptions;
  private readonly hooks: DebugRunHooks;
  private server: GdbServer | undefined;
  private lines: Interface | undefined;

  constructor(soc: VirtualSoc, options: DebugRunOptions, hooks: DebugRunHooks) {
    this.soc = soc;
    this.o = options;
    this.hooks = hooks;
  }

  get active(): boolean {
    return this.o.gdb !== undefined || this.o.monitor;
  }

  private get ports(): CoreDebugPort[] {
    return this.soc.cores.flatMap((c) => (c.debugPort === undefined ? [] : [c.debugPort]));
  }

  /** Whether a debugger (gdb, the monitor's stop) holds any core right now. */
  get held(): boolean {
    return this.ports.some((p) => p.online && p.held);
  }

  /**
   * Before the cores start: with --gdb the run's core must be one gdb can debug; with --gdb-wait
   * every rv32 core waits at its entry point when it starts.
   */
  prepare(runCore: SocCore): void {
    if (this.o.gdb !== undefined && runCore.debugPort === undefined)
      throw new RprocError(
        'EINVAL',
        'run',
        `--gdb: ${runCore.name} is a ${runCore.spec.kind} core, which gdb cannot debug (rv32 cores only)`,
      );
    if (this.o.gdbWait) for (const p of this.ports) p.holdAtNextStart();
  }

  /** After the boot: the GDB server (its address said) and the monitor on stdin. */
  async start(firmwareFile: string | undefined): Promise<void> {
    const monitor = this.active
      ? new Monitor(this.soc, {
          quit: this.hooks.stop,
          ...(this.hooks.coredumpDir === undefined ? {} : { coredumpDir: this.hooks.coredumpDir }),
        })
      : undefined;
    if (this.o.gdb !== undefined) {
      const server = await GdbServer.listen({
        cores: this.ports,
        port: this.o.gdb.port,
        host: this.o.gdb.host,
        ...(monitor === undefined ? {} : { monitor: (cmd: string) => monitor.execute(cmd) }),
        log: (line) => this.hooks.say({ event: 'gdb-log', message: line }, line),
      });
      this.server = server;
      const { host, port } = server.address();
      const held = this.ports.filter((p) => p.online && p.held).map((p) => p.name);
      const connect = `gdb-multiarch${firmwareFile === undefined ? '' : ` ${firmwareFile}`} -ex 'target remote ${host === GDB_DEFAULT_HOST ? '' : host}:${port}'`;
      this.hooks.say(
        { event: 'gdb', host, port, held, connect },
        `gdb: listening on ${host}:${port}${held.length === 0 ? '' : ` (${held.join(', ')} held at the entry point)`}; connect with: ${connect}`,
      );
      server.on('connect', ({ remote }) =>
        this.hooks.say({ event: 'gdb-connect', remote }, `gdb: connected from ${remote}`),
      );
      server.on('disconnect', ({ remote }) =>
        this.hooks.say({ event: 'gdb-disconnect', remote }, `gdb: ${remote} disconnected; the cores run on`),
      );
      server.on('kill', () => {
        this.hooks.say({ event: 'gdb-kill' }, 'gdb: kill: ending the run');
        this.hooks.stop();
      });
    }
    if (this.o.monitor && monitor !== undefined) {
      const lines = createInterface({ input: process.stdin });
      this.lines = lines;
      // One command at a time, in order: an answer is out before the next command runs.
      let queue = Promise.resolve();
      lines.on('line', (line) => {
        queue = queue.then(async () => {
          const output = await monitor.execute(line);
          if (this.hooks.json) this.hooks.say({ event: 'monitor', command: line, output }, output);
          else this.hooks.out(output);
        });
      });
    }
  }

  /** How long a channel wait may take: no bound while gdb may hold the cores at a breakpoint. */
  channelWaitMs(defaultMs: number): number {
    return this.o.gdb === undefined ? defaultMs : UNBOUNDED_MS;
  }

  /**
   * Calls `then` after `ms` of host time during which no core was held by a debugger (a run's
   * --timeout on host time); returns the cancel. Virtual time needs none of this: it stands still
   * while a core is held.
   */
  afterRunningFor(ms: number, then: () => void): () => void {
    if (!this.active) {
      const timer = setTimeout(then, ms);
      return () => clearTimeout(timer);
    }
    let left = ms;
    let last = performance.now();
    const timer = setInterval(
      () => {
        const now = performance.now();
        if (!this.held) left -= now - last;
        last = now;
        if (left > 0) return;
        clearInterval(timer);
        then();
      },
      Math.min(HELD_POLL_MS, ms),
    );
    return () => clearInterval(timer);
  }

  /** The run ends: a gdb waiting for a stop hears the program exited; the server and stdin close. */
  async close(exitCode = 0): Promise<void> {
    this.lines?.close();
    this.lines = undefined;
    const server = this.server;
    this.server = undefined;
    await server?.close(exitCode);
  }
}
