// One remote processor driven through /sys/class/remoteproc/remoteprocN (remoteproc_sysfs.c):
// every operation reads `state` first and writes only what takes the processor where the user asked
// — never `start` to a processor that is up, since Linux ≥ 5.19 (rproc_boot, "Remove state checking
// before calling rproc_boot()") answers that by taking another power reference that one `stop`
// would not give back. A refused write is reported with the kernel's errno and never retried.
// State and crash events come from re-reading `state` (state-poller.ts): the kernel never calls
// sysfs_notify() on it.

import { RprocError } from '../util/errors.ts';
import { RPROC_FATAL_ERROR } from '../remoteproc/rproc-state.ts';
import { WatchedEmitter } from '../platform/watched-emitter.ts';
import { startRefusal } from '../platform/start-refusal.ts';
import type {
  ChannelInfo,
  CoredumpMode,
  ProcessorEvents,
  ProcessorInfo,
  ProcessorState,
  RecoveryMode,
  RemoteProcessor,
  StartOptions,
  WaitOptions,
} from '../platform/remote-processors.ts';
import { errnoCode } from './kernel-io.ts';
import { kernelError } from './kernel-errors.ts';
import { firmwareSearchPath, resolveFirmware } from './firmware-path.ts';
import type { LinuxContext } from './linux-context.ts';
import { StatePoller } from './state-poller.ts';
import { parseCoredump, parseRecovery, parseState } from './sysfs-values.ts';
import type { RprocAttr } from './sysfs-layout.ts';

/** What a processor needs from its host: channel lookups are the host's (they span processors). */
export interface ProcessorHost {
  channelsOf(processor: string): Promise<readonly ChannelInfo[]>;
  waitForChannelOf(processor: string, name: string, options?: WaitOptions): Promise<ChannelInfo>;
}

export class LinuxRemoteProcessor extends WatchedEmitter<ProcessorEvents> implements RemoteProcessor {
  readonly name: string;
  readonly device: string;
  private readonly ctx: LinuxContext;
  private readonly host: ProcessorHost;
  private readonly poller: StatePoller;

  constructor(ctx: LinuxContext, host: ProcessorHost, device: string, name: string) {
    super();
    this.ctx = ctx;
    this.host = host;
    this.device = device;
    this.name = name;
    this.poller = new StatePoller(
      () => this.readState(),
      ctx.statePoll,
      (from, to) => {
        this.emit('state', { processor: this.name, from, to });
        if (to === 'crashed') this.emit('crash', { processor: this.name, type: undefined });
      },
    );
  }

  /** "remoteproc0 (m4)", for messages. */
  get label(): string {
    return `${this.device} (${this.name})`;
  }

  protected override watched(on: boolean): void {
    if (on) this.poller.start();
    else this.poller.stop();
  }

  /** Stop watching (the host is closing). */
  dispose(): void {
    this.poller.stop();
  }

  private attr(attr: RprocAttr): string {
    return this.ctx.layout.rprocAttr(this.device, attr);
  }

  /** The state now; every read also feeds the state events (state-poller.ts). */
  async state(): Promise<ProcessorState> {
    const { state } = await this.poller.read();
    if (state === undefined) {
      const path = this.attr('state');
      const text = await this.ctx.read(path, 'linux-state');
      throw new RprocError(
        'EIO',
        'linux-state',
        `${path} reads ${JSON.stringify(text)}, not a remoteproc state`,
      );
    }
    return state;
  }

  /** undefined while the file holds something else (never on a real kernel). */
  private async readState(): Promise<ProcessorState | undefined> {
    try {
      return parseState(await this.ctx.read(this.attr('state'), 'linux-state'));
    } catch (e) {
      // The processor went away (rproc_del removes the device): that reads as deleted.
      if (e instanceof RprocError && e.code === 'ENOENT') return 'deleted';
      throw e;
    }
  }

  async info(): Promise<ProcessorInfo> {
    const [state, firmware, recovery, coredump] = await Promise.all([
      this.state(),
      this.ctx.read(this.attr('firmware'), 'linux-info'),
      this.recovery(),
      this.coredump(),
    ]);
    return { name: this.name, device: this.device, state, firmware, recovery, coredump };
  }

  async start(options: StartOptions = {}): Promise<void> {
    const state = await this.state();
    if (state !== 'offline') throw this.notOffline(state);
    let previous: string | undefined;
    let name = await this.ctx.read(this.attr('firmware'), 'linux-start');
    if (options.firmware !== undefined) {
      const current = name;
      name = (await resolveFirmware(this.ctx, options.firmware)).name;
      if (current !== name) {
        await this.ctx.write(this.attr('firmware'), name, 'linux-start', {
          EBUSY: `${this.label} left the offline state meanwhile (rproc_set_firmware: can't change firmware while running)`,
          EINVAL: 'the kernel refused the name (empty, or the lock was interrupted)',
        });
        previous = current;
      }
    }
    try {
      await this.control('start', 'linux-start', {
        EBUSY: `${this.label} is already running (a kernel before 5.19 checks this)`,
        ENODEV: `${this.label} is being deleted`,
        EINVAL: 'the kernel could not load or boot the firmware (see dmesg: "Boot failed")',
      });
    } catch (e) {
      // The user asked for this firmware to run, not for the attribute to keep naming one that did not.
      if (previous !== undefined) await this.restoreFirmware(previous, e);
      throw e instanceof RprocError && e.code === 'ENOENT' ? await this.firmwareMissing(e, name) : e;
    } finally {
      this.poller.kick();
    }
  }

