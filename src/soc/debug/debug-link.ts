// The host's end of one core's debug port, under whichever execution runs the core: numbers each
// request, matches the core's replies to them (or fails them when the core does not answer in
// time, or stops), hands on the stops the core reports by itself, and keeps track of whether a
// debugger holds the core, which the execution uses to pause the core's watchdog (and, in the host
// thread, the SoC scheduler: virtual time stands still while a debugger holds a core).

import { debugError, type DebugReply, type DebugRequest, type DebugStop } from './debug-protocol.ts';

/** How long a core may take to answer: it answers between slices (~1 ms) or at once when halted. */
const DEBUG_REQUEST_TIMEOUT_MS = 10_000;

export interface DebugLinkEvents {
  /** The core stopped by itself (a breakpoint, a watch point, a fault, held at its entry point). */
  stop(stop: DebugStop): void;
  /** A debugger holds the core (on) or let it run again (off). */
  held(on: boolean): void;
}

interface Pending {
  readonly req: DebugRequest;
  readonly resolve: (reply: DebugReply) => void;
  readonly timer: NodeJS.Timeout;
}

export class DebugLink {
  private readonly send: (id: number, req: DebugRequest) => void;
  private readonly events: DebugLinkEvents;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private heldNow = false;

  /** @param send posts request `id` to the core; it throws when the core is not running. */
  constructor(send: (id: number, req: DebugRequest) => void, events: DebugLinkEvents) {
    this.send = send;
    this.events = events;
  }

  /** Whether a debugger holds the core (halted). */
  get held(): boolean {
    return this.heldNow;
  }

  request(req: DebugRequest): Promise<DebugReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(
          debugError(
            'ETIMEDOUT',
            `the core did not answer the debug request ${req.op} within ${DEBUG_REQUEST_TIMEOUT_MS} ms`,
          ),
        );
      }, DEBUG_REQUEST_TIMEOUT_MS);
      // A debugger waiting on a core must not be what keeps the process alive.
      timer.unref();
      this.pending.set(id, { req, resolve, timer });
      try {
        this.send(id, req);
      } catch (e) {
        this.settle(id, debugError('ENODEV', e instanceof Error ? e.message : String(e)));
      }
    });
  }

  /** The core answered request `id` (an id that is no longer pending, e.g. timed out, is dropped). */
  reply(id: number, reply: DebugReply): void {
    this.settle(id, reply);
  }

  /** The core reported a stop of its own. */
  stopped(stop: DebugStop): void {
    this.setHeld(true);
    this.events.stop(stop);
  }

  /**
   * The core starts held at its entry point (DebugSetup.hold): held from now on, before its own
   * report of that stop arrives (a core in a thread may take a while to be built).
   */
  startsHeld(): void {
    this.setHeld(true);
  }

  /** The core stopped running: whatever is pending fails, and nothing holds it any more. */
  closed(why: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, debugError('ENODEV', why));
    this.setHeld(false);
  }

  private settle(id: number, reply: DebugReply): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (reply.ok) {
      if (reply.stop !== undefined) this.setHeld(true);
      if (p.req.op === 'resume') this.setHeld(false);
    }
    p.resolve(reply);
  }

  private setHeld(on: boolean): void {
    if (on === this.heldNow) return;
    this.heldNow = on;
    this.events.held(on);
  }
}
