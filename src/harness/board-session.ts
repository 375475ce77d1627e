// A virtual board under test: one SoC (deterministic by default) with its lines, expectations,
// channels, faults, optional rpmsg trace and the coredumps of its crashes, driven one step at a
// time — boot, shutdown, crash and recover a core, send on a channel, expect lines in order, wait,
// write a coredump, inject and heal faults. Scenario files (scenario-runner.ts) and the `testing`
// entry's TypeScript API both drive this. Every wait counts the run's clock (virtual in
// deterministic mode); a --fail-on line ends the current step and every later one.

import { ERRNO, RprocError, type ErrnoName } from '../util/errors.ts';
import type { Fdt } from '../soc/fdt/fdt-tree.ts';
import type { FirmwareStore } from '../remoteproc/firmware-store.ts';
import type { RprocCoredump } from '../remoteproc/coredump.ts';
import type { Rproc, RprocEvents } from '../remoteproc/rproc.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RpmsgEndpoint, RxContext } from '../rpmsg/host/rpmsg-endpoint.ts';
import type { RpmsgHostEvents } from '../rpmsg/host/rpmsg-host.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import '../cpu/core-kinds.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { expectLines, watchFailOn, type ExpectMatch, type FailOnHit } from './expect-lines.ts';
import { CRASH_TYPES, injectFault, type ArmedFault, type CrashTypeName, type FaultSpec } from './faults.ts';
import { HarnessError } from './harness-error.ts';
import { describeSource, formatLine, parseLinePattern, type LinePattern } from './line-pattern.ts';
import { RpmsgTraceRecorder } from './rpmsg-trace.ts';
import { socClock, type RunClock } from './run-clock.ts';
import { SocLines, type Line } from './soc-lines.ts';
import { SocTaps } from './soc-taps.ts';
import { Subscriptions } from './subscriptions.ts';

const DEFAULT_STEP_TIMEOUT_MS = 5000;
/** Coredumps kept per core (the newest). */
const DUMPS_KEPT = 4;

export interface BoardSessionOptions {
  /** The board; the embedded default board when absent. */
  readonly board?: Fdt;
  /** Firmware per core name (names in the store, or paths). */
  readonly firmware?: Readonly<Record<string, string>>;
  readonly firmwareStore?: FirmwareStore;
  /** Cores on the SoC's virtual clock in the host thread (default), or each in a worker thread on host time. */
  readonly deterministic?: boolean;
  /** Timeout of a step that waits (expect, recover, send, channel), ms on the run's clock; default 5000. */
  readonly timeoutMs?: number;
  /** Patterns (`[CORE/]SOURCE:REGEX`) that fail the run as soon as a line matches. */
  readonly failOn?: readonly (string | LinePattern)[];
  /** Record the rpmsg traffic as trace events (true, or the ring's capacity). */
  readonly traceRpmsg?: boolean | { readonly capacity?: number };
  /** Keep crash coredumps in memory (for an artefacts folder). */
  readonly keepCoredumps?: boolean;
  /** Per core: false leaves a crashed core crashed until a recover step (default: recover at once). */
  readonly recovery?: Readonly<Record<string, boolean>>;
  /** Called once when a failOn pattern matches (besides ending the current step). */
  readonly onFailOn?: (failure: HarnessError) => void;
}

export interface KeptCoredump {
  readonly core: string;
  /** The crash count at the time (0: taken by a coredump step). */
  readonly crash: number;
  readonly bytes: Uint8Array;
}

interface ChannelEntry {
  readonly core: string;
  readonly name: string;
  readonly channel: RpmsgChannel;
  readonly ept: RpmsgEndpoint;
}

interface Stall {
  readonly core: string | undefined;
  readonly channel: string;
  readonly held: {
    readonly core: string;
    readonly data: Uint8Array;
    readonly release: () => void;
    readonly deliver: ((data: Uint8Array) => void) | undefined;
  }[];
}