  async stop(): Promise<void> {
    const state = await this.state();
    if (state !== 'running' && state !== 'attached') {
      throw new RprocError(
        'EINVAL',
        'linux-stop',
        `${this.label} is ${state}: only a running or attached processor can be stopped (rproc_shutdown)`,
      );
    }
    try {
      await this.control('stop', 'linux-stop', {
        EINVAL: `${this.label} was neither running nor attached any more`,
      });
    } finally {
      this.poller.kick();
    }
    // rproc_shutdown only stops the core when the last power reference goes.
    const { state: after } = await this.poller.read();
    if (after === 'running' || after === 'attached') {
      throw new RprocError(
        'EBUSY',
        'linux-stop',
        `${this.label} is still ${after} after "stop": the kernel holds another power reference ` +
          '(someone else also wrote "start", or auto-boot did); each "stop" gives back one',
      );
    }
  }

  async attach(): Promise<void> {
    const state = await this.state();
    if (state !== 'detached') {
      throw new RprocError(
        'EINVAL',
        'linux-attach',
        `${this.label} is ${state}: only a detached processor (started by the boot loader) can be attached`,
      );
    }
    try {
      await this.control('start', 'linux-attach', {
        EINVAL: 'the kernel could not attach (no resource table from the running firmware? see dmesg)',
      });
    } finally {
      this.poller.kick();
    }
  }

  async detach(): Promise<void> {
    const state = await this.state();
    if (state !== 'attached') {
      throw new RprocError(
        'EINVAL',
        'linux-detach',
        `${this.label} is ${state}: only an attached processor can be detached (rproc_detach)`,
      );
    }
    try {
      await this.control('detach', 'linux-detach', {
        EINVAL: `the ${this.label} driver cannot detach (it has no ops->detach)`,
      });
    } finally {
      this.poller.kick();
    }
  }

  async recovery(): Promise<RecoveryMode> {
    const path = this.attr('recovery');
    return parseRecovery(await this.ctx.read(path, 'linux-recovery'), path);
  }

  async setRecovery(mode: RecoveryMode): Promise<void> {
    await this.ctx.write(this.attr('recovery'), mode, 'linux-recovery');
    // "enabled" recovers a crashed processor at once (recovery_store).
    this.poller.kick();
  }

  async recover(): Promise<void> {
    const state = await this.state();
    if (state !== 'crashed') {
      throw new RprocError(
        'EINVAL',
        'linux-recover',
        `${this.label} is ${state}, not crashed: nothing to recover`,
      );
    }
    try {
      await this.ctx.write(this.attr('recovery'), 'recover', 'linux-recover');
    } finally {
      this.poller.kick();
    }
  }

  async coredump(): Promise<CoredumpMode> {
    const path = this.attr('coredump');
    return parseCoredump(await this.ctx.read(path, 'linux-coredump'), path);
  }

  async setCoredump(mode: CoredumpMode): Promise<void> {
    await this.ctx.write(this.attr('coredump'), mode, 'linux-coredump', {
      EBUSY: `${this.label} is crashed: the coredump setting cannot change until it recovers (coredump_store)`,
    });
  }

  async trace(index = 0): Promise<string> {
    const path = this.ctx.layout.trace(this.device, index);
    let bytes: Uint8Array;
    try {
      bytes = await this.ctx.io.readFile(path);
    } catch (e) {
      throw await this.debugfsError(
        e,
        path,
        `reading ${path}`,
        'linux-trace',
        () =>
          `${this.label} has no trace buffer trace${index}: its firmware declares no such RSC_TRACE entry, ` +
          'or it is not running (the kernel removes trace files when it stops)',
      );
    }
    // The buffer is the remote's memory: the text ends at its first NUL (rproc_trace_read stops
    // there too) and is only decoded and shown, never interpreted.
    const nul = bytes.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  }

  async crash(type = RPROC_FATAL_ERROR): Promise<void> {
    if (!Number.isInteger(type) || type < 0 || type > 0xffff_ffff) {
      throw new RprocError('EINVAL', 'linux-crash', `crash type ${type} is not an unsigned 32-bit integer`);
    }
    const state = await this.state();
    if (state !== 'running' && state !== 'attached') {
      throw new RprocError(
        'EINVAL',
        'linux-crash',
        `${this.label} is ${state}: only a running processor can crash`,
      );
    }
    const path = this.ctx.layout.crash(this.device);
    try {
      await this.ctx.io.writeFile(path, String(type));
    } catch (e) {
      throw await this.debugfsError(
        e,
        path,
        `writing "${type}" to ${path}`,
        'linux-crash',
        () => `${path} does not exist`,
      );
    } finally {
      this.poller.kick();
    }
  }

