// A small simulated Linux kernel for the Linux backend's tests: remote processors with rproc_boot/
// rproc_shutdown/rproc_detach and their power reference count, firmware lookup on the search path,
// crash reports and recovery, the rpmsg bus with name-service channels, driver matching,
// driver_override, bind/unbind, rpmsg_char and rpmsg_tty — presented as the files the kernel shows
// (tree()), refusals and quirks included: EINVAL for `stop` on a processor that is not running or
// attached, EBUSY for a firmware change while not offline, ENOENT for a missing firmware, and on
// kernels from 5.19 a `start` on a running processor that succeeds by taking another power
// reference. Sources: remoteproc_sysfs.c, remoteproc_core.c, remoteproc_debugfs.c,
// remoteproc_cdev.c, rpmsg_core.c, rpmsg_char.c, rpmsg_tty.c, drivers/base/bus.c, driver.c.

import { posix } from 'node:path';
import { errnoError, type DeviceFile } from '../../src/linux/kernel-io.ts';
import type { CoredumpMode, ProcessorState } from '../../src/platform/remote-processors.ts';
import { cdevMatches, FakeEptdev, FakeTty } from './fake-devices.ts';
import { programOf, type FakeProgram } from './fake-programs.ts';
import type { VTree } from './fake-vfs.ts';
import { kernelFiles } from './fake-sysfs.ts';

export interface KernelFlavour {
  /** v5.19+: `start` on a running, attached or crashed processor takes another power reference. */
  readonly startTakesReference: boolean;
  /** v5.18+: rpmsg_char binds "rpmsg-raw" channels by itself. */
  readonly rawAutoBind: boolean;
  /** v5.16+: rpmsg_tty exists. */
  readonly tty: boolean;
  /** uname -r, for the firmware search path. */
  readonly release: string;
}

export const LINUX_6_6: KernelFlavour = {
  startTakesReference: true,
  rawAutoBind: true,
  tty: true,
  release: '6.6.0-fake',
};
export const LINUX_5_15: KernelFlavour = {
  startTakesReference: false,
  rawAutoBind: false,
  tty: false,
  release: '5.15.0-fake',
};

/** Where firmware files live: in memory by default, on disk for the on-disk tree. */
export interface FirmwareFs {
  read(path: string): Uint8Array | undefined;
  write(path: string, bytes: Uint8Array): void;
  list(dir: string): string[];
}

export function memoryFirmwareFs(initial: Record<string, Uint8Array> = {}): FirmwareFs {
  const files = new Map(Object.entries(initial));
  return {
    read: (path) => files.get(posix.normalize(path)),
    write: (path, bytes) => void files.set(posix.normalize(path), bytes.slice()),
    list: (dir) =>
      [...files.keys()]
        .filter((p) => posix.dirname(p) === posix.normalize(dir))
        .map((p) => posix.basename(p)),
  };
}

export interface FakeProcessorSpec {
  /** rproc->name. */
  readonly name: string;
  /** The platform device's directory name under /sys/devices/platform/soc (default "<index>0000000.<name>"). */
  readonly node?: string;
  readonly firmware?: string;
  /** Started by the boot loader running this program: the processor comes up detached... */
  readonly earlyBoot?: string;
  /** ...and the kernel attached to it at rproc_add (auto-boot). */
  readonly attached?: boolean;
  /** The driver has ops->detach (default true). */
  readonly canDetach?: boolean;
  /** rproc->sysfs_read_only: state/firmware/recovery/coredump become 0444. */
  readonly sysfsReadOnly?: boolean;
  /** CONFIG_REMOTEPROC_CDEV: /dev/remoteprocN. */
  readonly cdev?: boolean;
}

export interface FakeKernelOptions {
  readonly processors: readonly FakeProcessorSpec[];
  readonly flavour?: KernelFlavour;
  /** Firmware files (default: in memory, empty). */
  readonly firmwareFs?: FirmwareFs;
  /** firmware_class.path. */
  readonly firmwarePath?: string;
  /** debugfs mounted at /sys/kernel/debug (default true). */
  readonly debugfs?: boolean;
  /** rpmsg_char loaded (default true). */
  readonly rpmsgChar?: boolean;
  /** Between entering `crashed` and the recovery work running (default 20 ms). */
  readonly recoveryDelayMs?: number;
  /** How a path of the firmware search path maps to the firmware store (on-disk tree: under its root). */
  readonly firmwareDirOf?: (dir: string) => string;
}