export class BoardSession {
  readonly soc: VirtualSoc;
  readonly clock: RunClock;
  readonly lines: SocLines;
  readonly recorder: RpmsgTraceRecorder | undefined;
  readonly timeoutMs: number;
  private readonly taps: SocTaps;
  private readonly subs = new Subscriptions();
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly stalls: Stall[] = [];
  private readonly faults: ArmedFault[] = [];
  private readonly dumps: KeptCoredump[] = [];
  private cursor: number;
  private failure: HarnessError | undefined;
  /** The steps in progress, ended at once when fail-on fires. */
  private readonly running = new Set<(e: HarnessError) => void>();
  private closed = false;
  /** Whether close() closes the SoC (open) or leaves it to its owner (attach). */
  private readonly ownsSoc: boolean;
  /** Set while dumpNow runs: its dump is not a crash dump. */
  private dumping = false;

  private constructor(soc: VirtualSoc, options: BoardSessionOptions, ownsSoc: boolean) {
    this.soc = soc;
    this.ownsSoc = ownsSoc;
    this.clock = socClock(soc);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.lines = new SocLines(soc, this.clock);
    this.cursor = this.lines.nextSeq;
    this.taps = new SocTaps(soc, this.clock);
    const trace = options.traceRpmsg;
    this.recorder =
      trace === undefined || trace === false
        ? undefined
        : new RpmsgTraceRecorder(soc, this.clock, trace === true ? {} : trace);
    this.taps.recorder = this.recorder;
    const failOn = (options.failOn ?? []).map((p) => this.pattern(p, '--fail-on'));
    this.subs.defer(
      watchFailOn(this.lines, failOn, (hit) => {
        const failure = failOnError(hit, this.lines);
        this.failure = failure;
        options.onFailOn?.(failure);
        // No step may be running: then the next one is refused with it.
        for (const stop of [...this.running]) stop(failure);
      }),
    );
    for (const core of soc.cores) {
      if (options.recovery?.[core.name] === false) core.rproc.crash.recoveryDisabled = true;
      if (options.keepCoredumps === true) {
        core.rproc.coredump.mode = 'enabled';
        this.subs.on<RprocEvents, 'coredump'>(core.rproc, 'coredump', (dump) => {
          if (!this.dumping) this.keepDump(core.name, core.rproc.crash.count, dump);
        });
      }
    }
  }

