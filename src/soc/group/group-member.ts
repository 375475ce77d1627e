// A core as its group's thread serves it (group-loop.ts): a js core runtime stepped, or an rv32
// hart run in short slices, behind one interface — the same runtime hooks the SoC scheduler drives
// in the host thread (step/nextDeadline, slice/interruptPending), here on host time.

import { AddressMap } from '../address-map.ts';
import type { CoreKind } from '../board.ts';
import { CORE_WORD, CoreBlock, RUN_STATE } from '../core-block.ts';
import type { CoreMessage, CoreWorkerData } from '../core-messages.ts';
import { debugError, type DebugReply, type DebugRequest } from '../debug/debug-protocol.ts';
import type { PhysMemory } from '../phys-memory.ts';
import { JsCoreRuntime } from '../../cpu/js/js-core-runtime.ts';
import { Rv32CoreRuntime } from '../../cpu/rv32/rv32-core-runtime.ts';

/**
 * Instructions an rv32 core runs before the group serves its other cores: ~0.1–0.2 ms, a tenth of
 * a lone core's slice, so that one busy hart delays the doorbells of its group mates that little.
 */
const GROUP_SLICE = 20_000;

export interface GroupMember {
  readonly index: number;
  /** The host asked the core to halt (RUN), or it ended by itself (a js core that faulted, a thread-death error). */
  shouldLeave(): boolean;
  /** Do what is pending now; how much work that was (0: idle, nothing to do until an event). */
  serve(): number;
  /** Milliseconds until the core must be served without a doorbell (a timer); undefined: none. */
  deadlineMs(): number | undefined;
  /** The group thread is about to sleep. */
  beforeSleep(): void;
  /** The core leaves the group: close what it must (reports its exit where a lone core would). */
  finish(): void;
  /** An exception escaped while serving the core: what killed a lone core's thread kills only this core. */
  fail(e: unknown): void;
  /** A debug request from the host (group control message), answered at once. */
  debug(req: DebugRequest): DebugReply;
}

/** The fault a lone core's thread death would have produced (worker-core.ts). */
export function diedMessage(e: unknown): CoreMessage {
  return {
    type: 'fault',
    fault: { kind: 'fatal', message: `core thread died: ${e instanceof Error ? e.message : String(e)}` },
  };
}

class JsMember implements GroupMember {
  readonly index: number;
  private readonly runtime: JsCoreRuntime;
  private readonly block: CoreBlock;
  private readonly post: (msg: CoreMessage) => void;
  private dead = false;

  constructor(index: number, runtime: JsCoreRuntime, block: CoreBlock, post: (msg: CoreMessage) => void) {
    this.index = index;
    this.runtime = runtime;
    this.block = block;
    this.post = post;
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
    this.block.takeH2C();
  }

  finish(): void {
    if (!this.dead) this.runtime.shutdown();
  }

  fail(e: unknown): void {
    this.dead = true;
    this.post(diedMessage(e));
  }

  debug(): DebugReply {
    return debugError('EOPNOTSUPP', 'a js core has no debug port');
  }
}

/** What a slice ended in, for serve(): whether the hart waits in WFI, is held by a debugger, or sits still for good. */
type Rv32Phase = 'busy' | 'idle' | 'stopped' | 'halted';

class Rv32Member implements GroupMember {
  readonly index: number;
  private readonly runtime: Rv32CoreRuntime;
  private readonly block: CoreBlock;
  private readonly post: (msg: CoreMessage) => void;
  private phase: Rv32Phase = 'busy';
  private dead = false;

  constructor(index: number, runtime: Rv32CoreRuntime, block: CoreBlock, post: (msg: CoreMessage) => void) {
    this.index = index;
    this.runtime = runtime;
    this.block = block;
    this.post = post;
  }

  // A lone rv32 core runs until the host halts it, even after it finished or faulted.
  shouldLeave(): boolean {
    return this.dead || this.block.load(CORE_WORD.RUN) !== RUN_STATE.RUNNING;
  }

  serve(): number {
    if (this.phase === 'stopped') return 0;
    // Held by a debugger: nothing to do until a debug request resumes it.
    if (this.phase === 'halted' && this.runtime.debugHalted) return 0;
    // In WFI the hart runs again only once an interrupt it waits for is pending (Rv32CoreRuntime.run).
    if (this.phase === 'idle' && !this.runtime.interruptPending()) return 0;
    this.phase = this.runtime.slice(GROUP_SLICE);
    return 1;
  }

  deadlineMs(): number | undefined {
    return this.phase === 'stopped' || this.runtime.debugHalted ? undefined : this.runtime.msUntilTimer();
  }

  debug(req: DebugRequest): DebugReply {
    const reply = this.runtime.debugRequest(req);
    // Resumed: serve it again at the next pass.
    if (req.op === 'resume' && this.phase === 'halted') this.phase = 'busy';
    return reply;
  }

  beforeSleep(): void {
    // The hart's mailbox device acknowledges its own doorbells.
  }

  finish(): void {
    if (!this.dead) this.runtime.flush();
  }

  fail(e: unknown): void {
    this.dead = true;
    this.post(diedMessage(e));
  }
}

/** Build (and, for a js core, boot) a core of `kind` from the data a lone core's worker would get. */
export async function createMember(
  kind: CoreKind,
  data: CoreWorkerData,
  memory: PhysMemory,
  post: (msg: CoreMessage) => void,
): Promise<GroupMember> {
  const block = new CoreBlock(memory.device, data.coreIndex);
  const map = new AddressMap(data.addressMap);
  const host = { coreName: data.coreName, memory, map, block, bootAddr: data.bootAddr, post };
  if (kind === 'js') {
    const runtime = new JsCoreRuntime(host);
    await runtime.boot();
    return new JsMember(data.coreIndex, runtime, block, post);
  }
  const engine = data.options['engine'] === 'interpreter' ? 'interpreter' : 'jit';
  const runtime = new Rv32CoreRuntime({
    ...host,
    engine,
    ...(data.debug === undefined ? {} : { debug: data.debug }),
  });
  return new Rv32Member(data.coreIndex, runtime, block, post);
}
