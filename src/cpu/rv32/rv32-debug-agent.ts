// The rv32 core's end of the debug port (soc/debug/debug-protocol.ts): halts and resumes the hart
// between slices, single-steps it, reads and writes its registers, CSRs and memory through its own
// bus (RAM, and device registers only where reading has no side effect), and sets the debugger's
// breakpoints and watch points on it (hart.ts: software breakpoints never touch memory, as in
// QEMU; hardware ones and watch points take Sdtrig triggers). Requests come at instruction
// boundaries: between slices while the core runs, at once while it is halted.

import { RprocError, hex } from '../../util/errors.ts';
import {
  debugError,
  type DebugPoint,
  type DebugReply,
  type DebugRequest,
  type DebugSetup,
  type DebugStop,
  type DebugTarget,
} from '../../soc/debug/debug-protocol.ts';
import { isReadOnlyCsr } from './csr.ts';
import type { FatalTrap, Hart, HartStop } from './hart.ts';

/** Most bytes one read-mem request returns (a debugger asks again for the rest). */
const DEBUG_READ_MAX = 0x10000;

/** The stop a hart reports, as the debug port says it. */
function stopOfHart(stop: HartStop): DebugStop {
  return stop.kind === 'breakpoint'
    ? { pc: stop.pc, reason: { kind: 'breakpoint', hard: stop.hard } }
    : { pc: stop.pc, reason: { kind: 'watch', addr: stop.addr, access: stop.access } };
}

export class Rv32DebugAgent implements DebugTarget {
  private readonly hart: Hart;
  private readonly report: (stop: DebugStop) => void;
  private halted = false;
  private current: DebugStop | undefined;
  /** A debugger is attached: a fatal trap stops the core once before it is reported. */
  private attached = false;
  private faultShown = false;

  /** @param report tells the host the core stopped by itself (a breakpoint, a watch point, a fault). */
  constructor(hart: Hart, report: (stop: DebugStop) => void) {
    this.hart = hart;
    this.report = report;
  }

  get debugHalted(): boolean {
    return this.halted;
  }

  /** Apply the debugger's state before the first instruction (CoreWorkerData.debug). */
  setup(setup: DebugSetup): void {
    this.attached = setup.attached;
    for (const p of setup.points) {
      const r = this.point(p, true);
      // A trigger the firmware cannot have taken yet: only a board with fewer triggers fails here.
      if (!r.ok) continue;
    }
    if (setup.hold) this.stop({ pc: this.hart.pc, reason: { kind: 'entry' } });
  }

  /** The hart stopped for the debugger during a slice. */
  hartStopped(stop: HartStop): void {
    this.stop(stopOfHart(stop));
  }

  /**
   * A fatal trap: with a debugger attached the core stops first (true: the runtime holds the
   * report back until the debugger resumes it); otherwise, or the second time, false.
   */
  fatal(fatal: FatalTrap): boolean {
    if (!this.attached || this.faultShown) return false;
    this.faultShown = true;
    const trap = fatal.first ?? fatal;
    this.stop({ pc: this.hart.pc, reason: { kind: 'fault', cause: trap.cause, tval: trap.tval } });
    return true;
  }

  private stop(stop: DebugStop): void {
    this.halted = true;
    this.current = stop;
    this.report(stop);
  }

