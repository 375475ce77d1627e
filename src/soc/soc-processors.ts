// The virtual SoC behind the user-facing interface that the Linux backend also implements
// (platform/remote-processors.ts): its cores' Rprocs as remote processors, their rpmsg channels
// scoped by the processor whose virtio device carries them, opened as endpoints over the rpmsg host
// (or the tty port for "rpmsg-tty" channels, as Linux's rpmsg_tty owns those). Operations check the
// state first and refuse with the errno and words the Linux backend uses, so that a program written
// against one behaves the same on the other.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RprocError } from '../util/errors.ts';
import { RPROC_FATAL_ERROR } from '../remoteproc/rproc-state.ts';
import type { Rproc, RprocEvents } from '../remoteproc/rproc.ts';
import {
  channelKind,
  inScope,
  RPMSG_ADDR_ANY,
  type ChannelEndpoint,
  type ChannelInfo,
  type ChannelScope,
  type CoredumpMode,
  type FirmwareSpec,
  type OpenOptions,
  type ProcessorEvents,
  type ProcessorInfo,
  type ProcessorState,
  type RecoveryMode,
  type RemoteProcessor,
  type RemoteProcessors,
  type StartOptions,
  type WaitOptions,
} from '../platform/remote-processors.ts';
import { WatchedEmitter } from '../platform/watched-emitter.ts';
import { startRefusal } from '../platform/start-refusal.ts';
import type { RpmsgChannel, RpmsgHostEvents } from '../rpmsg/host/rpmsg-host.ts';
import { SocChannelEndpoint, SocTtyEndpoint } from './soc-endpoints.ts';
import type { VirtualSoc } from './virtual-soc.ts';

/** Default wait for a channel announcement, as on Linux (linux-processors.ts). */
const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;

class SocProcessor extends WatchedEmitter<ProcessorEvents> implements RemoteProcessor {
  readonly rproc: Rproc;
  private readonly host: VirtualSocProcessors;

  constructor(host: VirtualSocProcessors, rproc: Rproc) {
    super();
    this.host = host;
    this.rproc = rproc;
  }

  get name(): string {
    return this.rproc.name;
  }

  get device(): string {
    return this.rproc.devName;
  }

  private get label(): string {
    return `${this.device} (${this.name})`;
  }

  private readonly onState = (e: RprocEvents['state']): void => {
    this.emit('state', { processor: this.name, from: e.from, to: e.to });
  };

  private readonly onCrash = (e: RprocEvents['crash']): void => {
    this.emit('crash', { processor: this.name, type: e.typeName });
  };

  protected override watched(on: boolean): void {
    if (on) {
      this.rproc.on('state', this.onState).on('crash', this.onCrash);
    } else {
      this.rproc.off('state', this.onState).off('crash', this.onCrash);
    }
  }

  /** Stop forwarding the Rproc's events (the host is closing). */
  dispose(): void {
    this.rproc.off('state', this.onState).off('crash', this.onCrash);
  }

  state(): Promise<ProcessorState> {
    return Promise.resolve(this.rproc.state);
  }

  info(): Promise<ProcessorInfo> {
    const r = this.rproc;
    return Promise.resolve({
      name: r.name,
      device: r.devName,
      state: r.state,
      firmware: r.state === 'attached' ? 'unknown' : r.firmware,
      recovery: r.crash.recoveryDisabled ? 'disabled' : 'enabled',
      coredump: r.coredump.mode,
    });
  }

