// Fault injection for firmware teams: a host that misbehaves at the rpmsg level, so that a test can
// show the firmware survives it. Kicks lost (every Nth, a random share with a seed, or the next N)
// or delayed, either way; the host's TX buffers exhausted (its sends wait, then fail); a core
// crashed at a chosen point (after N messages, after a time, on a matching line). Stalling the host
// side of an endpoint is the board session's (it owns the endpoints: board-session.ts). Each fault
// is armed until healed, or for a time on the run's clock; a crash trigger fires once.

import { RPROC_FATAL_ERROR, RPROC_MMUFAULT, RPROC_WATCHDOG } from '../remoteproc/rproc-state.ts';
import { RPMSG_NS_ADDR } from '../rpmsg/rpmsg-wire.ts';
import type { VirtioRpmsgBus } from '../rpmsg/host/virtio-rpmsg-bus.ts';
import type { TxBuffer } from '../rpmsg/host/rpmsg-endpoint.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { watchFailOn } from './expect-lines.ts';
import type { LinePattern } from './line-pattern.ts';
import type { RpmsgTraceRecorder } from './rpmsg-trace.ts';
import type { RunClock } from './run-clock.ts';
import type { SocLines } from './soc-lines.ts';
import type { KickVerdict, SocTaps, TapClient } from './soc-taps.ts';

/** Which kicks: the host's to the core, the core's notifications to the host, or both. */
export type Direction = 'to-remote' | 'to-host' | 'both';

export const CRASH_TYPES = {
  fatal: RPROC_FATAL_ERROR,
  watchdog: RPROC_WATCHDOG,
  mmu: RPROC_MMUFAULT,
} as const;
export type CrashTypeName = keyof typeof CRASH_TYPES;

export type CrashTrigger =
  /** After the Nth rpmsg message between host and core (name service not counted). */
  | { readonly afterMessages: number; readonly direction: Direction }
  /** This long after the fault is armed, on the run's clock. */
  | { readonly afterMs: number }
  /** On the first line matching. */
  | { readonly onLine: LinePattern };

export type FaultSpec =
  | {
      readonly kind: 'lose-kicks';
      readonly core: string;
      readonly direction: Direction;
      /** Lose every Nth kick (1: all); default 1 unless probability is given. */
      readonly every?: number;
      /** Lose each kick with this probability (0..1), from a seeded generator: the same losses every run. */
      readonly probability?: number;
      readonly seed?: number;
      /** Heal after losing this many. */
      readonly count?: number;
    }
  | {
      readonly kind: 'delay-kicks';
      readonly core: string;
      readonly direction: Direction;
      readonly delayMs: number;
    }
  | { readonly kind: 'exhaust-tx-buffers'; readonly core: string }
  | {
      readonly kind: 'crash';
      readonly core: string;
      readonly trigger: CrashTrigger;
      readonly crashType: CrashTypeName;
    };

export interface FaultContext {
  readonly soc: VirtualSoc;
  readonly taps: SocTaps;
  readonly lines: SocLines;
  readonly clock: RunClock;
  /** Faults say what they did on the core's state track. */
  readonly recorder: () => RpmsgTraceRecorder | undefined;
}

export interface ArmedFault {
  readonly kind: FaultSpec['kind'] | 'stall';
  readonly core: string | undefined;
  /** Whether it is still in force (a crash trigger that fired, a count reached: healed). */
  readonly active: boolean;
  heal(): void;
}

/** Arm `spec`; with `forMs`, it heals by itself after that long on the run's clock. */
export function injectFault(ctx: FaultContext, spec: FaultSpec, forMs?: number): ArmedFault {
  const core = ctx.soc.core(spec.core);
  const fault = arm(ctx, core, spec);
  ctx.recorder()?.fault(core.name, describeFault(spec), forMs === undefined ? {} : { forMs });
  if (forMs !== undefined) {
    void ctx.clock.sleep(forMs).then(() => {
      if (fault.active) fault.heal();
    });
  }
  return fault;
}

function arm(ctx: FaultContext, core: SocCore, spec: FaultSpec): ArmedFault {
  switch (spec.kind) {
    case 'lose-kicks':
      return loseKicks(ctx, core, spec);
    case 'delay-kicks':
      return tapFault(
        ctx,
        core,
        spec.kind,
        kickClient(core, spec.direction, () => ({ action: 'delay', ms: spec.delayMs })),
      );
    case 'exhaust-tx-buffers':
      return exhaustTx(ctx, core);
    case 'crash':
      return crashAt(ctx, core, spec);
  }
}

/** A fault that is a tap client: healed by unplugging it. */
function tapFault(
  ctx: FaultContext,
  core: SocCore,
  kind: FaultSpec['kind'],
  client: TapClient,
): ArmedFault & { heal(): void } {
  const unplug = ctx.taps.add(client);
  let active = true;
  return {
    kind,
    core: core.name,
    get active() {
      return active;
    },
    heal() {
      if (!active) return;
      active = false;
      unplug();
      ctx.recorder()?.fault(core.name, `${kind} healed`);
    },
  };
}