  /** Power on a board: the SoC is made and started (cores boot by steps, or by the board's auto-boot). */
  static async open(options: BoardSessionOptions = {}): Promise<BoardSession> {
    const soc = new VirtualSoc({
      ...(options.board === undefined ? {} : { board: options.board }),
      firmwareStore: options.firmwareStore ?? defaultFirmwareStore(),
      ...(options.firmware === undefined ? {} : { firmware: options.firmware }),
      autoBoot: false,
      ...(options.deterministic === false ? {} : { scheduler: true }),
    });
    const session = new BoardSession(soc, options, true);
    try {
      await soc.start();
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  /**
   * Watch a SoC someone else made and runs (`rproc run`): lines, expectations, fail-on, faults, the
   * rpmsg trace and coredumps, on the SoC's clock. Its options' board, firmware and deterministic
   * are the SoC's business and ignored; close() leaves the SoC running. Messages the owner receives
   * on its own channel endpoints come in through received().
   */
  static attach(soc: VirtualSoc, options: BoardSessionOptions = {}): BoardSession {
    return new BoardSession(soc, options, false);
  }

  /** The coredumps kept so far (keepCoredumps), oldest first. */
  get coredumps(): readonly KeptCoredump[] {
    return this.dumps;
  }

  /** Why the run failed through --fail-on, if it did. */
  get failOnHit(): HarnessError | undefined {
    return this.failure;
  }

  rproc(core: string): Rproc {
    return this.soc.rproc(core);
  }

  // ---- steps ----------------------------------------------------------------------------------

  async boot(core: string): Promise<void> {
    await this.step(() => this.rproc(core).boot());
  }

  async shutdown(core: string): Promise<void> {
    await this.step(() => this.rproc(core).shutdown());
  }

  /** Report a crash of `core` now (as its platform would) and return once the crash is handled. */
  async crash(core: string, type: CrashTypeName = 'fatal'): Promise<void> {
    await this.step(async () => {
      const rproc = this.rproc(core);
      if (rproc.state !== 'running' && rproc.state !== 'attached') {
        throw new HarnessError(
          'step',
          'EINVAL',
          'crash',
          `${core} is ${rproc.state}: there is nothing to crash`,
        );
      }
      const handled = rproc.next('crash');
      rproc.reportCrash(CRASH_TYPES[type], { message: 'crash requested by the test' });
      await handled;
    });
  }

  /** Recover `core` if it is crashed (or wait for its recovery) until it runs again, within the timeout. */
  async recover(core: string, timeoutMs = this.timeoutMs): Promise<void> {
    await this.step(async () => {
      const rproc = this.rproc(core);
      const start = this.clock.now();
      // Read through a function: the awaits in between change it.
      const state = (): string => rproc.state;
      while (state() !== 'running') {
        if (state() === 'crashed') await rproc.crash.recover();
        if (state() === 'running') break;
        const left = timeoutMs - (this.clock.now() - start);
        if (left <= 0 || !(await this.nextState(rproc, left))) {
          throw new HarnessError(
            'step',
            'ETIMEDOUT',
            'recover',
            `${core} is ${rproc.state}, not running, ${timeoutMs} ms ${this.clockName()} after the recover step began`,
            this.lines.tail(10, (l) => l.core === core),
          );
        }
      }
    });
  }

  /** Send `data` on channel `channel` (of `core`, or of whichever core announced it), waiting for the channel and for a TX buffer. */
  async send(
    channel: string,
    data: string | Uint8Array,
    options: { core?: string; timeoutMs?: number } = {},
  ): Promise<void> {
    await this.step(async () => {
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      const start = this.clock.now();
      const entry = await this.endpoint(channel, options.core, timeoutMs);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      for (;;) {
        const rc = entry.ept.trySend(bytes);
        if (rc === 0) return;
        if (rc !== -ERRNO.ENOMEM) {
          throw new HarnessError(
            'step',
            errnoName(-rc),
            'send',
            `send of ${bytes.length} bytes on ${entry.core}/${channel} failed: ${errnoName(-rc)}`,
          );
        }
        if (this.clock.now() - start >= timeoutMs) {
          throw new HarnessError(
            'step',
            'ETIMEDOUT',
            'send',
            `no TX buffer for ${entry.core}/${channel} within ${timeoutMs} ms ${this.clockName()}`,
          );
        }
        // Polled on the run's clock: in deterministic mode a send that waits must not depend on host time.
        await this.clock.sleep(1);
      }
    });
  }

  /**
   * Wait for lines matching `specs`, in order, each within `timeoutMs`, starting after the line the
   * previous expectation matched. Throws HarnessError 'expect-timeout' naming the pattern, where it
   * looked and the last lines seen there.
   */
  async expect(
    specs: string | LinePattern | readonly (string | LinePattern)[],
    options: { timeoutMs?: number; where?: string; onMatch?: (m: ExpectMatch, index: number) => void } = {},
  ): Promise<ExpectMatch[]> {
    const list = (Array.isArray(specs) ? specs : [specs]) as readonly (string | LinePattern)[];
    const patterns = list.map((s) => this.pattern(s, options.where ?? 'expect'));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return this.step(async (signal) => {
      const outcome = await expectLines(this.lines, this.clock, patterns, {
        fromSeq: this.cursor,
        timeoutMs,
        signal,
        ...(options.onMatch === undefined ? {} : { onMatch: options.onMatch }),
      });
      if (outcome.status === 'matched') {
        this.cursor = outcome.nextSeq;
        return [...outcome.matches];
      }
      if (outcome.status === 'aborted')
        throw (
          this.failure ?? new HarnessError('step', 'ECANCELED', 'expect', 'the expectation was abandoned')
        );
      const matched = outcome.matches.at(-1);
      if (matched !== undefined) this.cursor = matched.line.seq + 1;
      const where =
        outcome.lastLinesWhere === 'source'
          ? `on ${describeSource(outcome.pattern)}`
          : 'anywhere (nothing where it looked)';
      const last = outcome.lastLines.at(-1);
      throw new HarnessError(
        'expect-timeout',
        'ETIMEDOUT',
        'expect',
        `expected "${outcome.pattern.spec}" (${describeSource(outcome.pattern)}) within ${timeoutMs} ms ${this.clockName()}; ` +
          (last === undefined ? 'no line was seen at all' : `last line ${where}: ${formatLine(last)}`),
        outcome.lastLines,
        { spec: outcome.pattern.spec, source: describeSource(outcome.pattern) },
      );
    });
  }

  /** Let `ms` pass on the run's clock (virtual in deterministic mode). */
  async wait(ms: number): Promise<void> {
    await this.step(async (signal) => {
      const ac = new AbortController();
      signal.addEventListener('abort', () => ac.abort(), { once: true });
      this.lines.watch(ac.signal);
      try {
        await this.clock.sleep(ms, signal);
      } finally {
        ac.abort();
      }
    });
  }

  /** A coredump of `core` as it is now (an ELF core gdb reads), kept with the crash dumps. */
  async coredump(core: string): Promise<Uint8Array> {
    return this.step(async () => {
      const bytes = await this.dumpNow(core);
      if (bytes === undefined) {
        throw new HarnessError(
          'step',
          'ENODATA',
          'coredump',
          `${core} (${this.rproc(core).state}) has nothing to dump: no firmware segments are loaded`,
        );
      }
      this.keepDump(core, 0, undefined, bytes);
      return bytes;
    });
  }

  /** A coredump of `core` now, outside the steps (an artefacts folder after a failure); undefined if nothing is loaded. */
  async dumpNow(core: string): Promise<Uint8Array | undefined> {
    const rproc = this.rproc(core);
    const mode = rproc.coredump.mode;
    let got: RprocCoredump | undefined;
    const listener = (d: RprocCoredump): void => {
      got = d;
    };
    rproc.on('coredump', listener);
    rproc.coredump.mode = 'enabled';
    this.dumping = true;
    try {
      await rproc.coredump.run();
    } finally {
      this.dumping = false;
      rproc.off('coredump', listener);
      rproc.coredump.mode = mode;
    }
    const dump = got;
    if (dump === undefined) return undefined;
    const bytes = dump.bytes();
    dump.release();
    return bytes;
  }

  /** Inject a fault (faults.ts), or stall the host side of channel `channel`; heals after `forMs` if given. */
  fault(
    spec: FaultSpec | { readonly kind: 'stall'; readonly channel: string; readonly core?: string },
    forMs?: number,
  ): ArmedFault {
    if (this.closed) throw new RprocError('ESHUTDOWN', 'fault', 'the board session is closed');
    const fault =
      spec.kind === 'stall'
        ? this.stall(spec.channel, spec.core, forMs)
        : injectFault(
            {
              soc: this.soc,
              taps: this.taps,
              lines: this.lines,
              clock: this.clock,
              recorder: () => this.recorder,
            },
            spec,
            forMs,
          );
    this.faults.push(fault);
    return fault;
  }

  /** Heal every active fault (of `core`, and of `kind`, when given); returns how many. */
  heal(core?: string, kind?: ArmedFault['kind']): number {
    let n = 0;
    for (const f of this.faults) {
      if (
        !f.active ||
        (core !== undefined && f.core !== undefined && f.core !== core) ||
        (kind !== undefined && f.kind !== kind)
      )
        continue;
      f.heal();
      n++;
    }
    return n;
  }

  /** The last `n` lines (all sources), formatted `core source: text`. */
  tail(n = 50): string[] {
    return this.lines.tail(n).map(formatLine);
  }

  /** Shut everything down (faults healed, cores stopped, SoC closed); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.faults) if (f.active) f.heal();
    this.lines.close();
    this.subs.dispose();
    this.taps.close();
    this.recorder?.detach();
    if (this.ownsSoc) await this.soc.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  /**
   * Run a step: refused once fail-on fired, and ended by it. (Not a race with one long-lived
   * promise: every race would leave a reaction on it, and a 100-cycle run would keep them all.)
   */
  private async step<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closed) throw new RprocError('ESHUTDOWN', 'step', 'the board session is closed');
    if (this.failure !== undefined) throw this.failure;
    const ac = new AbortController();
    let stop: (e: HarnessError) => void = () => undefined;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    const onFail = (e: HarnessError): void => {
      ac.abort();
      stop(e);
    };
    this.running.add(onFail);
    try {
      return await Promise.race([body(ac.signal), stopped]);
    } finally {
      this.running.delete(onFail);
      ac.abort();
    }
  }

