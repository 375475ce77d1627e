// Finding rpmsg channels for `rproc run` (--send, --console): the one place the CLI looks channels
// up, so that a change in how the host scopes them is one line here. Waits honour the run's
// deadline on its clock and say, when the channel never came, which channels did.

import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RpmsgHostEvents } from '../rpmsg/host/rpmsg-host.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { RprocError } from '../util/errors.ts';
import type { CliClock } from './clock.ts';

/** A wait the run gave up because it is ending (signal, end of the run). */
export class WaitAborted extends Error {
  override readonly name = 'WaitAborted';
}

export class ChannelDirectory {
  private readonly soc: VirtualSoc;
  /** Every channel announced since the start, as "name (core)", in order, without repeats. */
  private readonly seen: string[] = [];
  /** Which core announced each live channel. */
  private readonly cores = new WeakMap<RpmsgChannel, string>();

  constructor(soc: VirtualSoc) {
    this.soc = soc;
    soc.rpmsg.on('channel', ({ action, channel, device }) => {
      const core = device.vdev.parentName;
      const label = `${channel.name} (${core})`;
      if (action !== 'add') return;
      this.cores.set(channel, core);
      if (!this.seen.includes(label)) this.seen.push(label);
    });
  }

  /**
   * The live channel named `name`, if one is announced now, on whichever core announced it: a run's
   * --send and --console name a channel, not a core (the first core to announce it is taken).
   */
  find(name: string): RpmsgChannel | undefined {
    return this.soc.rpmsg.channel(name, { anyDevice: true });
  }

  /** The core whose firmware announced `channel`. */
  coreOf(channel: RpmsgChannel): string {
    return this.cores.get(channel) ?? 'unknown';
  }

  /** "rpmsg-echo (rproc0), crasher (rproc1)", or "none". */
  describeSeen(): string {
    return this.seen.length === 0 ? 'none' : this.seen.join(', ');
  }

  /**
   * The channel named `name`, waiting for its announcement up to `waitMs` on `clock` (`why` says
   * where that limit came from, e.g. "--timeout 2"). ETIMEDOUT lists the channels that did appear;
   * WaitAborted when `abort` fires first.
   */
  wait(
    name: string,
    clock: CliClock,
    waitMs: number,
    why: string,
    abort: AbortSignal,
  ): Promise<RpmsgChannel> {
    const now = this.find(name);
    if (now !== undefined) return Promise.resolve(now);
    const host = this.soc.rpmsg;
    return new Promise<RpmsgChannel>((resolve, reject) => {
      const stop = new AbortController();
      const listener = (e: RpmsgHostEvents['channel']): void => {
        if (e.action !== 'add' || e.channel.name !== name) return;
        done();
        resolve(e.channel);
      };
      const done = (): void => {
        host.off('channel', listener);
        stop.abort();
      };
      host.on('channel', listener);
      void clock.sleep(waitMs, AbortSignal.any([abort, stop.signal])).then((elapsed) => {
        if (stop.signal.aborted) return;
        done();
        if (!elapsed) {
          reject(new WaitAborted(`waiting for channel "${name}"`));
          return;
        }
        reject(
          new RprocError(
            'ETIMEDOUT',
            'run',
            `no channel "${name}" announced within ${formatMs(waitMs)} (${why}); channels announced: ${this.describeSeen()}`,
          ),
        );
      });
    });
  }
}

function formatMs(ms: number): string {
  const whole = Math.round(ms);
  return whole >= 1000 ? `${Number((whole / 1000).toFixed(3))} s` : `${whole} ms`;
}
