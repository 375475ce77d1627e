// The registry of core kinds: the one place that says what runs a remote core of each kind (js,
// rv32, and whatever comes next) wherever the core runs — a worker thread of its own, a core
// group's thread, or the host thread under the SoC scheduler. Engines live in src/cpu and register
// here (soc never imports an engine); worker threads load an engine by the module URL it gave.

import { RprocError } from '../util/errors.ts';
import { AddressMap } from './address-map.ts';
import { CoreBlock } from './core-block.ts';
import type { CoreMessage, CoreWorkerData } from './core-messages.ts';
import type { DebugReply, DebugRequest, DebugSetup } from './debug/debug-protocol.ts';
import type { GroupMember } from './group/group-member.ts';
import type { PhysMemory } from './phys-memory.ts';
import type { SocScheduler } from './scheduler/soc-scheduler.ts';

/** What a core is given wherever it runs. */
export interface CoreContext {
  readonly coreName: string;
  /** The core's board index (its CoreBlock). */
  readonly coreIndex: number;
  readonly memory: PhysMemory;
  /** The core's own view of memory (da → pa). */
  readonly map: AddressMap;
  readonly block: CoreBlock;
  readonly bootAddr: number;
  /** Kind-specific settings (VirtualSocOptions.coreOptions, e.g. `engine: 'interpreter'` for rv32). */
  readonly options: Readonly<Record<string, string | number | boolean>>;
  /** Console output, faults and the exit code go here. */
  readonly post: (msg: CoreMessage) => void;
  /** A debugger's state to start with (cores with a debug port). */
  readonly debug?: DebugSetup;
  /**
   * A lone core's debug inbox (core-worker.ts): the next debug message the host posted, taken
   * synchronously (the core's loop may never yield to the event loop), or undefined.
   */
  readonly debugInbox?: () => unknown;
}

/** One core runtime as the SoC scheduler drives it (scheduled-execution.ts); times are absolute virtual ns. */
export interface ScheduledCore {
  /** The core has work of its own (not in WFI, or something wakes it). */
  runnable(): boolean;
  /** Run for at most budgetNs from now; returns the virtual ns used. */
  runFor(budgetNs: number): number;
  deadlineNs(): number | undefined;
  /** The host kicked it. */
  kicked(): void;
  halt(): void;
  /** The core's debug port, answering at once (between quanta the core is at an instruction boundary); absent: none. */
  readonly debug?: (req: DebugRequest) => DebugReply;
}

/** How one kind of core executes, in each of the three places a core can run. */
export interface CoreEngine {
  /** Run a lone core in the calling worker thread until the host halts it (core-worker.ts). */
  run(ctx: CoreContext): Promise<void>;
  /** Build (and boot) a core that a core group's thread serves on host time (group/group-loop.ts). */
  groupMember(ctx: CoreContext): Promise<GroupMember>;
  /**
   * Build (and boot) a core the SoC scheduler drives in the host thread on virtual time; a kind
   * that builds its core synchronously returns it as is, so that starting it takes no extra turn.
   */
  scheduled(ctx: CoreContext, scheduler: SocScheduler): ScheduledCore | Promise<ScheduledCore>;
}

export interface CoreKindDefinition {
  /** The kind's name, as the board names it (CoreSpec.kind). */
  readonly name: string;
  readonly engine: CoreEngine;
  /**
   * Whether its cores have a UART receiver that takes the host's input from the core's receive
   * ring (uart-rx-ring.ts); the host's SocCore.uart refuses cores without one.
   */
  readonly uartInput?: boolean;
  /**
   * The module whose export `engine` is this kind's engine: what a worker thread imports to run
   * the core (compiled or TypeScript, matching the worker script; see worker-script.ts).
   */
  engineModule(): URL;
}

const kinds = new Map<string, CoreKindDefinition>();

/** Register a kind; registering the same definition again is a no-op, another one under a taken name is EEXIST. */
export function registerCoreKind(def: CoreKindDefinition): void {
  const known = kinds.get(def.name);
  if (known === undefined) kinds.set(def.name, def);
  else if (known !== def)
    throw new RprocError('EEXIST', 'core-kind', `core kind "${def.name}" is already registered`);
}

/** The definition of kind `name`, for core `core`; ENODEV when no engine registered it. */
export function coreKind(name: string, core: string): CoreKindDefinition {
  const def = kinds.get(name);
  if (def === undefined) {
    const known = [...kinds.keys()];
    throw new RprocError(
      'ENODEV',
      'core-kind',
      `no engine for core kind "${name}" of ${core} (registered: ${known.length === 0 ? 'none' : known.join(', ')}; ` +
        `the built-in engines register when src/cpu/core-kinds.ts is imported)`,
    );
  }
  return def;
}

function isCoreEngine(x: unknown): x is CoreEngine {
  if (typeof x !== 'object' || x === null) return false;
  return (
    'run' in x &&
    typeof x.run === 'function' &&
    'groupMember' in x &&
    typeof x.groupMember === 'function' &&
    'scheduled' in x &&
    typeof x.scheduled === 'function'
  );
}

/** In a worker thread: the engine of the module a core's workerData names. */
export async function loadCoreEngine(href: string): Promise<CoreEngine> {
  const mod: unknown = await import(href);
  const engine = typeof mod === 'object' && mod !== null && 'engine' in mod ? mod.engine : undefined;
  if (!isCoreEngine(engine))
    throw new RprocError('ENOEXEC', 'core-kind', `${href} does not export a core engine as \`engine\``);
  return engine;
}

/** In a worker thread: the context of the core `data` describes, over the SoC memory the thread attached. */
export function coreContextOf(
  data: CoreWorkerData,
  memory: PhysMemory,
  post: (msg: CoreMessage) => void,
): CoreContext {
  return {
    coreName: data.coreName,
    coreIndex: data.coreIndex,
    memory,
    map: new AddressMap(data.addressMap),
    block: new CoreBlock(memory.device, data.coreIndex),
    bootAddr: data.bootAddr,
    options: data.options,
    post,
    ...(data.debug === undefined ? {} : { debug: data.debug }),
  };
}
