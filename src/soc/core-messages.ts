// Messages between the host and a core's worker thread. Run control and doorbells go through
// shared memory (CoreBlock); these carry only what is rare and not time-critical: console output,
// the core's fatal fault, its exit, and the debug port's requests, replies and stops.

import type { PhysMemoryShared } from './phys-memory.ts';
import type { AddressWindow } from './address-map.ts';
import {
  isDebugReply,
  isDebugRequest,
  type DebugReply,
  type DebugRequest,
  type DebugSetup,
  type DebugStop,
} from './debug/debug-protocol.ts';
import type { ElfNote } from '../elf/elf-core-notes.ts';

/** workerData of every core worker. */
export interface CoreWorkerData {
  readonly coreName: string;
  readonly coreIndex: number;
  readonly memory: PhysMemoryShared;
  readonly addressMap: readonly AddressWindow[];
  readonly bootAddr: number;
  /** The module the thread loads the core's engine from (CoreKindDefinition.engineModule, core-kind.ts). */
  readonly engineModule: string;
  /** Worker-kind specific settings (e.g. the rv32 core's slice size). */
  readonly options: Readonly<Record<string, string | number | boolean>>;
  /** A debugger's state to apply before the first instruction (debug port cores only). */
  readonly debug?: DebugSetup;
}

/** A fault the core could not handle itself: it becomes a crash report. */
export interface CoreFault {
  /** RPROC_MMUFAULT for bad accesses, RPROC_FATAL_ERROR otherwise. */
  readonly kind: 'mmufault' | 'fatal';
  readonly message: string;
  readonly pc?: number;
  readonly cause?: number;
  readonly tval?: number;
  /**
   * The core's state when it stopped, as ELF core notes (NT_PRSTATUS with the registers...), built
   * by the core's engine, which alone knows its register layout; the platform driver hands them to
   * the coredump. Cores that cannot tell (js cores, a dead thread) leave it out.
   */
  readonly notes?: readonly ElfNote[];
}

/**
 * Why a core stopped running its firmware: through the test finisher (QEMU virt's sifive_test:
 * 'pass' is 0x5555, 'fail' is (code << 16) | 0x3333, 'reset' is 0x7777), or because the host
 * halted it ('halt': a js core reports its end on every halt).
 */
export type CoreExitCause = 'pass' | 'fail' | 'reset' | 'halt';

export type CoreMessage =
  | { readonly type: 'uart'; readonly text: string }
  | { readonly type: 'fault'; readonly fault: CoreFault }
  | { readonly type: 'exit'; readonly code: number; readonly cause: CoreExitCause }
  /** The core stopped for the debugger by itself (breakpoint, watch point, fault, held at entry). */
  | { readonly type: 'debug-stop'; readonly stop: DebugStop }
  /** The answer to the host's debug request `id`. */
  | { readonly type: 'debug-reply'; readonly id: number; readonly reply: DebugReply };

export function isCoreMessage(x: unknown): x is CoreMessage {
  if (typeof x !== 'object' || x === null || !('type' in x)) return false;
  const t = x.type;
  if (t === 'debug-stop') return 'stop' in x && typeof x.stop === 'object' && x.stop !== null;
  if (t === 'debug-reply')
    return 'id' in x && typeof x.id === 'number' && 'reply' in x && isDebugReply(x.reply);
  return t === 'uart' || t === 'fault' || t === 'exit';
}

/** Host → lone core worker: a debug request (announced by bumping CORE_WORD.DEBUG_SEQ). */
export interface CoreDebugMessage {
  readonly type: 'debug';
  readonly id: number;
  readonly req: DebugRequest;
}

export function isCoreDebugMessage(x: unknown): x is CoreDebugMessage {
  if (typeof x !== 'object' || x === null || !('type' in x) || x.type !== 'debug') return false;
  return 'id' in x && typeof x.id === 'number' && 'req' in x && isDebugRequest(x.req);
}
