// One remote core's debug port as a debugger on the host uses it (the GDB stub, the monitor):
// halt, resume and step it, read and write its registers, CSRs and memory through its own view,
// and keep the debugger's breakpoints and watch points, which the port also hands to the core
// every time it starts (a core restarted by recovery stops at the same breakpoints). Requests go
// through the core's execution (its thread, or the host thread under the scheduler); a failed one
// throws an RprocError naming the value. Events: 'stop' when the core stopped by itself, 'online'
// and 'offline' when it starts and stops running.

import { TypedEmitter } from '../../util/typed-emitter.ts';
import { RprocError, hex } from '../../util/errors.ts';
import type { CoreExecution } from '../core-execution.ts';
import type { DebugPoint, DebugReply, DebugRequest, DebugSetup, DebugStop } from './debug-protocol.ts';

export interface CoreDebugEvents extends Record<string, unknown> {
  stop: DebugStop;
  online: { readonly core: string };
  offline: { readonly core: string };
}

type OkReply = DebugReply & { readonly ok: true };

function pointKey(p: DebugPoint): string {
  return p.type === 'watch' ? `watch:${p.access}:${p.addr}:${p.len}` : `${p.type}:${p.addr}`;
}

export class CoreDebugPort extends TypedEmitter<CoreDebugEvents> {
  /** The core's name on the board. */
  readonly name: string;
  /** Its index on the board. */
  readonly index: number;
  private readonly exec: CoreExecution;
  private readonly points = new Map<string, DebugPoint>();
  private attached = false;
  private holdNext = false;

  constructor(name: string, index: number, exec: CoreExecution) {
    super();
    this.name = name;
    this.index = index;
    this.exec = exec;
  }

  /** Whether the core runs (its port answers). */
  get online(): boolean {
    return this.exec.running;
  }

  /** Whether a debugger holds the core. */
  get held(): boolean {
    return this.exec.debugHeld;
  }

  /** The debugger's breakpoints and watch points. */
  get debugPoints(): readonly DebugPoint[] {
    return [...this.points.values()];
  }

  /** Hold the core at its entry point the next time it starts (QEMU's -S; rproc run --gdb-wait). */
  holdAtNextStart(on = true): void {
    this.holdNext = on;
  }

  /** @internal what the core starts with (SocCore.startCore); takes the hold. */
  startSetup(): DebugSetup | undefined {
    if (!this.attached && !this.holdNext && this.points.size === 0) return undefined;
    const setup: DebugSetup = { hold: this.holdNext, attached: this.attached, points: this.debugPoints };
    this.holdNext = false;
    return setup;
  }

  /** @internal the core stopped by itself. */
  stopped(stop: DebugStop): void {
    this.emit('stop', stop);
  }

  /** @internal the core started or stopped running. */
  running(on: boolean): void {
    this.emit(on ? 'online' : 'offline', { core: this.name });
  }

  /** Send a request; an error reply becomes an RprocError. */
  async request(req: DebugRequest): Promise<OkReply> {
    const reply = await this.exec.debug(req);
    if (!reply.ok) throw new RprocError(reply.code, 'debug', `${this.name}: ${reply.message}`);
    return reply;
  }

  /** Stop the core at the next instruction boundary; resolves with where (and why, if it had stopped already). */
  async halt(): Promise<DebugStop> {
    return this.stopOf(await this.request({ op: 'halt' }), 'halt');
  }

  async resume(): Promise<void> {
    await this.request({ op: 'resume' });
  }

  /** One instruction (interrupts held off); the core stays halted. */
  async step(): Promise<DebugStop> {
    return this.stopOf(await this.request({ op: 'step' }), 'step');
  }

  async status(): Promise<{ readonly halted: boolean; readonly pc: number; readonly stop?: DebugStop }> {
    const r = await this.request({ op: 'status' });
    return { halted: r.halted === true, pc: r.pc ?? 0, ...(r.stop === undefined ? {} : { stop: r.stop }) };
  }

  /** x0..x31 then pc. */
  async readRegisters(): Promise<readonly number[]> {
    const r = await this.request({ op: 'read-regs' });
    if (r.regs?.length !== 33) throw new RprocError('EIO', 'debug', `${this.name}: bad register reply`);
    return r.regs;
  }

  /** Register 0..31 (x0..x31) or 32 (pc). */
  async writeRegister(reg: number, value: number): Promise<void> {
    await this.request({ op: 'write-reg', reg, value });
  }

  async readCsr(csr: number): Promise<number> {
    const r = await this.request({ op: 'read-csr', csr });
    return r.value ?? 0;
  }

  async writeCsr(csr: number, value: number): Promise<void> {
    await this.request({ op: 'write-csr', csr, value });
  }

  /** Up to `len` bytes from `addr` (fewer where the readable memory ends; EFAULT when none). */
  async readMemory(addr: number, len: number): Promise<Uint8Array> {
    const r = await this.request({ op: 'read-mem', addr, len });
    return r.bytes ?? new Uint8Array(0);
  }

  async writeMemory(addr: number, bytes: Uint8Array): Promise<void> {
    await this.request({ op: 'write-mem', addr, bytes });
  }

  /** Insert a breakpoint or watch point (kept for later starts too); ENOSPC when no trigger is free. */
  async insert(point: DebugPoint): Promise<void> {
    const key = pointKey(point);
    if (this.points.has(key)) return;
    if (this.online) await this.request({ op: 'point', point, on: true });
    this.points.set(key, point);
  }

  async remove(point: DebugPoint): Promise<void> {
    const key = pointKey(point);
    if (!this.points.delete(key)) return;
    if (this.online) await this.request({ op: 'point', point, on: false });
  }

  /** A debugger is attached: a fatal trap stops the core before its crash report. */
  async attach(on: boolean): Promise<void> {
    this.attached = on;
    if (this.online) await this.request({ op: 'attach', on });
  }

  /** The debugger left: its points go, faults are reported at once again, and nothing is held at the next start. */
  async release(): Promise<void> {
    const points = this.debugPoints;
    this.points.clear();
    this.holdNext = false;
    this.attached = false;
    if (!this.online) return;
    for (const point of points) await this.request({ op: 'point', point, on: false });
    await this.request({ op: 'attach', on: false });
  }

  private stopOf(r: OkReply, op: string): DebugStop {
    if (r.stop === undefined)
      throw new RprocError('EIO', 'debug', `${this.name}: ${op} reply without a stop`);
    return r.stop;
  }
}

/** "pc 0x80000010" and the reason, for messages. */
export function describeStop(stop: DebugStop): string {
  const r = stop.reason;
  const why =
    r.kind === 'breakpoint'
      ? `${r.hard ? 'hardware ' : ''}breakpoint`
      : r.kind === 'watch'
        ? `${r.access} watch point at ${hex(r.addr)}`
        : r.kind === 'fault'
          ? `fault (mcause ${r.cause}, mtval ${hex(r.tval)})`
          : r.kind === 'entry'
            ? 'held at the entry point'
            : r.kind;
  return `${why}, pc ${hex(stop.pc)}`;
}
