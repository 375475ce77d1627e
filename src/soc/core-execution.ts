// How a remote core of the virtual SoC executes, seen from its platform driver (soc-core.ts): in a
// worker thread on host time (worker-execution.ts), or in the host thread under the SoC scheduler
// on virtual time (scheduler/scheduled-execution.ts). Either way the driver starts and stops the
// core, kicks it, talks to its debug port, and hears from it through a CoreSink.

import type { DoorbellModeration } from './doorbell-moderation.ts';
import type { CoreExitCause, CoreFault } from './core-messages.ts';
import type { DebugReply, DebugRequest, DebugSetup, DebugStop } from './debug/debug-protocol.ts';
import type { UartInputPort } from './uart-input.ts';

/** What the platform driver does with what its core reports. */
export interface CoreSink {
  uart(text: string): void;
  /** The core faulted or its thread died: a crash report. */
  fault(fault: CoreFault): void;
  /** The firmware finished (test finisher) or the core was halted, with this code. */
  exit(code: number, cause: CoreExitCause): void;
  /**
   * The core rang the host's mailbox: `mask` holds the notify ids (CoreBlock encoding). Returns
   * whether any of them had work (a queue with news): false for a spurious ring.
   */
  interrupt(mask: number): boolean;
  /** The core's watchdog bit after `periodMs` without a kick. */
  watchdogBite(periodMs: number): void;
  /** The core stopped for a debugger by itself (debug port cores). */
  debugStop(stop: DebugStop): void;
}

/** Also the port the host's UART input goes through (poke the core, retry on its clock). */
export interface CoreExecution extends UartInputPort {
  readonly running: boolean;
  /** How the host moderates this core's doorbell (worker cores: doorbell-moderation.ts). */
  readonly moderation?: DoorbellModeration;
  /** Whether a debugger holds the core (halted): its watchdog is paused meanwhile. */
  readonly debugHeld: boolean;
  /**
   * Release the core at `bootAddr` (with a debugger's breakpoints set, held at the entry point if
   * `debug` says so); starts the host's services for it too (startServices).
   */
  start(bootAddr: number, debug?: DebugSetup): Promise<void>;
  /** Halt the core and stop its services; resolves once it is still. */
  stop(): Promise<void>;
  /** The host's mailbox write: notify id `notifyId` pending, the core woken. */
  kick(notifyId: number): void;
  /** Post host events (HOST_EVENT bits) and wake the core. */
  raise(events: number): void;
  /**
   * Resolves once the core has taken the host events `bits` (or is not running), or after
   * `timeoutMs`; true when taken. A core takes its events before it next touches its rings, so
   * after this nothing the core does belongs to the session the events ended.
   */
  hostEventsTaken(bits: number, timeoutMs: number): Promise<boolean>;
  /** Listen to the core's mailbox and run its watchdog (attach to a core already running). */
  startServices(): void;
  /** Stop listening and watching; the core itself runs on (detach). */
  stopServices(): void;
  /** @internal handle what the core has rung, if anything, now. */
  takeInterrupts(): void;
  /** A request to the core's debug port; an error reply when the core is not running or has none. */
  debug(req: DebugRequest): Promise<DebugReply>;
}
