// One gdb connection: the GDB remote serial protocol's packets (GDB manual, "Packets", "General
// Query Packets", "Stop Reply Packets") over the SoC's rv32 cores, each of which is a gdb thread
// (id = board index + 1; js cores have no debug port and are not listed). All-stop (GDB manual,
// "All-Stop Mode"): when one core stops every other is halted before the stop reply goes out, one
// reply per resume, and a stop that happened meanwhile on another core is kept and reported at the
// next resume instead of running anything. Breakpoints and watch points apply to every core (one
// program, as QEMU's CPUs); software breakpoints never write memory (QEMU's way). A core that
// starts while gdb has everything stopped is halted too.

import { ERRNO, RprocError } from '../util/errors.ts';
import type { CoreDebugPort } from '../soc/debug/core-debug-port.ts';
import type { DebugAccess, DebugPoint, DebugStop } from '../soc/debug/debug-protocol.ts';
import { unescapeBinary } from './rsp-framing.ts';
import {
  THREAD_ALL,
  THREAD_ANY,
  errorReply,
  errorReplyOf,
  hexBytes,
  hexText,
  parseHex32,
  parseHexBytes,
  parseHexClamped,
  parseThreadId,
  textOfHex,
  threadIdText,
} from './rsp-values.ts';
import { G_REGISTERS, REG_PC, parseRegHex, regHex, registerRef, targetXml } from './target-description.ts';

/** Largest packet we accept and send, in bytes (advertised as PacketSize). */
export const PACKET_SIZE = 0x4000;
/** Most bytes one `m` reply carries (two hex digits each, some room for framing). */
const MAX_READ = (PACKET_SIZE - 16) / 2;

const SIGINT = 2;
const SIGILL = 4;
const SIGTRAP = 5;
const SIGBUS = 7;
const SIGSEGV = 11;

export interface GdbSessionOptions {
  /** The debug ports of the cores gdb sees (rv32 cores). */
  readonly cores: readonly CoreDebugPort[];
  /** Send one packet body (the server frames it). */
  readonly send: (data: string) => void;
  /** Tell the client the connection is over and close it. */
  readonly hangUp: () => void;
  /** gdb's `monitor` command (qRcmd): the text it prints; absent: unsupported. */
  readonly monitor?: (command: string) => Promise<string>;
  /** gdb sent `k` (or vKill): the owner decides what ends (rproc run ends the run). */
  readonly kill: () => void;
  /** Whether the cores are held by gdb (a stop reported) or running on its behalf. */
  readonly held?: (on: boolean) => void;
  readonly log?: (line: string) => void;
}

type Action = { readonly act: 'c' | 's'; readonly tid: number };

/** The signal gdb reports for a stop. */
function signalOf(stop: DebugStop, interrupted: boolean): number {
  const r = stop.reason;
  if (r.kind === 'halt') return interrupted ? SIGINT : SIGTRAP;
  if (r.kind !== 'fault') return SIGTRAP;
  const cause = r.cause >>> 0;
  if (cause === 1 || cause === 5 || cause === 7) return SIGSEGV;
  if (cause === 2) return SIGILL;
  if (cause === 0 || cause === 4 || cause === 6) return SIGBUS;
  if (cause === 3 || cause === 11) return SIGTRAP;
  return SIGSEGV;
}

const WATCH_KEYWORD: Readonly<Record<DebugAccess, string>> = {
  write: 'watch',
  read: 'rwatch',
  access: 'awatch',
};

export class GdbSession {
  private readonly o: GdbSessionOptions;
  private readonly features = new Set<string>();
  private gThread = THREAD_ANY;
  private cThread = THREAD_ANY;
  /** A resume is out: the next stop of any core is reported (once). */
  private running = false;
  /** Stops that happened while another was being reported, by thread id. */
  private readonly pending = new Map<number, DebugStop>();
  private last: { readonly tid: number; readonly stop: DebugStop; readonly signal: number } | undefined;
  private closed = false;
  private readonly listeners: (() => void)[] = [];

  constructor(o: GdbSessionOptions) {
    this.o = o;
  }

  private tidOf(core: CoreDebugPort): number {
    return core.index + 1;
  }

