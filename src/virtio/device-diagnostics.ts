// Error reporting shared by the device-side (remote) virtio libraries — the rpmsg remote role and
// the console device: every problem becomes one line prefixed with the device's name, kept as the
// last error and handed to the user's onError hook; user callbacks and address translators are
// called so that their exceptions are counted and reported, never thrown into the device.

import { hex } from '../util/errors.ts';

/** The counters a device keeps for the failures reported here. */
export interface DiagnosticCounters {
  callbackErrors: number;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class DeviceDiagnostics {
  lastError: string | undefined;
  private readonly name: string;
  private readonly counters: DiagnosticCounters;
  private readonly onError: ((text: string) => void) | undefined;

  constructor(name: string, counters: DiagnosticCounters, onError: ((text: string) => void) | undefined) {
    this.name = name;
    this.counters = counters;
    this.onError = onError;
  }

  report(reason: string): void {
    const text = `${this.name}: ${reason}`;
    this.lastError = text;
    if (this.onError === undefined) return;
    try {
      this.onError(text);
    } catch {
      // An onError that throws has nowhere to report to; counting it is all we can do.
      this.counters.callbackErrors++;
    }
  }

  /** Run user code (a callback or hook); an exception is counted and reported, not thrown. */
  userHook(fn: () => void, what: string): void {
    try {
      fn();
    } catch (e) {
      this.counters.callbackErrors++;
      this.report(`${what} threw: ${errorText(e)}`);
    }
  }

  /** A translator is user code: an exception from it, or a view of the wrong length, means "not mapped". */
  safeTranslate(
    fn: (addr: bigint | number, len: number) => Uint8Array | undefined,
    addr: bigint | number,
    len: number,
  ): Uint8Array | undefined {
    try {
      const view = fn(addr, len);
      return view?.length === len ? view : undefined;
    } catch (e) {
      this.counters.callbackErrors++;
      this.report(`translate(${hex(addr)}, ${hex(len)}) threw: ${errorText(e)}`);
      return undefined;
    }
  }
}
