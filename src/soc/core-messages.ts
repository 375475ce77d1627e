// Messages between the host and a core's worker thread. Run control and doorbells go through
// shared memory (CoreBlock); these carry only what is rare and not time-critical: console output,
// the core's fatal fault, and its exit.

import type { PhysMemoryShared } from './phys-memory.ts';
import type { AddressWindow } from './address-map.ts';
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

export type CoreMessage =
  | { readonly type: 'uart'; readonly text: string }
  | { readonly type: 'fault'; readonly fault: CoreFault }
  | { readonly type: 'exit'; readonly code: number };

export function isCoreMessage(x: unknown): x is CoreMessage {
  if (typeof x !== 'object' || x === null || !('type' in x)) return false;
  const t = x.type;
  return t === 'uart' || t === 'fault' || t === 'exit';
}