  private pattern(spec: string | LinePattern, where: string): LinePattern {
    const p = typeof spec === 'string' ? parseLinePattern(spec, where) : spec;
    if (p.core !== undefined) this.soc.core(p.core);
    return p;
  }

  private clockName(): string {
    return this.clock.virtual ? '(virtual time)' : '(host time)';
  }

  /** Resolves true on the processor's next state change, false after `ms` on the run's clock. */
  private nextState(rproc: Rproc, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const ac = new AbortController();
      const onState = (): void => {
        ac.abort();
        rproc.off('state', onState);
        resolve(true);
      };
      rproc.on('state', onState);
      void this.clock.sleep(ms, ac.signal).then(() => {
        if (ac.signal.aborted) return;
        rproc.off('state', onState);
        resolve(false);
      });
    });
  }

  private liveChannel(name: string, core: string | undefined): RpmsgChannel | undefined {
    for (const d of this.soc.rpmsg.buses) {
      if (d.removed || (core !== undefined && d.vdev.parentName !== core)) continue;
      const ch = d.channelList.find((c) => c.name === name && !c.removed);
      if (ch !== undefined) return ch;
    }
    return undefined;
  }

  private waitChannel(name: string, core: string | undefined, timeoutMs: number): Promise<RpmsgChannel> {
    if (core !== undefined) this.soc.core(core);
    const now = this.liveChannel(name, core);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const ac = new AbortController();
      const onChannel = (e: RpmsgHostEvents['channel']): void => {
        if (
          e.action !== 'add' ||
          e.channel.name !== name ||
          (core !== undefined && e.device.vdev.parentName !== core)
        )
          return;
        ac.abort();
        this.soc.rpmsg.off('channel', onChannel);
        resolve(e.channel);
      };
      this.soc.rpmsg.on('channel', onChannel);
      void this.clock.sleep(timeoutMs, ac.signal).then(() => {
        if (ac.signal.aborted) return;
        this.soc.rpmsg.off('channel', onChannel);
        const known = this.soc.rpmsg.buses.flatMap((d) =>
          d.channelList.map((c) => `${d.vdev.parentName}/${c.name}`),
        );
        reject(
          new HarnessError(
            'step',
            'ETIMEDOUT',
            'channel',
            `no channel "${name}" announced by ${core ?? 'any core'} within ${timeoutMs} ms ${this.clockName()} (channels now: ${known.length === 0 ? 'none' : known.join(', ')})`,
          ),
        );
      });
    });
  }

  /** Our endpoint on the live channel `name`: reused while the channel lives, opened anew after it is re-announced. */
  private async endpoint(name: string, core: string | undefined, timeoutMs: number): Promise<ChannelEntry> {
    const channel = await this.waitChannel(name, core, timeoutMs);
    const owner = this.ownerOf(channel);
    const key = `${owner}/${name}`;
    const known = this.channels.get(key);
    if (known !== undefined && known.channel === channel && !known.ept.destroyed) return known;
    const ept = channel.open((data, _src, ctx) => this.received(owner, name, data, ctx));
    const entry = { core: owner, name, channel, ept };
    this.channels.set(key, entry);
    return entry;
  }

  private ownerOf(channel: RpmsgChannel): string {
    for (const d of this.soc.rpmsg.buses) if (d.channelList.includes(channel)) return d.vdev.parentName;
    return '?';
  }

  /**
   * A message on channel `channel` of `core`, from an endpoint of the session's (or its owner's,
   * for an attached session): a line, or held while a stall of that channel is in force.
   * `deliver` is what the owner does with it (print it): called now, or when the stall heals.
   */
  received(
    core: string,
    channel: string,
    data: Uint8Array,
    ctx: RxContext,
    deliver?: (data: Uint8Array) => void,
  ): void {
    const stall = this.stalls.find((s) => s.channel === channel && (s.core === undefined || s.core === core));
    if (stall === undefined) {
      this.lines.channelMessage(core, channel, data);
      deliver?.(data);
      return;
    }
    // The host side stops: the message and its buffer stay with us until the stall heals, so the
    // remote sees its TX buffers run out.
    stall.held.push({ core, data, release: ctx.hold(), deliver });
  }

  private stall(channel: string, core: string | undefined, forMs: number | undefined): ArmedFault {
    if (core !== undefined) this.soc.core(core);
    const stall: Stall = { core, channel, held: [] };
    this.stalls.push(stall);
    let active = true;
    const recorder = this.recorder;
    for (const c of this.soc.cores)
      if (core === undefined || c.name === core) recorder?.fault(c.name, `stall host side of ${channel}`);
    const fault: ArmedFault = {
      kind: 'stall',
      core,
      get active() {
        return active;
      },
      heal: () => {
        if (!active) return;
        active = false;
        this.stalls.splice(this.stalls.indexOf(stall), 1);
        // Delivered in order, then each buffer goes back to the remote.
        for (const h of stall.held.splice(0)) {
          if (!this.closed) {
            this.lines.channelMessage(h.core, channel, h.data);
            h.deliver?.(h.data);
          }
          h.release();
        }
        for (const c of this.soc.cores)
          if (core === undefined || c.name === core) recorder?.fault(c.name, `stall of ${channel} healed`);
      },
    };
    if (forMs !== undefined) void this.clock.sleep(forMs).then(() => fault.heal());
    return fault;
  }

  private keepDump(core: string, crash: number, dump: RprocCoredump | undefined, bytes?: Uint8Array): void {
    const data = bytes ?? dump?.bytes();
    if (data === undefined) return;
    this.dumps.push({ core, crash, bytes: data });
    const mine = this.dumps.filter((d) => d.core === core);
    if (mine.length > DUMPS_KEPT) this.dumps.splice(this.dumps.indexOf(mine[0] as KeptCoredump), 1);
  }
}

function failOnError(hit: FailOnHit, lines: SocLines): HarnessError {
  return new HarnessError(
    'fail-on',
    'ECANCELED',
    'fail-on',
    `--fail-on "${hit.pattern.spec}" matched ${formatLine(hit.line)}`,
    lines.tail(10).filter((l: Line) => l.seq <= hit.line.seq),
    { spec: hit.pattern.spec, source: describeSource(hit.pattern) },
  );
}

function errnoName(errno: number): ErrnoName {
  const found = (Object.keys(ERRNO) as ErrnoName[]).find((k) => ERRNO[k] === errno);
  return found ?? 'EIO';
}