export interface WriteRecord {
  readonly path: string;
  readonly value: string;
  /** The errno the kernel returned, or undefined on success. */
  readonly error: string | undefined;
}

const ANY = -1;

export class FakeChannel {
  readonly name: string;
  readonly dst: number;
  readonly virtio: FakeVirtio;
  /** The source address at registration (ANY for a name-service channel): part of the id. */
  readonly idSrc = ANY;
  src = ANY;
  override: string | undefined;
  driver: string | undefined;
  eptdev: FakeEptdev | undefined;
  tty: FakeTty | undefined;

  constructor(virtio: FakeVirtio, name: string, dst: number) {
    this.virtio = virtio;
    this.name = name;
    this.dst = dst;
  }

  get id(): string {
    return `virtio${this.virtio.index}.${this.name}.${this.idSrc}.${this.dst}`;
  }
}

export class FakeVirtio {
  readonly index: number;
  readonly rproc: FakeRproc;
  readonly channels: FakeChannel[] = [];

  constructor(index: number, rproc: FakeRproc) {
    this.index = index;
    this.rproc = rproc;
  }

  /** rpmsg_create_ept with ANY: the lowest free address from RPMSG_RESERVED_ADDRESSES (1024). */
  allocAddr(): number {
    const used = new Set(this.channels.map((c) => c.src));
    let addr = 1024;
    while (used.has(addr)) addr++;
    return addr;
  }
}

export class FakeRproc {
  readonly index: number;
  readonly name: string;
  readonly node: string;
  state: ProcessorState = 'offline';
  power = 0;
  firmware: string;
  recoveryDisabled = false;
  dumpConf: CoredumpMode = 'disabled';
  crashCount = 0;
  program: FakeProgram | undefined;
  trace = '';
  virtio: FakeVirtio | undefined;
  readonly canDetach: boolean;
  readonly sysfsReadOnly: boolean;
  readonly cdev: boolean;
  /** RPROC_SET_SHUTDOWN_ON_RELEASE, as another program could have set it. */
  cdevPutOnRelease = false;

  constructor(index: number, spec: FakeProcessorSpec) {
    this.index = index;
    this.name = spec.name;
    this.node = spec.node ?? `${index + 1}0000000.${spec.name}`;
    this.firmware = spec.firmware ?? `rproc-${spec.name}-fw`;
    this.canDetach = spec.canDetach ?? true;
    this.sysfsReadOnly = spec.sysfsReadOnly ?? false;
    this.cdev = spec.cdev ?? false;
  }

  get device(): string {
    return `remoteproc${this.index}`;
  }
}

