// What a TypeScript firmware program running on a js core can use: the rpmsg device role over the
// SoC's shared memory, the virtio console device (when the table declares one), a trace buffer (the RSC_TRACE entry of its table), a UART, a watchdog,
// time and sleeping on the core's own scheduler, and ways to fault like real firmware does.

import type { RpmsgVirtioDevice } from '../../rpmsg/remote/rpmsg-virtio-device.ts';
import type { VirtioConsoleDevice } from '../../console/console-device.ts';

export interface JsFirmwareEnv {
  readonly coreName: string;
  /** The rpmsg device (remote role) bound to the firmware's rpmsg vdev. */
  readonly rpmsg: RpmsgVirtioDevice;
  /**
   * The console device (device side) of the firmware's rproc-serial (11) or console (3) vdev, or
   * undefined when the table declares none. write() to the host, onData() for host input.
   */
  readonly console: VirtioConsoleDevice | undefined;
  /** Append a line to the trace buffer the host reads as trace0. */
  trace(line: string): void;
  /** Print on the core's UART (the host shows it as console output). */
  uart(text: string): void;
  readonly watchdog: {
    /** Arm the watchdog: kick at least every `periodMs` or the host reports RPROC_WATCHDOG. */
    start(periodMs: number): void;
    kick(): void;
  };
  /** Milliseconds since the core started. */
  now(): number;
  /** Resolve after `ms` on the core's scheduler (keeps servicing rpmsg meanwhile). */
  sleep(ms: number): Promise<void>;
  /** True once the host asked the core to halt: long-running loops should return. */
  readonly halting: boolean;
  /** Store a word at a device address, as firmware does; an unmapped address is an MMU fault. */
  store32(da: number, value: number): void;
  load32(da: number): number;
  /** Die with a fatal error (an unhandled exception in firmware terms). */
  panic(message: string): never;
}

/** A firmware program: runs until it returns (the core then idles) or the host halts the core. */
export type JsProgram = (env: JsFirmwareEnv) => void | Promise<void>;