  async start(options: StartOptions = {}): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'offline') throw this.notOffline(state);
    const previous = this.rproc.firmware;
    if (options.firmware !== undefined) {
      await this.rproc.setFirmware(await this.host.installFirmware(options.firmware));
    }
    try {
      await this.rproc.boot();
    } catch (e) {
      if (this.rproc.firmware !== previous && this.rproc.state === 'offline') {
        await this.rproc.setFirmware(previous).catch(() => undefined);
      }
      throw e;
    }
  }

  private notOffline(state: ProcessorState): RprocError {
    return startRefusal(this.label, state, {
      where: 'soc-start',
      whenUp:
        'not booting it again, which would only take another power reference that one stop would not give back',
      whenCrashed: 'recover it or enable recovery first',
    });
  }

  async stop(): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'running' && state !== 'attached') {
      throw new RprocError(
        'EINVAL',
        'soc-stop',
        `${this.label} is ${state}: only a running or attached processor can be stopped (rproc_shutdown)`,
      );
    }
    await this.rproc.shutdown();
    const after = this.rproc.state;
    if (after === 'running' || after === 'attached') {
      throw new RprocError(
        'EBUSY',
        'soc-stop',
        `${this.label} is still ${after} after stop: another power reference is held; each stop gives back one`,
      );
    }
  }

  async attach(): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'detached') {
      throw new RprocError(
        'EINVAL',
        'soc-attach',
        `${this.label} is ${state}: only a detached processor (started by the boot loader) can be attached`,
      );
    }
    await this.rproc.boot();
  }

  async detach(): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'attached') {
      throw new RprocError(
        'EINVAL',
        'soc-detach',
        `${this.label} is ${state}: only an attached processor can be detached (rproc_detach)`,
      );
    }
    await this.rproc.detach();
  }

  recovery(): Promise<RecoveryMode> {
    return Promise.resolve(this.rproc.crash.recoveryDisabled ? 'disabled' : 'enabled');
  }

  async setRecovery(mode: RecoveryMode): Promise<void> {
    this.rproc.crash.recoveryDisabled = mode === 'disabled';
    // recovery_store: "enabled" recovers a processor that crashed while it was disabled.
    if (mode === 'enabled' && this.rproc.state === 'crashed') await this.rproc.crash.recover();
  }

  async recover(): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'crashed') {
      throw new RprocError(
        'EINVAL',
        'soc-recover',
        `${this.label} is ${state}, not crashed: nothing to recover`,
      );
    }
    await this.rproc.crash.recover();
  }

  coredump(): Promise<CoredumpMode> {
    return Promise.resolve(this.rproc.coredump.mode);
  }

  setCoredump(mode: CoredumpMode): Promise<void> {
    if (this.rproc.state === 'crashed') {
      return Promise.reject(
        new RprocError(
          'EBUSY',
          'soc-coredump',
          `${this.label} is crashed: the coredump setting cannot change until it recovers (coredump_store)`,
        ),
      );
    }
    this.rproc.coredump.mode = mode;
    return Promise.resolve();
  }

  trace(index = 0): Promise<string> {
    const text = this.rproc.resources.readTrace(index);
    if (text === undefined) {
      return Promise.reject(
        new RprocError(
          'ENOENT',
          'soc-trace',
          `${this.label} has no trace buffer trace${index}: its firmware declares no such RSC_TRACE entry, ` +
            'or it is not running',
        ),
      );
    }
    return Promise.resolve(text);
  }

  crash(type = RPROC_FATAL_ERROR): Promise<void> {
    const state = this.rproc.state;
    if (state !== 'running' && state !== 'attached') {
      return Promise.reject(
        new RprocError(
          'EINVAL',
          'soc-crash',
          `${this.label} is ${state}: only a running processor can crash`,
        ),
      );
    }
    this.rproc.reportCrash(type, { message: 'crash requested through the user interface' });
    return Promise.resolve();
  }

  channels(): Promise<readonly ChannelInfo[]> {
    return this.host.channels({ processor: this.name });
  }

  waitForChannel(name: string, options?: WaitOptions): Promise<ChannelInfo> {
    return this.host.waitForChannel(name, { processor: this.name }, options);
  }
}

export class VirtualSocProcessors implements RemoteProcessors {
  readonly platform = 'virtual-soc' as const;
  readonly soc: VirtualSoc;
  private readonly processors = new Map<Rproc, SocProcessor>();
  private readonly endpoints = new Set<ChannelEndpoint>();
  /** Channels with an endpoint open through this object: one opener at a time, as rpmsg_char. */
  private readonly opened = new Set<RpmsgChannel>();
  /** Pending channel waits, ended by close(). */
  private readonly waits = new Set<() => void>();

  constructor(soc: VirtualSoc) {
    this.soc = soc;
  }

  private processor(rproc: Rproc): SocProcessor {
    let p = this.processors.get(rproc);
    if (p === undefined) this.processors.set(rproc, (p = new SocProcessor(this, rproc)));
    return p;
  }

  list(): Promise<readonly ProcessorInfo[]> {
    return Promise.all(this.soc.cores.map((c) => this.processor(c.rproc).info()));
  }

  get(name: string): Promise<RemoteProcessor> {
    const core = this.soc.cores.find((c) => c.rproc.name === name || c.rproc.devName === name);
    if (core === undefined) {
      return Promise.reject(
        new RprocError(
          'ENODEV',
          'soc-get',
          `no remote processor "${name}" (there are: ${this.soc.cores.map((c) => `${c.rproc.devName} (${c.rproc.name})`).join(', ')})`,
        ),
      );
    }
    return Promise.resolve(this.processor(core.rproc));
  }

