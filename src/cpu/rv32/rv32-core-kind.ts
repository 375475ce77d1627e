// The rv32 core kind: how an RV32IMAC hart running ELF firmware (Rv32CoreRuntime) executes in a
// worker thread of its own, in a core group's thread (short slices between its group mates), and
// under the SoC scheduler in the host thread (instructions as virtual time). Registered with the
// SoC's core-kind registry by src/cpu/core-kinds.ts.

import type { CoreContext, CoreEngine, CoreKindDefinition, ScheduledCore } from '../../soc/core-kind.ts';
import { CORE_WORD, RUN_STATE } from '../../soc/core-block.ts';
import { diedMessage, type GroupMember } from '../../soc/group/group-member.ts';
import type { DebugReply, DebugRequest } from '../../soc/debug/debug-protocol.ts';
import type { SocScheduler } from '../../soc/scheduler/soc-scheduler.ts';
import { threadModuleUrl } from '../../soc/worker-script.ts';
import type { EngineKind } from './hart.ts';
import { Rv32CoreRuntime, type SliceState } from './rv32-core-runtime.ts';

/**
 * Instructions an rv32 core runs before the group serves its other cores: a tenth of a lone core's
 * slice, so that one busy hart delays the doorbells of its group mates that little.
 */
const GROUP_SLICE = 20_000;
/**
 * The slice runs in chunks of this many instructions, and ends after the chunk in which the group
 * was rung (a doorbell for a group mate): a core computing or ringing without pause then delays a
 * mate's answer by a chunk (a few µs), not a slice, while a hart alone in its group keeps whole
 * slices (preemption on wake-up, as a kernel scheduler gives an interactive task).
 */
const GROUP_CHUNK = 2_000;

function engineKindOf(ctx: CoreContext): EngineKind {
  return ctx.options['engine'] === 'interpreter' ? 'interpreter' : 'jit';
}

class Rv32Member implements GroupMember {
  readonly index: number;
  private readonly runtime: Rv32CoreRuntime;
  private readonly ctx: CoreContext;
  /** What the last slice ended in: whether the hart waits in WFI, is held by a debugger, or sits still for good. */
  private phase: SliceState = 'busy';
  private dead = false;

  constructor(runtime: Rv32CoreRuntime, ctx: CoreContext) {
    this.index = ctx.coreIndex;
    this.runtime = runtime;
    this.ctx = ctx;
  }

  // A lone rv32 core runs until the host halts it, even after it finished or faulted.
  shouldLeave(): boolean {
    return this.dead || this.ctx.block.load(CORE_WORD.RUN) !== RUN_STATE.RUNNING;
  }

  serve(preempted: () => boolean): number {
    if (this.phase === 'stopped') return 0;
    // Held by a debugger: nothing to do until a debug request resumes it.
    if (this.runtime.debugHalted) return 0;
    // In WFI the hart runs again only once an interrupt it waits for is pending (Rv32CoreRuntime.run).
    if (this.phase === 'idle' && !this.runtime.interruptPending()) return 0;
    // A doorbell storm the host backs off from: the core stalls; the host rings the group at the end.
    if (this.runtime.doorbellHeld()) return 0;
    let left = GROUP_SLICE;
    do {
      this.phase = this.runtime.slice(GROUP_CHUNK);
      left -= GROUP_CHUNK;
    } while (this.phase === 'busy' && left > 0 && !preempted() && !this.runtime.doorbellHeld());
    return 1;
  }

  deadlineMs(): number | undefined {
    return this.phase === 'stopped' || this.runtime.debugHalted ? undefined : this.runtime.msUntilTimer();
  }

  debug(req: DebugRequest): DebugReply {
    return this.runtime.debugRequest(req);
  }

  beforeSleep(): void {
    // The hart's mailbox device acknowledges its own doorbells.
  }

  finish(): void {
    if (!this.dead) this.runtime.flush();
  }

  fail(e: unknown): void {
    this.dead = true;
    this.ctx.post(diedMessage(e));
  }
}

function runtimeOf(ctx: CoreContext): Rv32CoreRuntime {
  const { coreName, memory, map, block, bootAddr, post, debug, debugInbox } = ctx;
  return new Rv32CoreRuntime({
    coreName,
    memory,
    map,
    block,
    bootAddr,
    engine: engineKindOf(ctx),
    post,
    ...(debug === undefined ? {} : { debug }),
    ...(debugInbox === undefined ? {} : { debugInbox }),
  });
}

function scheduledCore(ctx: CoreContext, sched: SocScheduler): ScheduledCore {
  const startNs = sched.now;
  const nsPerInsn = 1e9 / sched.rv32Hz;
  /** Instructions retired when the current quantum began; undefined between quanta. */
  let quantumInstret: number | undefined;
  const runtime: Rv32CoreRuntime = new Rv32CoreRuntime({
    coreName: ctx.coreName,
    memory: ctx.memory,
    map: ctx.map,
    block: ctx.block,
    bootAddr: ctx.bootAddr,
    engine: engineKindOf(ctx),
    // Inside a quantum the core's time moves with its instructions: a firmware that polls mtime
    // sees it advance, and the same instruction always reads the same value.
    clockNs: (): number =>
      sched.now -
      startNs +
      (quantumInstret === undefined ? 0 : (runtime.hart.instret - quantumInstret) * nsPerInsn),
    // Probation times V8 on host time to pick an engine for a region; without it the run is a
    // function of the firmware and the host's inputs only.
    jitProbation: null,
    post: (msg) => ctx.post(msg),
    ...(ctx.debug === undefined ? {} : { debug: ctx.debug }),
  });
  let state: SliceState = 'busy';
  return {
    // Held by a debugger: never runnable; resumed from a stop ('halted'), it runs again.
    runnable: () =>
      !runtime.debugHalted &&
      (state === 'busy' || state === 'halted' || (state === 'idle' && runtime.interruptPending())),
    runFor: (budgetNs) => {
      const base = runtime.hart.instret;
      quantumInstret = base;
      try {
        state = runtime.slice(Math.max(1, Math.floor(budgetNs / nsPerInsn)));
      } finally {
        quantumInstret = undefined;
      }
      return Math.ceil((runtime.hart.instret - base) * nsPerInsn);
    },
    deadlineNs: () => {
      if (state !== 'idle' || runtime.debugHalted) return undefined;
      const t = runtime.timerDeadlineNs();
      return t === undefined ? undefined : startNs + Math.ceil(t);
    },
    kicked: () => undefined,
    halt: () => runtime.flush(),
    debug: (req) => runtime.debugRequest(req),
  };
}

export const engine: CoreEngine = {
  // The hart's loop blocks this thread (WFI sleeps in Atomics.wait) until the host halts the core.
  run(ctx) {
    runtimeOf(ctx).run();
    return Promise.resolve();
  },
  groupMember: (ctx) => Promise.resolve(new Rv32Member(runtimeOf(ctx), ctx)),
  scheduled: scheduledCore,
};

export const rv32CoreKind: CoreKindDefinition = {
  name: 'rv32',
  uartInput: true,
  engine,
  engineModule: () => threadModuleUrl('cpu/rv32/rv32-core-kind'),
};
