// A core as its group's thread serves it (group-loop.ts), behind one interface whatever its kind:
// each kind's engine (core-kind.ts; a js core runtime stepped, an rv32 hart run in short slices)
// builds one, from the same runtime hooks the SoC scheduler drives in the host thread, here on
// host time.

import { coreContextOf, loadCoreEngine } from '../core-kind.ts';
import type { CoreMessage, CoreWorkerData } from '../core-messages.ts';
import type { DebugReply, DebugRequest } from '../debug/debug-protocol.ts';
import type { PhysMemory } from '../phys-memory.ts';

export interface GroupMember {
  readonly index: number;
  /** The host asked the core to halt (RUN), or it ended by itself (a js core that faulted, a thread-death error). */
  shouldLeave(): boolean;
  /**
   * Do what is pending now; how much work that was (0: idle, nothing to do until an event). A core
   * that could run for long (an rv32 hart's slice) stops early once `preempted()` says a doorbell,
   * timer or halt request came for the group meanwhile, so that a group mate with work is served
   * within a short chunk of it, not a whole slice.
   */
  serve(preempted: () => boolean): number;
  /** Milliseconds until the core must be served without a doorbell (a timer); undefined: none. */
  deadlineMs(): number | undefined;
  /** The group thread is about to sleep. */
  beforeSleep(): void;
  /** The core leaves the group: close what it must (reports its exit where a lone core would). */
  finish(): void;
  /** An exception escaped while serving the core: what killed a lone core's thread kills only this core. */
  fail(e: unknown): void;
  /** A debug request from the host (a group control message), answered at once. */
  debug(req: DebugRequest): DebugReply;
}

/** The fault a lone core's thread death would have produced (worker-core.ts). */
export function diedMessage(e: unknown): CoreMessage {
  return {
    type: 'fault',
    fault: { kind: 'fatal', message: `core thread died: ${e instanceof Error ? e.message : String(e)}` },
  };
}

/** Build (and boot) the core `data` describes, with the engine its kind registered (core-kind.ts). */
export async function createMember(
  data: CoreWorkerData,
  memory: PhysMemory,
  post: (msg: CoreMessage) => void,
): Promise<GroupMember> {
  const engine = await loadCoreEngine(data.engineModule);
  return engine.groupMember(coreContextOf(data, memory, post));
}