  debugRequest(req: DebugRequest): DebugReply {
    try {
      return this.handle(req);
    } catch (e) {
      // A request that fails answers with an error: it never takes the core (or its group) down.
      if (e instanceof RprocError) return debugError(e.code, e.message);
      return debugError(
        'EIO',
        `debug request ${req.op} failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private handle(req: DebugRequest): DebugReply {
    const h = this.hart;
    switch (req.op) {
      case 'halt':
        if (!this.halted) {
          this.halted = true;
          this.current = { pc: h.pc, reason: { kind: 'halt' } };
        }
        return { ok: true, stop: this.current ?? { pc: h.pc, reason: { kind: 'halt' } } };
      case 'resume':
        this.halted = false;
        this.current = undefined;
        return { ok: true };
      case 'step': {
        if (!this.halted) return debugError('EBUSY', 'the core is running: halt it before stepping');
        const s = h.step();
        this.current = s === undefined ? { pc: h.pc, reason: { kind: 'step' } } : stopOfHart(s);
        return { ok: true, stop: this.current };
      }
      case 'status':
        return {
          ok: true,
          halted: this.halted,
          pc: h.pc,
          ...(this.current === undefined ? {} : { stop: this.current }),
        };
      case 'read-regs':
        return { ok: true, regs: [...h.x].map((v) => v >>> 0).concat(h.pc >>> 0) };
      case 'write-reg':
        if (!Number.isInteger(req.reg) || req.reg < 0 || req.reg > 32)
          return debugError('EINVAL', `no register ${req.reg} (0..31 are x0..x31, 32 is pc)`);
        // IALIGN = 16: pc bit 0 is always 0.
        if (req.reg === 32) h.pc = (req.value & ~1) >>> 0;
        else if (req.reg !== 0) h.x[req.reg] = req.value | 0;
        return { ok: true };
      case 'read-csr': {
        const v = h.csr.read(req.csr);
        return v === undefined
          ? debugError('EINVAL', `no CSR ${hex(req.csr)}`)
          : { ok: true, value: v >>> 0 };
      }
      case 'write-csr':
        if (h.csr.read(req.csr) === undefined) return debugError('EINVAL', `no CSR ${hex(req.csr)}`);
        if (isReadOnlyCsr(req.csr)) return debugError('EPERM', `CSR ${hex(req.csr)} is read-only`);
        h.csr.write(req.csr, req.value | 0);
        return { ok: true };
      case 'read-mem':
        return this.readMem(req.addr, req.len);
      case 'write-mem':
        return this.writeMem(req.addr, req.bytes);
      case 'point':
        return this.point(req.point, req.on);
      case 'attach':
        this.attached = req.on;
        return { ok: true };
    }
  }

  private readMem(addr: number, len: number): DebugReply {
    if (!Number.isInteger(addr) || addr < 0 || addr > 0xffff_ffff || !Number.isInteger(len) || len < 0)
      return debugError('EINVAL', `bad memory range ${hex(addr)}, length ${len}`);
    const n = Math.min(len, DEBUG_READ_MAX, 0x1_0000_0000 - addr);
    const out = new Uint8Array(n);
    const bus = this.hart.bus;
    let got = 0;
    while (got < n) {
      const a = addr + got;
      // RAM byte by byte; device registers as aligned words where they can be (most are 32-bit),
      // else as bytes (the UART's).
      const word = bus.ramAt(a) === undefined && a % 4 === 0 && n - got >= 4;
      const v = bus.peek(a, word ? 4 : 1);
      if (v === undefined) break;
      out[got++] = v & 0xff;
      if (word) {
        out[got++] = (v >>> 8) & 0xff;
        out[got++] = (v >>> 16) & 0xff;
        out[got++] = (v >>> 24) & 0xff;
      }
    }
    if (got === 0 && n > 0)
      return debugError('EFAULT', `no readable memory at ${hex(addr)} in this core's view`);
    return { ok: true, bytes: out.subarray(0, got) };
  }

  /** Write through the core's view: RAM (dropping code decoded from it), or device registers as stores. */
  private writeMem(addr: number, bytes: Uint8Array): DebugReply {
    if (!Number.isInteger(addr) || addr < 0 || addr + bytes.length > 0x1_0000_0000)
      return debugError('EINVAL', `bad memory range ${hex(addr)}, length ${bytes.length}`);
    const n = this.hart.debugWrite(addr, bytes);
    if (n < bytes.length)
      return debugError('EFAULT', `${hex(addr + n)} is not writable memory in this core's view`);
    return { ok: true };
  }

  private point(p: DebugPoint, on: boolean): DebugReply {
    const h = this.hart;
    if (!Number.isInteger(p.addr) || p.addr < 0 || p.addr > 0xffff_ffff)
      return debugError('EINVAL', `bad address ${hex(p.addr)}`);
    switch (p.type) {
      case 'soft':
        h.setSoftBreakpoint(p.addr, on);
        return { ok: true };
      case 'hard':
        if (!on) {
          h.releaseTrigger('execute', p.addr, 2);
          return { ok: true };
        }
        return h.claimTrigger('execute', p.addr, 2)
          ? { ok: true }
          : debugError('ENOSPC', `no free trigger for a hardware breakpoint at ${hex(p.addr)}`);
      case 'watch': {
        if (!Number.isInteger(p.len) || p.len < 1 || p.len > 0x1000)
          return debugError('EINVAL', `bad watch length ${p.len}`);
        if (!on) {
          h.releaseTrigger(p.access, p.addr, p.len);
          return { ok: true };
        }
        return h.claimTrigger(p.access, p.addr, p.len)
          ? { ok: true }
          : debugError('ENOSPC', `no free trigger for a watch point at ${hex(p.addr)}`);
      }
    }
  }
}
