// The text formats of the files the backend reads, exactly as the kernel prints them: every sysfs
// attribute ends in one "\n" (sprintf(buf, "%s\n", ...)); `state` is one of the strings of
// rproc_state_string[] (remoteproc_sysfs.c state_show), recovery/coredump their words; rpmsg
// `src`/`dst` are "0x%x\n" (rpmsg_core.c rpmsg_show_attr, so RPMSG_ADDR_ANY reads 0xffffffff) and
// `announce` is "true\n"/"false\n". Anything else is reported, never guessed at.

import { RprocError } from '../util/errors.ts';
import type { CoredumpMode, ProcessorState, RecoveryMode } from '../platform/remote-processors.ts';

const STATES: ReadonlySet<string> = new Set<ProcessorState>([
  'offline',
  'suspended',
  'running',
  'crashed',
  'deleted',
  'attached',
  'detached',
  'invalid',
]);

/** The attribute's text without the one "\n" sysfs ends it with. */
export function attrText(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** A `state` string, or undefined for anything the kernel does not print. */
export function parseState(text: string): ProcessorState | undefined {
  return STATES.has(text) ? (text as ProcessorState) : undefined;
}

export function parseRecovery(text: string, path: string): RecoveryMode {
  if (text === 'enabled' || text === 'disabled') return text;
  throw unexpected(path, text, '"enabled" or "disabled"');
}

export function parseCoredump(text: string, path: string): CoredumpMode {
  if (text === 'disabled' || text === 'enabled' || text === 'inline') return text;
  throw unexpected(path, text, '"disabled", "enabled" or "inline"');
}

/** rpmsg `src`/`dst`: "0x%x" of a u32. */
export function parseRpmsgAddr(text: string, path: string): number {
  if (!/^0x[0-9a-f]{1,8}$/.test(text)) throw unexpected(path, text, 'a hex address such as 0x400');
  return Number.parseInt(text.slice(2), 16);
}

export function parseAnnounce(text: string, path: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw unexpected(path, text, '"true" or "false"');
}

/** The index N of remoteprocN (the sort key of `ls`), or undefined for other names. */
export function rprocIndex(device: string): number | undefined {
  const m = /^remoteproc(\d+)$/.exec(device);
  return m === null ? undefined : Number(m[1]);
}

/** The n of a ttyRPMSGn / rpmsgN entry, for picking the class device of a channel. */
export function classDeviceIndex(entry: string, prefix: string): number | undefined {
  if (!entry.startsWith(prefix)) return undefined;
  const rest = entry.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

function unexpected(path: string, text: string, wanted: string): RprocError {
  return new RprocError(
    'EIO',
    'sysfs-read',
    `${path} reads ${JSON.stringify(text)}, not ${wanted}: not a kernel this backend knows`,
  );
}