  private online(): CoreDebugPort[] {
    return this.o.cores.filter((c) => c.online);
  }

  private core(tid: number): CoreDebugPort | undefined {
    const cores = this.online();
    if (tid === THREAD_ANY || tid === THREAD_ALL) return cores[0];
    return cores.find((c) => this.tidOf(c) === tid);
  }

  /** The connection opened: gdb finds every core halted (QEMU stops the machine on connect). */
  async start(): Promise<void> {
    for (const core of this.o.cores) {
      const onStop = (stop: DebugStop): void => this.coreStopped(core, stop);
      const onOnline = (): void => this.coreOnline(core);
      core.on('stop', onStop);
      core.on('online', onOnline);
      this.listeners.push(() => {
        core.off('stop', onStop);
        core.off('online', onOnline);
      });
    }
    for (const core of this.o.cores) await core.attach(true);
    for (const core of this.online()) {
      const stop = await core.halt();
      this.last ??= { tid: this.tidOf(core), stop, signal: signalOf(stop, false) };
    }
    // How gdb finds the cores (held at their entry point, say) is no event to report later: a core
    // reports its stops before it answers, so everything they said before now has arrived.
    this.pending.clear();
    this.o.held?.(true);
  }

  /** The connection is gone (detached, killed or dropped): gdb's points go and the cores run on. */
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    for (const off of this.listeners.splice(0)) off();
    for (const core of this.o.cores) {
      try {
        await core.release();
        if (core.online) await core.resume();
      } catch (e) {
        this.o.log?.(`gdb: releasing ${core.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.o.held?.(false);
  }

  /** The run is over: a gdb waiting for a stop hears that the program exited with `code`. */
  exited(code: number): void {
    if (this.running && !this.closed) this.o.send(`W${(code & 0xff).toString(16).padStart(2, '0')}`);
    this.running = false;
  }

  // ---- stops -------------------------------------------------------------------------------

  private coreStopped(core: CoreDebugPort, stop: DebugStop): void {
    if (this.closed) return;
    const tid = this.tidOf(core);
    if (!this.running) {
      this.pending.set(tid, stop);
      return;
    }
    this.running = false;
    void this.report(tid, stop, false);
  }

  private coreOnline(core: CoreDebugPort): void {
    if (this.closed || this.running) return;
    // All-stop: gdb believes every core is stopped.
    void core
      .halt()
      .catch((e: unknown) =>
        this.o.log?.(`gdb: halting ${core.name}: ${e instanceof Error ? e.message : String(e)}`),
      );
  }

  /** Halt every core but `except`; real stops they report meanwhile are kept for later. */
  private async stopAll(except: number | undefined): Promise<void> {
    for (const core of this.online()) {
      const tid = this.tidOf(core);
      if (tid === except) continue;
      try {
        const stop = await core.halt();
        // A core that had stopped by itself (its event may still be on its way) keeps that stop;
        // one that was only held (halted, at its entry point, after a step) has nothing to report.
        const k = stop.reason.kind;
        if ((k === 'breakpoint' || k === 'watch' || k === 'fault') && !this.pending.has(tid))
          this.pending.set(tid, stop);
      } catch (e) {
        // A core that stopped running meanwhile (recovery) is no thread any more.
        this.o.log?.(`gdb: halting ${core.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private async report(tid: number, stop: DebugStop, interrupted: boolean): Promise<void> {
    await this.stopAll(tid);
    if (this.closed) return;
    const signal = signalOf(stop, interrupted);
    this.last = { tid, stop, signal };
    this.gThread = tid;
    this.cThread = tid;
    this.o.held?.(true);
    this.o.send(this.stopReply(tid, stop, signal));
  }

  private stopReply(tid: number, stop: DebugStop, signal: number): string {
    let reply = `T${signal.toString(16).padStart(2, '0')}thread:${threadIdText(tid)};`;
    const r = stop.reason;
    if (r.kind === 'breakpoint') {
      const key = r.hard ? 'hwbreak' : 'swbreak';
      if (this.features.has(key)) reply += `${key}:;`;
    } else if (r.kind === 'watch') {
      reply += `${WATCH_KEYWORD[r.access]}:${(r.addr >>> 0).toString(16)};`;
    }
    return reply;
  }

  /** The 0x03 byte: stop everything and say so (SIGINT, as QEMU). */
  interrupt(): void {
    if (!this.running || this.closed) return;
    this.running = false;
    const core = this.core(this.cThread) ?? this.online()[0];
    if (core === undefined) return;
    void (async () => {
      try {
        const stop = await core.halt();
        await this.report(this.tidOf(core), stop, stop.reason.kind === 'halt');
      } catch (e) {
        this.o.log?.(`gdb: interrupt: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
  }

  // ---- packets ------------------------------------------------------------------------------

  /** Answer one packet: the reply body, or undefined when the reply comes later (a resume) or never (k). */
  async handle(data: string): Promise<string | undefined> {
    try {
      return await this.dispatch(data);
    } catch (e) {
      this.o.log?.(`gdb: ${data.slice(0, 40)}: ${e instanceof Error ? e.message : String(e)}`);
      return errorReplyOf(e);
    }
  }

  private async dispatch(data: string): Promise<string | undefined> {
    const head = data.charAt(0);
    const rest = data.slice(1);
    switch (head) {
      case '?':
        return this.question();
      case 'g':
        return this.readAll();
      case 'G':
        return this.writeAll(rest);
      case 'p':
        return this.readOne(rest);
      case 'P':
        return this.writeOne(rest);
      case 'm':
        return this.readMemory(rest);
      case 'M':
        return this.writeMemory(rest, false);
      case 'X':
        return this.writeMemory(rest, true);
      case 'c':
      case 's':
        return this.legacyResume(head, rest);
      case 'C':
      case 'S':
        // C sig[;addr]: the signal cannot be delivered to a bare-metal core; resume as c/s.
        return this.legacyResume(
          head === 'C' ? 'c' : 's',
          rest.includes(';') ? rest.slice(rest.indexOf(';') + 1) : '',
        );
      case 'H':
        return this.setThread(rest);
      case 'T':
        return this.threadAlive(rest);
      case 'Z':
      case 'z':
        return this.point(head === 'Z', rest);
      case 'D':
        await this.end();
        this.o.send('OK');
        this.o.hangUp();
        return undefined;
      case 'k':
        await this.end();
        this.o.kill();
        this.o.hangUp();
        return undefined;
      case 'q':
        return this.query(rest);
      case 'Q':
        return this.set(rest);
      case 'v':
        return this.vPacket(rest);
      default:
        return '';
    }
  }

  private question(): string {
    const last = this.last;
    if (last !== undefined && this.core(last.tid) !== undefined)
      return this.stopReply(last.tid, last.stop, last.signal);
    const core = this.online()[0];
    return core === undefined ? 'W00' : `T05thread:${threadIdText(this.tidOf(core))};`;
  }

  private target(tid: number): CoreDebugPort {
    const core = this.core(tid);
    if (core === undefined)
      throw new RprocError('ESRCH', 'gdb', `no thread ${tid} (the core is not running)`);
    return core;
  }

  private async readAll(): Promise<string> {
    const regs = await this.target(this.gThread).readRegisters();
    return regs.slice(0, G_REGISTERS).map(regHex).join('');
  }

  private async writeAll(body: string): Promise<string> {
    if (body.length % 8 !== 0 || body.length > 8 * G_REGISTERS) return errorReply(ERRNO.EINVAL);
    const values: number[] = [];
    for (let i = 0; i < body.length; i += 8) {
      const v = parseRegHex(body.slice(i, i + 8));
      if (v === undefined) return errorReply(ERRNO.EINVAL);
      values.push(v);
    }
    const core = this.target(this.gThread);
    for (let i = 1; i < values.length; i++) await core.writeRegister(i, values[i] ?? 0);
    return 'OK';
  }

  private async readOne(body: string): Promise<string> {
    const n = parseHex32(body);
    const ref = n === undefined ? undefined : registerRef(n);
    if (ref === undefined) return errorReply(ERRNO.EINVAL);
    const core = this.target(this.gThread);
    if (ref.kind === 'priv') return regHex(3); // machine mode, always
    if (ref.kind === 'csr') return regHex(await core.readCsr(ref.csr));
    const regs = await core.readRegisters();
    return regHex(regs[ref.index] ?? 0);
  }

  private async writeOne(body: string): Promise<string> {
    const eq = body.indexOf('=');
    const n = parseHex32(body.slice(0, eq));
    const v = parseRegHex(body.slice(eq + 1));
    const ref = n === undefined ? undefined : registerRef(n);
    if (eq < 0 || ref === undefined || v === undefined) return errorReply(ERRNO.EINVAL);
    const core = this.target(this.gThread);
    if (ref.kind === 'priv') return v === 3 ? 'OK' : errorReply(ERRNO.EINVAL);
    if (ref.kind === 'csr') await core.writeCsr(ref.csr, v);
    else await core.writeRegister(ref.index, v);
    return 'OK';
  }

  private async readMemory(body: string): Promise<string> {
    const [a, l] = body.split(',');
    const addr = parseHex32(a ?? '');
    const len = parseHexClamped(l ?? '', MAX_READ);
    if (addr === undefined || len === undefined) return errorReply(ERRNO.EINVAL);
    if (len === 0) return '';
    const bytes = await this.target(this.gThread).readMemory(addr, Math.min(len, 0x1_0000_0000 - addr));
    return hexBytes(bytes);
  }

  private async writeMemory(body: string, binary: boolean): Promise<string> {
    const colon = body.indexOf(':');
    if (colon < 0) return errorReply(ERRNO.EINVAL);
    const [a, l] = body.slice(0, colon).split(',');
    const addr = parseHex32(a ?? '');
    const len = parseHex32(l ?? '');
    const payload = body.slice(colon + 1);
    const bytes = binary ? unescapeBinary(payload) : parseHexBytes(payload);
    if (addr === undefined || len === undefined || bytes === undefined || bytes.length !== len)
      return errorReply(ERRNO.EINVAL);
    if (addr + len > 0x1_0000_0000) return errorReply(ERRNO.EFAULT);
    // X with length 0 is gdb probing whether binary writes work.
    if (len > 0) await this.target(this.gThread).writeMemory(addr, bytes);
    return 'OK';
  }

  private setThread(body: string): string {
    const op = body.charAt(0);
    const tid = parseThreadId(body.slice(1));
    if ((op !== 'g' && op !== 'c') || tid === undefined) return errorReply(ERRNO.EINVAL);
    if (tid !== THREAD_ALL && tid !== THREAD_ANY && this.core(tid) === undefined)
      return errorReply(ERRNO.ESRCH);
    if (op === 'g') this.gThread = tid;
    else this.cThread = tid;
    return 'OK';
  }

  private threadAlive(body: string): string {
    const tid = parseThreadId(body);
    return tid !== undefined && tid > 0 && this.core(tid) !== undefined ? 'OK' : errorReply(ERRNO.ESRCH);
  }

  private async point(insert: boolean, body: string): Promise<string> {
    const [t = '', a, k] = body.split(',');
    const addr = parseHex32(a ?? '');
    const kind = parseHex32((k ?? '').split(';')[0] ?? '');
    if (addr === undefined || kind === undefined) return errorReply(ERRNO.EINVAL);
    let point: DebugPoint;
    switch (t) {
      case '0':
        point = { type: 'soft', addr };
        break;
      case '1':
        point = { type: 'hard', addr };
        break;
      case '2':
      case '3':
      case '4': {
        if (kind === 0 || kind > 0x1000) return errorReply(ERRNO.EINVAL);
        const access: DebugAccess = t === '2' ? 'write' : t === '3' ? 'read' : 'access';
        point = { type: 'watch', access, addr, len: kind };
        break;
      }
      default:
        return '';
    }
    const done: CoreDebugPort[] = [];
    try {
      for (const core of this.o.cores) {
        if (insert) await core.insert(point);
        else await core.remove(point);
        done.push(core);
      }
    } catch (e) {
      // All or nothing: a core without a free trigger takes the point back from the others.
      if (insert) for (const core of done) await core.remove(point).catch(() => undefined);
      throw e;
    }
    return 'OK';
  }

  // ---- resuming -------------------------------------------------------------------------------

  private async legacyResume(act: 'c' | 's', addrText: string): Promise<undefined | string> {
    if (addrText !== '') {
      const addr = parseHex32(addrText);
      if (addr === undefined) return errorReply(ERRNO.EINVAL);
      await this.target(this.cThread).writeRegister(REG_PC, addr);
    }
    const tid = this.core(this.cThread) === undefined ? THREAD_ALL : this.cThread;
    // `c` runs every core; `s` steps the selected one, the others staying stopped.
    await this.resume(
      act === 'c' ? [{ act, tid: THREAD_ALL }] : [{ act, tid: tid === THREAD_ANY ? THREAD_ALL : tid }],
      act === 's',
    );
    return undefined;
  }

  private parseVCont(body: string): Action[] | undefined {
    const actions: Action[] = [];
    for (const part of body.split(';')) {
      if (part === '') continue;
      const colon = part.indexOf(':');
      const verb = colon < 0 ? part : part.slice(0, colon);
      const tid = colon < 0 ? THREAD_ALL : parseThreadId(part.slice(colon + 1));
      if (tid === undefined) return undefined;
      const c = verb.charAt(0);
      // C/S carry a signal, which a bare-metal core cannot take: resumed as c/s.
      if (c === 'c' || c === 'C') actions.push({ act: 'c', tid });
      else if (c === 's' || c === 'S') actions.push({ act: 's', tid });
      else return undefined;
    }
    return actions;
  }

  /**
   * Resume per the actions (leftmost match wins, GDB manual "vCont"): a kept stop of a thread to
   * be resumed is reported at once instead. `onlyListed`: cores no action names stay stopped.
   */
  private async resume(actions: readonly Action[], onlyListed = false): Promise<void> {
    const plan = new Map<CoreDebugPort, 'c' | 's'>();
    for (const core of this.online()) {
      const tid = this.tidOf(core);
      const a = actions.find(
        (x) => x.tid === tid || x.tid === THREAD_ALL || (x.tid === THREAD_ANY && !onlyListed),
      );
      if (a !== undefined) plan.set(core, a.act);
    }
    for (const [core] of plan) {
      const tid = this.tidOf(core);
      const kept = this.pending.get(tid);
      if (kept === undefined) continue;
      this.pending.delete(tid);
      // A kept stop at a breakpoint or watch point gdb has removed since is dropped, as gdbserver
      // does: the core stopped before the instruction, so it just runs on from there.
      if (!this.stillSet(core, kept)) continue;
      await this.report(tid, kept, false);
      return;
    }
    const steppers = [...plan].filter(([, act]) => act === 's').map(([core]) => core);
    this.running = true;
    this.o.held?.(false);
    for (const [core, act] of plan) if (act === 'c') await core.resume();
    const stepper = steppers[0];
    if (stepper === undefined) return;
    const stop = await stepper.step();
    for (const other of steppers.slice(1)) this.pending.set(this.tidOf(other), await other.step());
    if (!this.isRunning()) {
      // Another core stopped first and was reported: this step is kept for the next resume.
      this.pending.set(this.tidOf(stepper), stop);
      return;
    }
    this.running = false;
    await this.report(this.tidOf(stepper), stop, false);
  }

  /** Whether the breakpoint or watch point a kept stop is about is still inserted. */
  private stillSet(core: CoreDebugPort, stop: DebugStop): boolean {
    const r = stop.reason;
    if (r.kind === 'breakpoint')
      return core.debugPoints.some((p) => p.type === (r.hard ? 'hard' : 'soft') && p.addr === stop.pc);
    if (r.kind === 'watch')
      return core.debugPoints.some((p) => p.type === 'watch' && p.access === r.access && p.addr === r.addr);
    return true;
  }

  /** (A method: a field read after an await must not be narrowed by the assignment before it.) */
  private isRunning(): boolean {
    return this.running;
  }

  private async vPacket(body: string): Promise<string | undefined> {
    if (body === 'Cont?') return 'vCont;c;C;s;S';
    if (body.startsWith('Cont;')) {
      const actions = this.parseVCont(body.slice(5));
      if (actions === undefined || actions.length === 0) return errorReply(ERRNO.EINVAL);
      await this.resume(actions);
      return undefined;
    }
    if (body === 'MustReplyEmpty') return '';
    if (body.startsWith('Kill')) {
      await this.end();
      this.o.send('OK');
      this.o.kill();
      this.o.hangUp();
      return undefined;
    }
    return '';
  }

  // ---- queries --------------------------------------------------------------------------------

  private async query(body: string): Promise<string> {
    if (body.startsWith('Supported')) {
      for (const f of body.slice('Supported:'.length).split(';'))
        if (f.endsWith('+')) this.features.add(f.slice(0, -1));
      return [
        `PacketSize=${PACKET_SIZE.toString(16)}`,
        'qXfer:features:read+',
        'qXfer:threads:read+',
        'swbreak+',
        'hwbreak+',
        'vContSupported+',
        'QStartNoAckMode+',
      ].join(';');
    }
    if (body === 'Attached' || body.startsWith('Attached:')) return '1';
    if (body === 'C') {
      const core = this.core(this.gThread);
      return core === undefined ? '' : `QC${threadIdText(this.tidOf(core))}`;
    }
    if (body === 'fThreadInfo') {
      const ids = this.online().map((c) => threadIdText(this.tidOf(c)));
      return ids.length === 0 ? 'l' : `m${ids.join(',')}`;
    }
    if (body === 'sThreadInfo') return 'l';
    if (body.startsWith('ThreadExtraInfo,')) {
      const tid = parseThreadId(body.slice('ThreadExtraInfo,'.length));
      const core = tid === undefined || tid <= 0 ? undefined : this.core(tid);
      if (core === undefined) return errorReply(ERRNO.ESRCH);
      return hexText(`${core.name} [${core.held ? 'halted' : 'running'}]`);
    }
    if (body.startsWith('Xfer:features:read:'))
      return this.xfer(body.slice('Xfer:features:read:'.length), (annex) =>
        annex === 'target.xml' ? targetXml() : undefined,
      );
    if (body.startsWith('Xfer:threads:read:'))
      return this.xfer(body.slice('Xfer:threads:read:'.length), (annex) =>
        annex === '' ? this.threadsXml() : undefined,
      );
    if (body.startsWith('Rcmd,')) return this.rcmd(body.slice('Rcmd,'.length));
    return '';
  }

  private set(body: string): string {
    // The server switches acks off after this OK has gone out (rsp-server.ts).
    if (body === 'StartNoAckMode') return 'OK';
    return '';
  }

  private threadsXml(): string {
    const threads = this.online().map(
      (c) => `<thread id="${threadIdText(this.tidOf(c))}" core="${c.index.toString(16)}" name="${c.name}"/>`,
    );
    return `<?xml version="1.0"?>\n<threads>\n${threads.join('\n')}\n</threads>\n`;
  }

  /** qXfer `annex:offset,length`: `m` + a chunk when more follows, `l` + the last one. */
  private xfer(body: string, document: (annex: string) => string | undefined): string {
    const colon = body.indexOf(':');
    const annex = body.slice(0, colon);
    const [o, l] = body.slice(colon + 1).split(',');
    const offset = parseHex32(o ?? '');
    const length = parseHexClamped(l ?? '', PACKET_SIZE - 16);
    const doc = document(annex);
    if (colon < 0 || offset === undefined || length === undefined) return errorReply(ERRNO.EINVAL);
    if (doc === undefined) return errorReply(ERRNO.ENOENT);
    const chunk = doc.slice(offset, offset + length);
    // Documents are ASCII: one character per byte; `}`, `#`, `$`, `*` do not occur in them.
    return (offset + length >= doc.length ? 'l' : 'm') + chunk;
  }

  private async rcmd(hexCommand: string): Promise<string> {
    const monitor = this.o.monitor;
    const command = textOfHex(hexCommand);
    if (command === undefined) return errorReply(ERRNO.EINVAL);
    if (monitor === undefined) return '';
    const text = await monitor(command);
    // Console output goes in O packets before the final OK.
    const chunk = Math.floor((PACKET_SIZE - 16) / 2);
    for (let i = 0; i < text.length; i += chunk) this.o.send(`O${hexText(text.slice(i, i + chunk))}`);
    return 'OK';
  }
}
