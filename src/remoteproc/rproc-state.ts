// Processor states, crash types and feature flags, with the strings Linux's sysfs prints.
// Mirrors enum rproc_state, enum rproc_crash_type and RPROC_FEAT_* in include/linux/remoteproc.h.

/** The states and their sysfs `state` strings. `suspended` exists in Linux but is never entered. */
export const RPROC_STATE = {
  OFFLINE: 'offline',
  SUSPENDED: 'suspended',
  RUNNING: 'running',
  CRASHED: 'crashed',
  DELETED: 'deleted',
  ATTACHED: 'attached',
  DETACHED: 'detached',
} as const;

export type RprocState = (typeof RPROC_STATE)[keyof typeof RPROC_STATE];

export const RPROC_MMUFAULT = 0;
export const RPROC_WATCHDOG = 1;
export const RPROC_FATAL_ERROR = 2;

/** Crash types are small integers as in Linux; anything else reads as "unknown". */
export type RprocCrashType = number;

export function crashTypeName(type: RprocCrashType): string {
  switch (type) {
    case RPROC_MMUFAULT:
      return 'mmufault';
    case RPROC_WATCHDOG:
      return 'watchdog';
    case RPROC_FATAL_ERROR:
      return 'fatal error';
    default:
      return 'unknown';
  }
}

/** Recover an attached processor by detaching and re-attaching instead of reloading firmware. */
export const RPROC_FEAT_ATTACH_ON_RECOVERY = 'attach-on-recovery';
export type RprocFeature = typeof RPROC_FEAT_ATTACH_ON_RECOVERY;

export const COREDUMP_MODE = {
  DISABLED: 'disabled',
  ENABLED: 'enabled',
  INLINE: 'inline',
} as const;

export type CoredumpMode = (typeof COREDUMP_MODE)[keyof typeof COREDUMP_MODE];