function kickClient(core: SocCore, direction: Direction, verdict: () => KickVerdict | undefined): TapClient {
  return {
    ...(direction !== 'to-host' ? { hostKick: (c: SocCore) => (c === core ? verdict() : undefined) } : {}),
    ...(direction !== 'to-remote'
      ? { remoteKick: (c: SocCore) => (c === core ? verdict() : undefined) }
      : {}),
  };
}

function loseKicks(
  ctx: FaultContext,
  core: SocCore,
  spec: Extract<FaultSpec, { kind: 'lose-kicks' }>,
): ArmedFault {
  const every = spec.every ?? (spec.probability === undefined ? 1 : undefined);
  const random = spec.probability === undefined ? undefined : mulberry32(spec.seed ?? 1);
  let seen = 0;
  let lost = 0;
  const fault = tapFault(
    ctx,
    core,
    spec.kind,
    kickClient(core, spec.direction, () => {
      seen++;
      const lose =
        (every !== undefined && seen % every === 0) ||
        (random !== undefined && spec.probability !== undefined && random() < spec.probability);
      if (!lose) return undefined;
      lost++;
      // The count is reached by this kick: it is lost, the next ones go through.
      if (spec.count !== undefined && lost >= spec.count) queueMicrotask(() => fault.heal());
      return { action: 'drop' };
    }),
  );
  return fault;
}

function exhaustTx(ctx: FaultContext, core: SocCore): ArmedFault {
  const mine = (d: VirtioRpmsgBus): boolean => d.vdev.parentName === core.name;
  const fault = tapFault(ctx, core, 'exhaust-tx-buffers', { txStarved: mine });
  return {
    kind: fault.kind,
    core: fault.core,
    get active() {
      return fault.active;
    },
    heal() {
      if (!fault.active) return;
      fault.heal();
      // Senders waiting for a buffer are woken by a buffer coming back: hand one back now, or they
      // would wait for a TX-complete interrupt the remote has no reason to send.
      for (const d of ctx.soc.rpmsg.buses) {
        if (!mine(d) || d.removed) continue;
        const b: TxBuffer | undefined = d.getTxBuffer();
        if (b !== undefined) d.releaseTxBuffer(b);
      }
    },
  };
}

function crashAt(ctx: FaultContext, core: SocCore, spec: Extract<FaultSpec, { kind: 'crash' }>): ArmedFault {
  let active = true;
  let undo: () => void = () => undefined;
  const crash = (why: string): void => {
    if (!active) return;
    active = false;
    undo();
    ctx.recorder()?.fault(core.name, `crash (${why})`);
    const state = core.rproc.state;
    if (state === 'running' || state === 'attached')
      core.rproc.reportCrash(CRASH_TYPES[spec.crashType], { message: `injected crash: ${why}` });
  };
  const t = spec.trigger;
  if ('afterMessages' in t) {
    let n = 0;
    const dirOk = (dir: 'tx' | 'rx'): boolean =>
      t.direction === 'both' || (dir === 'tx' ? t.direction === 'to-remote' : t.direction === 'to-host');
    undo = ctx.taps.add({
      message: (device, dir, src, dst) => {
        if (
          device.vdev.parentName !== core.name ||
          !dirOk(dir) ||
          src === RPMSG_NS_ADDR ||
          dst === RPMSG_NS_ADDR
        )
          return;
        if (++n >= t.afterMessages)
          crash(`after ${t.afterMessages} message${t.afterMessages === 1 ? '' : 's'}`);
      },
    });
  } else if ('afterMs' in t) {
    const ac = new AbortController();
    undo = () => ac.abort();
    void ctx.clock.sleep(t.afterMs, ac.signal).then(() => {
      if (!ac.signal.aborted) crash(`after ${t.afterMs} ms`);
    });
  } else {
    undo = watchFailOn(ctx.lines, [t.onLine], (hit) => crash(`on line "${hit.line.text}"`));
  }
  return {
    kind: 'crash',
    core: core.name,
    get active() {
      return active;
    },
    heal() {
      if (!active) return;
      active = false;
      undo();
    },
  };
}

function describeFault(spec: FaultSpec): string {
  switch (spec.kind) {
    case 'lose-kicks': {
      const which =
        spec.probability !== undefined
          ? `with probability ${spec.probability} (seed ${spec.seed ?? 1})`
          : (spec.every ?? 1) === 1
            ? 'all'
            : `every ${spec.every ?? 1}th`;
      return `lose ${which} kicks ${spec.direction}${spec.count === undefined ? '' : `, ${spec.count} at most`}`;
    }
    case 'delay-kicks':
      return `delay kicks ${spec.direction} by ${spec.delayMs} ms`;
    case 'exhaust-tx-buffers':
      return 'exhaust the host TX buffers';
    case 'crash': {
      const t = spec.trigger;
      const when =
        'afterMessages' in t
          ? `after ${t.afterMessages} messages (${t.direction})`
          : 'afterMs' in t
            ? `after ${t.afterMs} ms`
            : `on ${t.onLine.spec}`;
      return `crash (${spec.crashType}) ${when}`;
    }
  }
}

/** A small seeded generator (mulberry32): the same sequence for the same seed, on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
