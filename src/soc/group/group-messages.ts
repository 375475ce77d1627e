// Messages between the host and a core group's worker thread (several cores in one thread, see
// core-group.ts). Like a lone core's (core-messages.ts) they carry only what is rare: which core
// joins the group, the group's end, which core left it, and each core's console output, fault and exit, tagged with the
// core's board index so that the host routes them to that core. Doorbells and halt requests go
// through shared memory as for any core.

import { isDebugRequest, type DebugRequest } from '../debug/debug-protocol.ts';
import { isCoreMessage, type CoreMessage, type CoreWorkerData } from '../core-messages.ts';
import type { PhysMemoryShared } from '../phys-memory.ts';

/** workerData of a group thread. */
export interface GroupWorkerData {
  readonly memory: PhysMemoryShared;
  /** Board index of the core whose WAKE / CORE_SLEEPING / GROUP_CONTROL words the group sleeps on. */
  readonly leaderIndex: number;
  /** GROUP_CONTROL when the thread starts: the seq of the last message an earlier thread handled. */
  readonly controlSeq: number;
}

/** Host → group thread; each is announced through GROUP_CONTROL with its `seq`. */
export type GroupControl =
  | {
      readonly type: 'add-core';
      readonly seq: number;
      /** The core; its engine module says what runs it. */
      readonly data: CoreWorkerData;
    }
  | { readonly type: 'close'; readonly seq: number }
  /** A debug request to core `core`; answered with a 'debug-reply' core message carrying `id`. */
  | {
      readonly type: 'debug';
      readonly seq: number;
      readonly core: number;
      readonly id: number;
      readonly req: DebugRequest;
    };

/** Group thread → host. */
export type GroupReport =
  /** What a lone core's worker would post, from the core with this board index. */
  | { readonly type: 'core'; readonly core: number; readonly msg: CoreMessage }
  /** The core left the group: halted by the host, or ended by itself (a js core that faulted). */
  | { readonly type: 'halted'; readonly core: number };

export function isGroupControl(x: unknown): x is GroupControl {
  if (typeof x !== 'object' || x === null || !('type' in x) || !('seq' in x)) return false;
  if (typeof x.seq !== 'number') return false;
  if (x.type === 'debug')
    return (
      'core' in x &&
      typeof x.core === 'number' &&
      'id' in x &&
      typeof x.id === 'number' &&
      'req' in x &&
      isDebugRequest(x.req)
    );
  return x.type === 'close' || (x.type === 'add-core' && 'data' in x);
}

export function isGroupReport(x: unknown): x is GroupReport {
  if (typeof x !== 'object' || x === null || !('type' in x) || !('core' in x)) return false;
  if (typeof x.core !== 'number') return false;
  if (x.type === 'core') return 'msg' in x && isCoreMessage(x.msg);
  return x.type === 'halted';
}
