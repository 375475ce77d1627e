// The js core kind: how a core running a TypeScript firmware program (JsCoreRuntime) executes in a
// worker thread of its own, in a core group's thread, and under the SoC scheduler in the host
// thread. Registered with the SoC's core-kind registry by src/cpu/core-kinds.ts.

import type { CoreContext, CoreEngine, CoreKindDefinition, ScheduledCore } from '../../soc/core-kind.ts';
import { diedMessage, type GroupMember } from '../../soc/group/group-member.ts';
import type { SocScheduler } from '../../soc/scheduler/soc-scheduler.ts';
import { threadModuleUrl } from '../../soc/worker-script.ts';
import { debugError, type DebugReply } from '../../soc/debug/debug-protocol.ts';
import { JsCoreRuntime } from './js-core-runtime.ts';

class JsMember implements GroupMember {
  readonly index: number;
  private readonly runtime: JsCoreRuntime;
  private readonly ctx: CoreContext;
  private dead = false;

  constructor(runtime: JsCoreRuntime, ctx: CoreContext) {
    this.index = ctx.coreIndex;
    this.runtime = runtime;
    this.ctx = ctx;
  }

  // A lone js core's run() ends on `halted` too (a halt request, or a fault of its own).
  shouldLeave(): boolean {
    return this.dead || this.runtime.halted;
  }

  serve(): number {
    return this.runtime.step();
  }

  deadlineMs(): number | undefined {
    return this.runtime.nextDeadline();
  }

  // As JsCoreRuntime.run does before its WFI: acknowledge the mailbox once per sleep, not per step.
  beforeSleep(): void {
    this.ctx.block.takeH2C();
  }

  finish(): void {
    if (!this.dead) this.runtime.shutdown();
  }

  fail(e: unknown): void {
    this.dead = true;
    this.ctx.post(diedMessage(e));
  }

  debug(): DebugReply {
    return debugError('EOPNOTSUPP', `${this.ctx.coreName} is a js core: it has no debug port`);
  }
}

function runtimeOf(ctx: CoreContext): JsCoreRuntime {
  const { coreName, memory, map, block, bootAddr, post } = ctx;
  return new JsCoreRuntime({ coreName, memory, map, block, bootAddr, post });
}

async function scheduledCore(ctx: CoreContext, sched: SocScheduler): Promise<ScheduledCore> {
  const startNs = sched.now;
  const runtime = new JsCoreRuntime({
    coreName: ctx.coreName,
    memory: ctx.memory,
    map: ctx.map,
    block: ctx.block,
    bootAddr: ctx.bootAddr,
    clockMs: () => (sched.now - startNs) / 1e6,
    ringHost: (id) => {
      ctx.block.ringC2H(id);
      sched.wake();
    },
    post: (msg) => ctx.post(msg),
  });
  await runtime.boot();
  /** Whether the last step found nothing to do: the core waits for a kick or a timer. */
  let idle = false;
  let kicked = false;
  const timerAt = (): number | undefined => {
    const at = runtime.nextTimerAt();
    // +1 ns: the timer must be due on the core's clock (ms, a float) at the ns it is scheduled for.
    return at === undefined ? undefined : startNs + Math.ceil(at * 1e6) + 1;
  };
  return {
    runnable: () => {
      if (runtime.halted) return false;
      if (!idle || kicked) return true;
      const at = timerAt();
      return at !== undefined && at <= sched.now;
    },
    runFor: () => {
      kicked = false;
      const work = runtime.step();
      idle = work === 0;
      return work * sched.jsWorkNs;
    },
    deadlineNs: () => (runtime.halted ? undefined : timerAt()),
    kicked: () => {
      kicked = true;
    },
    halt: () => runtime.shutdown(),
  };
}

export const engine: CoreEngine = {
  run: (ctx) => runtimeOf(ctx).run(),
  async groupMember(ctx) {
    const runtime = runtimeOf(ctx);
    await runtime.boot();
    return new JsMember(runtime, ctx);
  },
  scheduled: scheduledCore,
};

export const jsCoreKind: CoreKindDefinition = {
  name: 'js',
  engine,
  engineModule: () => threadModuleUrl('cpu/js/js-core-kind'),
};