  channels(): Promise<readonly ChannelInfo[]> {
    return this.host.channelsOf(this.name);
  }

  waitForChannel(name: string, options?: WaitOptions): Promise<ChannelInfo> {
    return this.host.waitForChannelOf(this.name, name, options);
  }

  /** start/stop/detach through `state`, or /dev/remoteprocN when asked to (cdev option). */
  private async control(
    word: 'start' | 'stop' | 'detach',
    op: string,
    reasons: Parameters<LinuxContext['write']>[3],
  ): Promise<void> {
    // remoteproc_cdev.c compares the written bytes by prefix over their length, with no newline
    // stripping; sysfs_streq allows one trailing newline. The bare word suits both.
    const path = this.ctx.cdev ? this.ctx.layout.rprocCdev(this.device) : this.attr('state');
    try {
      await this.ctx.write(path, word, op, reasons);
    } catch (e) {
      // A driver with rproc->sysfs_read_only makes `state` 0444 (rproc_is_visible): no udev rule helps.
      if (e instanceof RprocError && e.code === 'EACCES' && !this.ctx.cdev) {
        const mode = await this.ctx.io.mode(path).catch(() => undefined);
        if (mode !== undefined && (mode & 0o222) === 0) {
          const cdev = this.ctx.layout.rprocCdev(this.device);
          const hasCdev = await this.ctx.io.exists(cdev).catch(() => false);
          throw new RprocError(
            'EACCES',
            op,
            `writing "${word}" to ${path}: the ${this.label} driver made its sysfs control read-only ` +
              `(sysfs_read_only, mode 0${mode.toString(8)})` +
              (hasCdev
                ? `; ${cdev} exists: the cdev option writes "${word}" there instead`
                : '; and there is no /dev/remoteprocN (CONFIG_REMOTEPROC_CDEV) to use instead'),
            { cause: e },
          );
        }
      }
      throw e;
    }
  }

  private notOffline(state: ProcessorState): RprocError {
    return startRefusal(this.label, state, {
      where: 'linux-start',
      whenUp:
        'not writing "start", which would only take another power reference (Linux ≥ 5.19) that one "stop" would not give back',
      whenCrashed: 'recover it (recovery "recover") or enable recovery first',
    });
  }

  private async restoreFirmware(previous: string, cause: unknown): Promise<void> {
    try {
      await this.ctx.write(this.attr('firmware'), previous, 'linux-start');
    } catch (e) {
      if (cause instanceof RprocError) {
        throw new RprocError(
          cause.code,
          cause.op,
          `${cause.detail}; and setting the firmware back to ${JSON.stringify(previous)} failed too: ` +
            (e instanceof Error ? e.message : String(e)),
          { cause },
        );
      }
    }
  }

  private async firmwareMissing(e: RprocError, name: string): Promise<RprocError> {
    const dirs = await firmwareSearchPath(this.ctx).then(
      (p) => p.dirs.join(', '),
      () => 'the firmware search path',
    );
    return new RprocError(
      'ENOENT',
      'linux-start',
      `${this.label}: the kernel found no firmware ${JSON.stringify(name)} (it looked in ${dirs}); ` +
        'install it there, or start with a firmware file to install',
      { cause: e },
    );
  }

  /** The error for a failed debugfs access: not mounted, not root, or the file is not there. */
  private async debugfsError(
    e: unknown,
    path: string,
    doing: string,
    op: string,
    missing: () => string,
  ): Promise<RprocError> {
    const code = errnoCode(e);
    if (code === 'EACCES' || code === 'EPERM') {
      return new RprocError(code, op, `${doing}: needs root (debugfs is mounted mode 0700); run as root`, {
        cause: e,
      });
    }
    if (code !== 'ENOENT') return kernelError(e, { op, doing, path });
    const debugfs = this.ctx.layout.debugfs;
    const mounted = await this.ctx.io
      .readdir(debugfs)
      .then((names) => names.length > 0)
      .catch(() => false);
    if (!mounted) {
      return new RprocError(
        'ENODEV',
        op,
        `${doing}: debugfs is not mounted at ${debugfs} (mount -t debugfs debugfs ${debugfs}, as root; ` +
          'the kernel needs CONFIG_DEBUG_FS)',
        { cause: e },
      );
    }
    const dir = this.ctx.layout.debugDir(this.device);
    if (!(await this.ctx.io.exists(dir).catch(() => false))) {
      return new RprocError('ENODEV', op, `${doing}: debugfs has no ${dir} for ${this.label}`, { cause: e });
    }
    return new RprocError('ENOENT', op, `${doing}: ${missing()}`, { cause: e });
  }
}