export class FakeKernel {
  readonly flavour: KernelFlavour;
  readonly processors: FakeRproc[];
  readonly firmwareFs: FirmwareFs;
  firmwarePath: string;
  debugfs: boolean;
  rpmsgChar: boolean;
  readonly recoveryDelayMs: number;
  /** Every write the simulated kernel received, in order, with its outcome. */
  readonly writes: WriteRecord[] = [];
  /** Kernel log lines (dev_err and friends). */
  readonly log: string[] = [];
  /** Called after anything visible changed (the on-disk tree re-renders). */
  onChange: () => void = () => undefined;
  private readonly virtios: (FakeVirtio | undefined)[] = [];
  private readonly eptdevs: (FakeEptdev | undefined)[] = [];
  private readonly ttys: (FakeTty | undefined)[] = [];
  private readonly firmwareDirOf: (dir: string) => string;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: FakeKernelOptions) {
    this.flavour = options.flavour ?? LINUX_6_6;
    this.firmwareFs = options.firmwareFs ?? memoryFirmwareFs();
    this.firmwarePath = options.firmwarePath ?? '';
    this.debugfs = options.debugfs ?? true;
    this.rpmsgChar = options.rpmsgChar ?? true;
    this.recoveryDelayMs = options.recoveryDelayMs ?? 20;
    this.firmwareDirOf = options.firmwareDirOf ?? ((dir) => dir);
    this.processors = options.processors.map((spec, i) => new FakeRproc(i, spec));
    options.processors.forEach((spec, i) => {
      const rproc = this.processors[i];
      if (rproc === undefined || spec.earlyBoot === undefined) return;
      rproc.program = programOf(new TextEncoder().encode(`FAKE-FIRMWARE:${spec.earlyBoot}`));
      rproc.state = 'detached';
      if (spec.attached === true) {
        rproc.power = 1;
        rproc.state = 'attached';
        this.startVirtio(rproc);
      }
    });
  }

  processor(name: string): FakeRproc {
    const p = this.processors.find((r) => r.name === name || r.device === name);
    if (p === undefined) throw new Error(`fake kernel: no processor ${name}`);
    return p;
  }

  /** Stop every pending timer (recoveries in flight). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private changed(): void {
    this.onChange();
  }

  /** Record a write and its outcome, the way the tests audit what the backend did. */
  store(path: string, data: Uint8Array, fn: () => void): void {
    const value = new TextDecoder().decode(data);
    try {
      fn();
      this.writes.push({ path, value, error: undefined });
    } catch (e) {
      this.writes.push({ path, value, error: (e as NodeJS.ErrnoException).code });
      throw e;
    } finally {
      this.changed();
    }
  }

  // ---- remoteproc_core.c ----

  /** request_firmware(): fw_path_para, then fw_path[] (drivers/base/firmware_loader/main.c). */
  firmwareSearchPath(): string[] {
    const r = this.flavour.release;
    return [
      ...(this.firmwarePath === '' ? [] : [this.firmwarePath]),
      `/lib/firmware/updates/${r}`,
      '/lib/firmware/updates',
      `/lib/firmware/${r}`,
      '/lib/firmware',
    ];
  }

  private requestFirmware(name: string): Uint8Array | undefined {
    for (const dir of this.firmwareSearchPath()) {
      const image = this.firmwareFs.read(posix.join(this.firmwareDirOf(dir), name));
      if (image !== undefined) return image;
    }
    return undefined;
  }

  rprocBoot(rproc: FakeRproc, path: string): void {
    if (rproc.state === 'deleted') throw errnoError('ENODEV', 'write', path);
    if (!this.flavour.startTakesReference && (rproc.state === 'running' || rproc.state === 'attached')) {
      throw errnoError('EBUSY', 'write', path);
    }
    if (rproc.power++ > 0) return;
    if (rproc.state === 'detached') {
      rproc.state = 'attached';
      this.startVirtio(rproc);
      return;
    }
    const image = this.requestFirmware(rproc.firmware);
    if (image === undefined) {
      rproc.power--;
      this.log.push(`${rproc.device}: request_firmware failed: -2`, `${rproc.device}: Boot failed: -2`);
      throw errnoError('ENOENT', 'write', path);
    }
    const program = programOf(image);
    if (program === undefined) {
      rproc.power--;
      this.log.push(`${rproc.device}: Boot failed: -22`);
      throw errnoError('EINVAL', 'write', path);
    }
    this.startProgram(rproc, program);
  }

  private startProgram(rproc: FakeRproc, program: FakeProgram): void {
    rproc.program = program;
    rproc.trace = program.trace;
    rproc.state = 'running';
    this.startVirtio(rproc);
  }

  rprocShutdown(rproc: FakeRproc, path: string): void {
    if (rproc.state !== 'running' && rproc.state !== 'attached') throw errnoError('EINVAL', 'write', path);
    if (--rproc.power > 0) return;
    this.stopVirtio(rproc);
    rproc.program = undefined;
    rproc.trace = '';
    rproc.state = 'offline';
  }

  rprocDetach(rproc: FakeRproc, path: string): void {
    if (rproc.state !== 'attached' || !rproc.canDetach) throw errnoError('EINVAL', 'write', path);
    if (--rproc.power > 0) return;
    this.stopVirtio(rproc);
    rproc.state = 'detached';
  }

  /** rproc_report_crash: the handler runs from a workqueue, so the caller returns at once. */
  reportCrash(rproc: FakeRproc, type: number): void {
    this.later(0, () => {
      if (rproc.state === 'crashed' || rproc.state === 'offline') return;
      rproc.state = 'crashed';
      rproc.crashCount++;
      const kind = ['mmufault', 'watchdog', 'fatal error'][type] ?? 'unknown';
      this.log.push(`crash detected in ${rproc.name}: type ${kind}`);
      this.changed();
      if (!rproc.recoveryDisabled) this.later(this.recoveryDelayMs, () => this.triggerRecovery(rproc));
    });
  }

  /** rproc_trigger_recovery → rproc_boot_recovery: stop (crashed), reload the firmware, start. */
  triggerRecovery(rproc: FakeRproc): void {
    if (rproc.state !== 'crashed') return;
    this.stopVirtio(rproc);
    rproc.program = undefined;
    rproc.trace = '';
    rproc.state = 'offline';
    const image = this.requestFirmware(rproc.firmware);
    const program = image === undefined ? undefined : programOf(image);
    // A failed reload leaves it offline with its power reference still held (a Linux quirk).
    if (program !== undefined) this.startProgram(rproc, program);
    this.changed();
  }

  // ---- rpmsg: virtio_rpmsg_bus.c name service, rpmsg_core.c bus ----

  private startVirtio(rproc: FakeRproc): void {
    let index = this.virtios.indexOf(undefined);
    if (index < 0) index = this.virtios.length;
    const virtio = new FakeVirtio(index, rproc);
    this.virtios[index] = virtio;
    rproc.virtio = virtio;
    (rproc.program?.channels ?? []).forEach((name, i) => this.announce(virtio, name, 1024 + i));
  }

  private stopVirtio(rproc: FakeRproc): void {
    const virtio = rproc.virtio;
    if (virtio === undefined) return;
    for (const ch of [...virtio.channels]) this.removeChannel(ch);
    this.virtios[virtio.index] = undefined;
    rproc.virtio = undefined;
  }

  /** An NS announcement: a new rpmsg device, probed by whichever driver matches it. */
  announce(virtio: FakeVirtio, name: string, dst: number): FakeChannel {
    const ch = new FakeChannel(virtio, name, dst);
    virtio.channels.push(ch);
    const driver = this.matchById(ch);
    if (driver !== undefined) this.probe(ch, driver);
    this.changed();
    return ch;
  }

  removeChannel(ch: FakeChannel): void {
    if (ch.driver !== undefined) this.release(ch);
    const at = ch.virtio.channels.indexOf(ch);
    if (at >= 0) ch.virtio.channels.splice(at, 1);
    this.changed();
  }

  /** The drivers registered on the rpmsg bus. */
  drivers(): string[] {
    return [
      'rpmsg_ns',
      'rpmsg_ctrl',
      ...(this.rpmsgChar ? ['rpmsg_chrdev'] : []),
      ...(this.flavour.tty ? ['rpmsg_tty'] : []),
    ];
  }

  /** rpmsg_dev_match without an override: the id tables of rpmsg_char and rpmsg_tty. */
  private matchById(ch: FakeChannel): string | undefined {
    if (ch.name === 'rpmsg-raw' && this.rpmsgChar && this.flavour.rawAutoBind) return 'rpmsg_chrdev';
    if (ch.name === 'rpmsg-tty' && this.flavour.tty) return 'rpmsg_tty';
    return undefined;
  }

  private matches(ch: FakeChannel, driver: string): boolean {
    if (ch.override !== undefined) return ch.override === driver;
    return this.matchById(ch) === driver;
  }

  /** rpmsg_dev_probe: the default endpoint (ANY becomes a dynamic address), then the driver's probe. */
  private probe(ch: FakeChannel, driver: string): void {
    ch.src = ch.src === ANY ? ch.virtio.allocAddr() : ch.src;
    ch.driver = driver;
    const deliver = (data: Uint8Array): void => this.toRemote(ch, data);
    if (driver === 'rpmsg_chrdev') {
      let index = this.eptdevs.indexOf(undefined);
      if (index < 0) index = this.eptdevs.length;
      ch.eptdev = new FakeEptdev(index, deliver);
      this.eptdevs[index] = ch.eptdev;
    } else if (driver === 'rpmsg_tty') {
      let index = this.ttys.indexOf(undefined);
      if (index < 0) index = this.ttys.length;
      ch.tty = new FakeTty(index, deliver);
      this.ttys[index] = ch.tty;
    }
  }

  /** rpmsg_dev_remove: the driver's remove, then the default endpoint goes. */
  private release(ch: FakeChannel): void {
    if (ch.eptdev !== undefined) {
      ch.eptdev.alive = false;
      this.eptdevs[ch.eptdev.index] = undefined;
      ch.eptdev = undefined;
    }
    if (ch.tty !== undefined) {
      ch.tty.hungUp = true;
      this.ttys[ch.tty.index] = undefined;
      ch.tty = undefined;
    }
    ch.driver = undefined;
    ch.src = ANY;
  }

  /** A message from the host to the remote's program, handled after the write returns. */
  private toRemote(ch: FakeChannel, data: Uint8Array): void {
    const rproc = ch.virtio.rproc;
    const program = rproc.program;
    this.later(0, () => {
      // A crashed or stopped program answers nothing.
      if (program === undefined || rproc.program !== program || rproc.state === 'crashed') return;
      program.onMessage({
        channel: ch.name,
        data,
        reply: (reply) => this.toHost(ch, reply),
        crash: (type) => this.reportCrash(rproc, type),
        trace: (line) => {
          rproc.trace += `${line}\n`;
        },
      });
    });
  }

  /** A message from the remote: to the bound driver's endpoint (rpmsg_ept_cb / rpmsg_tty_cb). */
  toHost(ch: FakeChannel, data: Uint8Array): void {
    if (ch.eptdev !== undefined) ch.eptdev.queue.push(data.slice());
    else if (ch.tty !== undefined) ch.tty.receive(data);
    else this.log.push(`msg received with no recipient: ${ch.id}`);
  }

  channels(): FakeChannel[] {
    return this.virtios.flatMap((v) => v?.channels ?? []);
  }

  channel(name: string): FakeChannel {
    const ch = this.channels().find((c) => c.name === name || c.id === name);
    if (ch === undefined) throw new Error(`fake kernel: no channel ${name}`);
    return ch;
  }

  /** Everything the kernel shows now (fake-sysfs.ts). */
  tree(): VTree {
    return kernelFiles(this);
  }

  virtioDevices(): FakeVirtio[] {
    return this.virtios.filter((v): v is FakeVirtio => v !== undefined);
  }

  /** drivers/base/bus.c bind_store: find the device by name, match, probe. */
  bind(driver: string, data: Uint8Array, path: string): void {
    const name = new TextDecoder().decode(data).replace(/\n$/, '');
    const ch = this.channels().find((c) => c.id === name);
    if (ch === undefined || !this.matches(ch, driver)) throw errnoError('ENODEV', 'write', path);
    if (ch.driver !== undefined) throw errnoError('EBUSY', 'write', path);
    this.probe(ch, driver);
  }

  unbind(driver: string, data: Uint8Array, path: string): void {
    const name = new TextDecoder().decode(data).replace(/\n$/, '');
    const ch = this.channels().find((c) => c.id === name);
    if (ch?.driver !== driver) throw errnoError('ENODEV', 'write', path);
    this.release(ch);
  }

  /** remoteproc_cdev.c: write 1-10 bytes compared by prefix; release may shut down. */
  cdevOpen(r: FakeRproc, path: string): DeviceFile {
    return {
      read: () => Promise.reject(errnoError('EINVAL', 'read', path)),
      // eslint-disable-next-line @typescript-eslint/require-await -- a refusal is a rejection
      write: async (data) => {
        this.store(path, data, () => {
          if (data.length === 0 || data.length > 10) throw errnoError('EINVAL', 'write', path);
          if (cdevMatches(data, 'start')) this.rprocBoot(r, path);
          else if (cdevMatches(data, 'stop')) this.rprocShutdown(r, path);
          else if (cdevMatches(data, 'detach')) this.rprocDetach(r, path);
          else throw errnoError('EINVAL', 'write', path);
        });
        return data.length;
      },
      close: () => {
        if (r.cdevPutOnRelease) {
          if (r.state === 'running') this.rprocShutdown(r, path);
          else if (r.state === 'attached') this.rprocDetach(r, path);
          this.changed();
        }
        return Promise.resolve();
      },
    };
  }
}
