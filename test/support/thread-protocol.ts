// What the thread loopback (host side) and its worker (remote core) share: the doorbell words and
// the messages passed at start and stop. Kept apart so that the worker loads no host code. Test-only.

/** Doorbell words: host → core sequence, core → host sequence, pending core → host ids, stop. */
export const BELL = { H2C_SEQ: 0, C2H_SEQ: 1, C2H_PENDING: 2, STOP: 3 } as const;

/** What the worker gets. */
export interface ThreadRemoteData {
  readonly ram: SharedArrayBuffer;
  readonly ramBase: number;
  readonly pool: SharedArrayBuffer;
  readonly poolBase: number;
  readonly bells: SharedArrayBuffer;
  readonly tableDa: number;
  readonly tableSize: number;
  /** Services to announce: echoes, or sinks (named rpmsg-sink*) that only count. */
  readonly services: readonly string[];
}

/** What the worker reports when it stops. */
export interface ThreadRemoteResult {
  readonly echoed: number;
  readonly errors: readonly string[];
}
