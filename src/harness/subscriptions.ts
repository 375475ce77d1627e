// Listeners a harness object put on the SoC's emitters, removed together when it is done, so that a
// finished run, expectation or fault leaves no listener behind on a SoC that lives on.

import type { EventMap, TypedEmitter } from '../util/typed-emitter.ts';

export class Subscriptions {
  private readonly undo: (() => void)[] = [];

  /** Type arguments are explicit (`on<RprocEvents, 'state'>(...)`): TS cannot infer them from the emitter. */
  on<E extends EventMap, K extends keyof E & string>(
    emitter: TypedEmitter<E>,
    event: K,
    listener: (payload: E[K]) => void,
  ): void {
    emitter.on(event, listener);
    this.undo.push(() => emitter.off(event, listener));
  }

  /** Something else to undo with the listeners (a timer, a tap). */
  defer(undo: () => void): void {
    this.undo.push(undo);
  }

  dispose(): void {
    for (const u of this.undo.splice(0).reverse()) u();
  }
}
