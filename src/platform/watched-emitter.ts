// A typed event emitter that knows when it is being listened to: `watched(true)` runs when the first
// listener arrives and `watched(false)` when the last one leaves, so that a backend whose events cost
// something to produce (Linux: re-reading sysfs `state`) does that work only while someone listens.
// A listener that throws does not unwind the emitter; its exception surfaces on a microtask.

export interface EventSource<Events extends Record<string, unknown>> {
  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this;
  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this;
  off<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this;
  /** Resolves with the next payload of `event` that satisfies `filter`. */
  next<K extends keyof Events & string>(
    event: K,
    filter?: (payload: Events[K]) => boolean,
  ): Promise<Events[K]>;
}

type Listener = (payload: never) => void;

export class WatchedEmitter<Events extends Record<string, unknown>> implements EventSource<Events> {
  private readonly listeners = new Map<string, Listener[]>();
  private count = 0;

  /** Called with true when the first listener arrives, false when the last one leaves. */
  protected watched(_on: boolean): void {
    // Nothing to start or stop by default.
  }

  /** Listeners of every event together. */
  get listenerCount(): number {
    return this.count;
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    if (++this.count === 1) this.watched(true);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    const wrapper = (payload: Events[K]): void => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    const list = this.listeners.get(event);
    const at = list?.indexOf(listener) ?? -1;
    if (list === undefined || at < 0) return this;
    list.splice(at, 1);
    if (--this.count === 0) this.watched(false);
    return this;
  }

  next<K extends keyof Events & string>(
    event: K,
    filter: (payload: Events[K]) => boolean = () => true,
  ): Promise<Events[K]> {
    return new Promise((resolve) => {
      const listener = (payload: Events[K]): void => {
        if (!filter(payload)) return;
        this.off(event, listener);
        resolve(payload);
      };
      this.on(event, listener);
    });
  }

  protected emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
