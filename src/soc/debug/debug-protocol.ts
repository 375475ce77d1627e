// The debug port of a remote core: what a debugger (the GDB stub, the monitor) asks a core, what
// the core answers, and the stops it reports. The host sends requests to the core's thread (its
// own worker, its group's, or the host thread under the scheduler) and the core's runtime answers
// them at an instruction boundary: between slices while it runs, at once while it is halted. Only
// plain data here: it crosses postMessage. An execution engine implements DebugTarget; the SoC
// never sees its internals (layers: soc defines, cpu implements).

import type { ErrnoName } from '../../util/errors.ts';

export type DebugAccess = 'read' | 'write' | 'access';

/** x0..x31 by their ABI names, in the order 'read-regs' gives them (pc follows as the 33rd). */
export const RV32_GPR_NAMES: readonly string[] = [
  'zero',
  'ra',
  'sp',
  'gp',
  'tp',
  't0',
  't1',
  't2',
  'fp',
  's1',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'a7',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
  's8',
  's9',
  's10',
  's11',
  't3',
  't4',
  't5',
  't6',
];

/** Why a core stopped for the debugger. */
export type DebugStopReason =
  /** Asked to (a debugger interrupt, all-stop, the monitor's stop). */
  | { readonly kind: 'halt' }
  /** Held at its entry point when it started (--gdb-wait). */
  | { readonly kind: 'entry' }
  /** A single step completed. */
  | { readonly kind: 'step' }
  /** A debugger breakpoint before the instruction at pc: software (Z0) or hardware (a trigger, Z1). */
  | { readonly kind: 'breakpoint'; readonly hard: boolean }
  /** A debugger watch point before the access of the instruction at pc. */
  | { readonly kind: 'watch'; readonly addr: number; readonly access: DebugAccess }
  /** A trap the firmware cannot handle: the core stops before its crash report, which a resume lets go. */
  | { readonly kind: 'fault'; readonly cause: number; readonly tval: number };

export interface DebugStop {
  /** Where the core stands (the instruction that runs next). */
  readonly pc: number;
  readonly reason: DebugStopReason;
}

/** A debugger breakpoint or watch point as the core keeps it. */
export type DebugPoint =
  | { readonly type: 'soft'; readonly addr: number }
  | { readonly type: 'hard'; readonly addr: number }
  | { readonly type: 'watch'; readonly access: DebugAccess; readonly addr: number; readonly len: number };

export type DebugRequest =
  /** Stop at the next instruction boundary; answered with the stop. */
  | { readonly op: 'halt' }
  /** Run on from a stop. */
  | { readonly op: 'resume' }
  /** Execute one instruction (interrupts held off); answered with the stop after it. */
  | { readonly op: 'step' }
  /** Whether the core is halted, and where it stands. */
  | { readonly op: 'status' }
  /** x0..x31 then pc. */
  | { readonly op: 'read-regs' }
  /** Register `reg` (0..31 = x0..x31, 32 = pc). */
  | { readonly op: 'write-reg'; readonly reg: number; readonly value: number }
  | { readonly op: 'read-csr'; readonly csr: number }
  | { readonly op: 'write-csr'; readonly csr: number; readonly value: number }
  /** Bytes through the core's own view (RAM, and device registers whose read has no side effect). */
  | { readonly op: 'read-mem'; readonly addr: number; readonly len: number }
  | { readonly op: 'write-mem'; readonly addr: number; readonly bytes: Uint8Array }
  /** Insert (on) or remove a breakpoint or watch point; a hard one or a watch takes a trigger (ENOSPC when none is free). */
  | { readonly op: 'point'; readonly point: DebugPoint; readonly on: boolean }
  /** A debugger is attached: a fatal trap stops the core before it is reported. */
  | { readonly op: 'attach'; readonly on: boolean };

export type DebugReply =
  | {
      readonly ok: true;
      readonly stop?: DebugStop;
      readonly halted?: boolean;
      readonly pc?: number;
      readonly regs?: readonly number[];
      readonly value?: number;
      readonly bytes?: Uint8Array;
    }
  | { readonly ok: false; readonly code: ErrnoName; readonly message: string };

/** What a core starts with when a debugger is there (CoreWorkerData.debug). */
export interface DebugSetup {
  /** Halt before the first instruction (reported as a stop of kind 'entry'). */
  readonly hold: boolean;
  /** A debugger is attached (see the 'attach' request). */
  readonly attached: boolean;
  /** Breakpoints and watch points to insert before the first instruction. */
  readonly points: readonly DebugPoint[];
}

/** The core side: a runtime that answers debug requests (synchronously, at an instruction boundary). */
export interface DebugTarget {
  debugRequest(req: DebugRequest): DebugReply;
  /** Whether the core is halted for the debugger (it executes nothing meanwhile). */
  readonly debugHalted: boolean;
}

export function isDebugRequest(x: unknown): x is DebugRequest {
  return typeof x === 'object' && x !== null && 'op' in x && typeof x.op === 'string';
}

export function isDebugReply(x: unknown): x is DebugReply {
  return typeof x === 'object' && x !== null && 'ok' in x && typeof x.ok === 'boolean';
}

export function debugError(code: ErrnoName, message: string): DebugReply {
  return { ok: false, code, message };
}
