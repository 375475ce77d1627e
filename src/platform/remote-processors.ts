// What a user program sees of an AMP system, whichever platform runs it: the remote processors
// (state, firmware, start/stop, attach/detach, recovery, coredump, trace, crash notification) and
// their rpmsg channels (scoped per processor), each opened as an endpoint with send/receive/close.
// The virtual SoC (soc/soc-processors.ts) and the Linux kernel (linux/) implement it, so one program
// runs on either; the names and strings are those of Linux's sysfs (remoteproc_sysfs.c).

import type { CoredumpMode, RprocState } from '../remoteproc/rproc-state.ts';
import type { EventSource } from './watched-emitter.ts';

export type { CoredumpMode };

/** A processor's state: sysfs `state` strings; `invalid` is what Linux prints past RPROC_LAST. */
export type ProcessorState = RprocState | 'invalid';

/** sysfs `recovery`: whether a crashed processor is recovered on its own. */
export type RecoveryMode = 'enabled' | 'disabled';

/** rpmsg_core.c RPMSG_ADDR_ANY: a channel's local address before a driver binds it. */
export const RPMSG_ADDR_ANY = 0xffff_ffff;

export interface ProcessorInfo {
  /** rproc->name (sysfs `name`), e.g. "m4" on an STM32MP1, "rproc1" on the virtual SoC. */
  readonly name: string;
  /** The device: remoteprocN. */
  readonly device: string;
  readonly state: ProcessorState;
  /** sysfs `firmware`: the name the next start loads ("unknown" while attached). */
  readonly firmware: string;
  readonly recovery: RecoveryMode;
  readonly coredump: CoredumpMode;
}

export interface ProcessorEvents extends Record<string, unknown> {
  /** The state changed (on Linux: seen by re-reading `state`, see linux/state-poller.ts). */
  state: { readonly processor: string; readonly from: ProcessorState; readonly to: ProcessorState };
  /** The processor crashed: state `crashed` was entered; `type` when the platform knows it. */
  crash: { readonly processor: string; readonly type: string | undefined };
}

/**
 * The firmware to start: a name to look up where the platform looks (Linux: the firmware search
 * path), a file to install there first, or bytes to install under a name.
 */
export type FirmwareSpec =
  string | { readonly file: string } | { readonly name: string; readonly bytes: Uint8Array };

export interface StartOptions {
  /** Set before starting; when absent the processor's current `firmware` is loaded. */
  readonly firmware?: FirmwareSpec;
}

export interface WaitOptions {
  /** How long to wait for the channel to be announced, ms (default 10 000). */
  readonly timeoutMs?: number;
}

export interface RemoteProcessor extends EventSource<ProcessorEvents> {
  readonly name: string;
  readonly device: string;
  info(): Promise<ProcessorInfo>;
  state(): Promise<ProcessorState>;
  /**
   * Boot (rproc_boot) from offline. Refused with EBUSY when the processor is already up: writing
   * `start` to a running processor would only take another power reference (Linux ≥ 5.19), which
   * one `stop` would then not undo. A failed start is reported, never retried.
   */
  start(options?: StartOptions): Promise<void>;
  /** Shut down (rproc_shutdown) a running or attached processor; EINVAL otherwise, as Linux. */
  stop(): Promise<void>;
  /** Attach to a detached processor (one the boot loader started); EINVAL otherwise. */
  attach(): Promise<void>;
  /** Detach from an attached processor, leaving it running; EINVAL otherwise, as Linux. */
  detach(): Promise<void>;
  recovery(): Promise<RecoveryMode>;
  setRecovery(mode: RecoveryMode): Promise<void>;
  /** Recover a crashed processor now, leaving the recovery setting alone (sysfs `recover`). */
  recover(): Promise<void>;
  coredump(): Promise<CoredumpMode>;
  /** EBUSY while crashed, as Linux. */
  setCoredump(mode: CoredumpMode): Promise<void>;
  /** The text of trace buffer `index` (debugfs traceN), up to its first NUL. */
  trace(index?: number): Promise<string>;
  /** Report a crash of `type` (0 mmufault, 1 watchdog, 2 fatal error) to test recovery. */
  crash(type?: number): Promise<void>;
  /** This processor's channels. */
  channels(): Promise<readonly ChannelInfo[]>;
  /** The channel `name` of this processor, waiting for its announcement. */
  waitForChannel(name: string, options?: WaitOptions): Promise<ChannelInfo>;
}

