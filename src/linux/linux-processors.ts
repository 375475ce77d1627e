// The remote processors and rpmsg channels of a Linux system, behind the same interface as the
// virtual SoC (platform/remote-processors.ts): processors from /sys/class/remoteproc (one link per
// remoteprocN, remoteproc_sysfs.c), channels from /sys/bus/rpmsg/devices (rpmsg_core.c), opened as
// /dev/rpmsgN or /dev/ttyRPMSGn (channel-open.ts). Roots default to /sys and /dev and can point at a
// recorded or fake tree. A machine without remoteproc is told apart from one without processors.

import { RprocError } from '../util/errors.ts';
import {
  inScope,
  type ChannelInfo,
  type ChannelScope,
  type OpenOptions,
  type ProcessorInfo,
  type RemoteProcessors,
  type WaitOptions,
} from '../platform/remote-processors.ts';
import { Backoff } from './backoff.ts';
import { openChannel } from './channel-open.ts';
import { errnoCode } from './kernel-io.ts';
import { kernelError } from './kernel-errors.ts';
import { LinuxContext, type LinuxOptions } from './linux-context.ts';
import type { LinuxChannelEndpoint } from './linux-endpoint.ts';
import { LinuxRemoteProcessor, type ProcessorHost } from './linux-processor.ts';
import { listChannels, processorPlace, type ProcessorPlace } from './rpmsg-channels.ts';
import { rprocIndex } from './sysfs-values.ts';

/** Default wait for a channel announcement: firmware boot plus name service, generously. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;

export class LinuxRemoteProcessors implements RemoteProcessors, ProcessorHost {
  readonly platform = 'linux' as const;
  readonly ctx: LinuxContext;
  private readonly processors = new Map<string, LinuxRemoteProcessor>();
  private readonly endpoints = new Set<LinuxChannelEndpoint>();
  /** Waits for channels, cut short by close(). */
  private readonly waits = new Set<() => void>();
  private closed = false;

  constructor(options: LinuxOptions = {}) {
    this.ctx = new LinuxContext(options);
  }

  /** The remoteprocN entries, in index order; ENODEV when this kernel has no remoteproc class. */
  private async devices(): Promise<string[]> {
    const dir = this.ctx.layout.remoteprocClass;
    let names: string[];
    try {
      names = await this.ctx.io.readdir(dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') {
        throw new RprocError(
          'ENODEV',
          'linux-list',
          `no remoteproc on this system: ${dir} does not exist (a kernel without CONFIG_REMOTEPROC, or not Linux)`,
        );
      }
      throw kernelError(e, { op: 'linux-list', doing: `listing ${dir}`, path: dir });
    }
    return names
      .filter((n) => rprocIndex(n) !== undefined)
      .sort((a, b) => (rprocIndex(a) ?? 0) - (rprocIndex(b) ?? 0));
  }

  private async processorAt(device: string): Promise<LinuxRemoteProcessor> {
    const name = await this.ctx.read(this.ctx.layout.rprocAttr(device, 'name'), 'linux-list');
    const known = this.processors.get(device);
    // A processor removed and another registered at the same index is a new processor.
    if (known?.name === name) return known;
    known?.dispose();
    const processor = new LinuxRemoteProcessor(this.ctx, this, device, name);
    this.processors.set(device, processor);
    return processor;
  }

  async list(): Promise<readonly ProcessorInfo[]> {
    const devices = await this.devices();
    const processors = await Promise.all(devices.map((d) => this.processorAt(d)));
    return Promise.all(processors.map((p) => p.info()));
  }

  async get(name: string): Promise<LinuxRemoteProcessor> {
    const devices = await this.devices();
    if (devices.includes(name)) return this.processorAt(name);
    for (const device of devices) {
      const processor = await this.processorAt(device);
      if (processor.name === name) return processor;
    }
    throw new RprocError(
      'ENODEV',
      'linux-get',
      devices.length === 0
        ? `no remote processor "${name}": ${this.ctx.layout.remoteprocClass} is empty`
        : `no remote processor "${name}" (there are: ${(
            await Promise.all(devices.map((d) => this.processorAt(d)))
          )
            .map((p) => `${p.device} (${p.name})`)
            .join(', ')})`,
    );
  }

  private async places(): Promise<ProcessorPlace[]> {
    let devices: string[];
    try {
      devices = await this.devices();
    } catch (e) {
      // Channels of a kernel with rpmsg but no remoteproc (e.g. Qualcomm SMD/GLINK) have no owner.
      if (e instanceof RprocError && e.code === 'ENODEV') return [];
      throw e;
    }
    return Promise.all(
      devices.map(async (d) => processorPlace(this.ctx, d, (await this.processorAt(d)).name)),
    );
  }

  async channels(scope?: ChannelScope): Promise<readonly ChannelInfo[]> {
    const all = await listChannels(this.ctx, await this.places());
    return all.filter((c) => inScope(c, scope));
  }

  async waitForChannel(name: string, scope: ChannelScope, options: WaitOptions = {}): Promise<ChannelInfo> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    // Channels appear when the remote's name-service announcement arrives; sysfs says nothing
    // when a directory appears, so the bus is listed again on the back-off schedule.
    const backoff = new Backoff(this.ctx.channelPoll);
    for (;;) {
      if (this.closed) {
        throw new RprocError(
          'ECANCELED',
          'linux-wait-channel',
          `stopped waiting for channel "${name}": closed`,
        );
      }
      const found = (await this.channels(scope)).find((c) => c.name === name);
      if (found !== undefined) return found;
      const now = Date.now();
      if (now >= deadline) {
        const where = 'anyProcessor' in scope ? 'by any processor' : `by ${scope.processor}`;
        throw new RprocError(
          'ETIMEDOUT',
          'linux-wait-channel',
          `no channel "${name}" announced ${where} within ${timeoutMs} ms (${this.ctx.layout.rpmsgDevices})`,
        );
      }
      await this.pause(Math.min(backoff.next(), deadline - now));
    }
  }

  /** A wait between two looks at the bus that close() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }

  channelsOf(processor: string): Promise<readonly ChannelInfo[]> {
    return this.channels({ processor });
  }

  waitForChannelOf(processor: string, name: string, options?: WaitOptions): Promise<ChannelInfo> {
    return this.waitForChannel(name, { processor }, options);
  }

  async open(channel: ChannelInfo, options: OpenOptions = {}): Promise<LinuxChannelEndpoint> {
    const endpoint: LinuxChannelEndpoint = await openChannel(this.ctx, channel, options, () =>
      this.endpoints.delete(endpoint),
    );
    this.endpoints.add(endpoint);
    return endpoint;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waits]) wake();
    for (const p of this.processors.values()) p.dispose();
    const errors: unknown[] = [];
    for (const endpoint of [...this.endpoints]) await endpoint.close().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }
}
