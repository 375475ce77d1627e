// A typed wrapper over Node's EventEmitter, so that `rproc.on('state', e => ...)` knows the shape
// of `e`. A listener that throws does not unwind the operation that emitted (the state machine
// finishes its step); its exception is rethrown on a microtask, so it still surfaces as an
// uncaught exception, as a throwing EventEmitter listener would.

import { EventEmitter } from 'node:events';

export type EventMap = Record<string, unknown>;

export class TypedEmitter<Events extends EventMap> {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  /** Resolves with the next payload of `event` that satisfies `filter`. */
  next<K extends keyof Events & string>(
    event: K,
    filter: (payload: Events[K]) => boolean = () => true,
  ): Promise<Events[K]> {
    return new Promise((resolve) => {
      const listener = (payload: Events[K]): void => {
        if (!filter(payload)) return;
        this.emitter.off(event, listener);
        resolve(payload);
      };
      this.emitter.on(event, listener);
    });
  }

  protected emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (e) {
        // An observer's bug must not unwind a boot or a recovery half-way; it surfaces afterwards.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