/**
 * Which processor's channels to look at. There is no default: a channel name alone names nothing
 * on a system with several cores (any of them may announce it), so asking for any processor's
 * channel is a choice written out.
 */
export type ChannelScope = { readonly processor: string } | { readonly anyProcessor: true };

/**
 * How user space reaches a channel on Linux: `raw` = rpmsg_char binds it on its own (name
 * "rpmsg-raw", /dev/rpmsgN), `tty` = rpmsg_tty binds it ("rpmsg-tty", /dev/ttyRPMSGn), `other` =
 * any other name, which rpmsg_char serves once bound to it through driver_override.
 */
export type ChannelKind = 'raw' | 'tty' | 'other';

export interface ChannelInfo {
  /** Unique on the system: the rpmsg device name, "<virtioN>.<name>.<src>.<dst>" (decimal). */
  readonly id: string;
  readonly name: string;
  /**
   * The processor that announced it (its rproc name); undefined for a channel no remote processor
   * owns (on Linux, one whose device does not sit under a remoteproc device, e.g. Qualcomm SMD).
   */
  readonly processor: string | undefined;
  /** Our address; RPMSG_ADDR_ANY until a driver binds the channel. */
  readonly src: number;
  /** The remote's address. */
  readonly dst: number;
  /** Whether the local side announced it (a local server channel). */
  readonly announce: boolean;
  readonly kind: ChannelKind;
  /** The driver bound to it, if any (Linux: rpmsg_chrdev, rpmsg_tty, ...). */
  readonly driver: string | undefined;
}

export interface OpenOptions {
  /**
   * Linux: a channel bound to a driver other than rpmsg_chrdev/rpmsg_tty is only taken over (unbind,
   * driver_override, bind) when this is set; the old driver is bound back on close.
   */
  readonly takeOver?: boolean;
  /** How long a send may wait for a free buffer, ms (default 15 000, Linux's rpmsg_send). */
  readonly sendTimeoutMs?: number;
}

export interface ReceiveOptions {
  /** Reject with ETIMEDOUT after this many ms (default: wait until a message or the channel ends). */
  readonly timeoutMs?: number;
}

/** An open channel: one message per send; receive gives one message (raw) or a chunk of bytes (tty). */
export interface ChannelEndpoint {
  readonly channel: ChannelInfo;
  /** The device file on Linux (/dev/rpmsgN, /dev/ttyRPMSGn); undefined on the virtual SoC. */
  readonly path: string | undefined;
  send(data: Uint8Array | string): Promise<void>;
  /** The next message; EPIPE once the channel is gone, ETIMEDOUT after `timeoutMs`. */
  receive(options?: ReceiveOptions): Promise<Uint8Array>;
  /** Every message until the channel ends or the endpoint is closed. */
  messages(): AsyncIterableIterator<Uint8Array>;
  close(): Promise<void>;
}

export interface RemoteProcessors {
  /** Which platform this is, for messages. */
  readonly platform: 'virtual-soc' | 'linux';
  list(): Promise<readonly ProcessorInfo[]>;
  /** A processor by rproc name ("m4") or device name ("remoteproc0"); ENODEV when there is none. */
  get(name: string): Promise<RemoteProcessor>;
  /** Channels now present, every processor's when no scope is given. */
  channels(scope?: ChannelScope): Promise<readonly ChannelInfo[]>;
  /** The first channel named `name` within `scope`, waiting for its announcement. */
  waitForChannel(name: string, scope: ChannelScope, options?: WaitOptions): Promise<ChannelInfo>;
  open(channel: ChannelInfo, options?: OpenOptions): Promise<ChannelEndpoint>;
  /** Stop watching states and close every endpoint this object opened. */
  close(): Promise<void>;
}

/** Whether `channel` lies within `scope`. */
export function inScope(channel: ChannelInfo, scope: ChannelScope | undefined): boolean {
  return scope === undefined || 'anyProcessor' in scope || channel.processor === scope.processor;
}

/** The kind of a channel by name (rpmsg_char.c and rpmsg_tty.c id tables). */
export function channelKind(name: string): ChannelKind {
  if (name === 'rpmsg-raw') return 'raw';
  if (name === 'rpmsg-tty') return 'tty';
  return 'other';
}