  /** The name the firmware store will find `spec` by, adding its bytes to the store first. */
  async installFirmware(spec: FirmwareSpec): Promise<string> {
    if (typeof spec === 'string') return spec;
    if ('file' in spec) {
      const name = basename(spec.file);
      this.soc.firmwareStore.add(name, await readFile(spec.file));
      return name;
    }
    this.soc.firmwareStore.add(spec.name, spec.bytes);
    return spec.name;
  }

  /** Linux's name of a channel's rpmsg device, fixed at announcement (src ANY shows as -1). */
  private static idOf(device: { readonly deviceName: string }, channel: RpmsgChannel): string {
    return `${device.deviceName}.${channel.name}.-1.${channel.dst}`;
  }

  private live(): { info: ChannelInfo; channel: RpmsgChannel }[] {
    const ttys = new Set(this.soc.tty.ports.map((p) => p.channel));
    return this.soc.rpmsg.buses.flatMap((device) =>
      device.channelList
        .filter((channel) => !channel.removed)
        .map((channel) => ({
          channel,
          info: {
            id: VirtualSocProcessors.idOf(device, channel),
            name: channel.name,
            processor: device.vdev.parentName,
            src: channel.ept?.addr ?? RPMSG_ADDR_ANY,
            dst: channel.dst,
            announce: false,
            kind: channelKind(channel.name),
            driver: ttys.has(channel) ? 'rpmsg_tty' : undefined,
          },
        })),
    );
  }

  channels(scope?: ChannelScope): Promise<readonly ChannelInfo[]> {
    return Promise.resolve(
      this.live()
        .map((l) => l.info)
        .filter((c) => inScope(c, scope)),
    );
  }

  waitForChannel(name: string, scope: ChannelScope, options: WaitOptions = {}): Promise<ChannelInfo> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
    const matches = (c: ChannelInfo): boolean => c.name === name && inScope(c, scope);
    const existing = this.live().find((l) => matches(l.info));
    if (existing !== undefined) return Promise.resolve(existing.info);
    return new Promise((resolve, reject) => {
      const listener = (e: RpmsgHostEvents['channel']): void => {
        if (e.action !== 'add') return;
        const found = this.live().find((l) => l.channel === e.channel && matches(l.info));
        if (found === undefined) return;
        done();
        resolve(found.info);
      };
      const timer = setTimeout(() => {
        done();
        const where = 'anyProcessor' in scope ? 'by any processor' : `by ${scope.processor}`;
        reject(
          new RprocError(
            'ETIMEDOUT',
            'soc-wait-channel',
            `no channel "${name}" announced ${where} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const cancel = (): void => {
        done();
        reject(
          new RprocError('ECANCELED', 'soc-wait-channel', `stopped waiting for channel "${name}": closed`),
        );
      };
      const done = (): void => {
        clearTimeout(timer);
        this.soc.rpmsg.off('channel', listener);
        this.waits.delete(cancel);
      };
      this.waits.add(cancel);
      this.soc.rpmsg.on('channel', listener);
    });
  }

  open(info: ChannelInfo, options: OpenOptions = {}): Promise<ChannelEndpoint> {
    const found = this.live().find((l) => l.info.id === info.id);
    if (found === undefined) {
      return Promise.reject(
        new RprocError(
          'EPIPE',
          'soc-open',
          `channel ${info.id} is gone (the remote stopped or destroyed it)`,
        ),
      );
    }
    const { channel } = found;
    if (this.opened.has(channel)) {
      return Promise.reject(
        new RprocError(
          'EBUSY',
          'soc-open',
          `channel ${info.id} is already open (one opener at a time, as rpmsg_char)`,
        ),
      );
    }
    const closed = (): void => {
      this.opened.delete(channel);
      this.endpoints.delete(endpoint);
    };
    const port = this.soc.tty.ports.find((p) => p.channel === channel);
    const endpoint: ChannelEndpoint =
      port !== undefined
        ? new SocTtyEndpoint(found.info, port, closed)
        : new SocChannelEndpoint(found.info, channel, options, closed);
    this.opened.add(channel);
    this.endpoints.add(endpoint);
    return Promise.resolve(endpoint);
  }

  async close(): Promise<void> {
    for (const cancel of [...this.waits]) cancel();
    for (const endpoint of [...this.endpoints]) await endpoint.close();
    for (const p of this.processors.values()) p.dispose();
  }
}
