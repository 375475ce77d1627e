// The /sys/class/remoteproc/remoteproc<N>/ attributes of one processor as text: state, firmware,
// recovery, coredump and name, with sysfs_streq parsing, kernfs write-size rules, Linux's errno
// codes and the driver's read-only switch. Mirrors drivers/remoteproc/remoteproc_sysfs.c.

import { RprocError } from '../../util/errors.ts';
import type { Rproc } from '../rproc.ts';
import { COREDUMP_MODE, RPROC_STATE, type CoredumpMode } from '../rproc-state.ts';
import {
  asControlError,
  cString,
  decodeText,
  printable,
  sysfsStreq,
  toBytes,
  triggerRecovery,
  type ControlInput,
} from './control-io.ts';

/** In Linux's rproc_attrs order, which is the order `ls` shows them in. */
export const SYSFS_ATTRS = ['coredump', 'recovery', 'firmware', 'state', 'name'] as const;
export type SysfsAttr = (typeof SYSFS_ATTRS)[number];

/** kernfs refuses a write longer than a page to a sysfs attribute (atomic_write_len). */
export const SYSFS_WRITE_MAX = 4096;

const WRITABLE: ReadonlySet<SysfsAttr> = new Set(['coredump', 'recovery', 'firmware', 'state']);

export interface RprocSysfsOptions {
  /**
   * The driver's rproc->sysfs_read_only: state, firmware, recovery and coredump become 0444 (some
   * platforms let only the kernel control the core). Writes fail with EACCES, as Linux refuses
   * opening a 0444 file for writing.
   */
  readonly readOnly?: boolean;
}

export class RprocSysfs {
  readonly rproc: Rproc;
  readonly readOnly: boolean;

  constructor(rproc: Rproc, options: RprocSysfsOptions = {}) {
    this.rproc = rproc;
    this.readOnly = options.readOnly ?? false;
  }

  get path(): string {
    return `/sys/class/remoteproc/${this.rproc.devName}`;
  }

  list(): readonly SysfsAttr[] {
    return SYSFS_ATTRS;
  }

  /** The file mode `ls -l` would show (rproc_is_visible). */
  mode(attr: string): number {
    const a = this.lookup(attr, 'mode');
    return this.writable(a) ? 0o644 : 0o444;
  }

  /** The attribute's text, newline included, as `cat` prints it. */
  read(attr: string): string {
    const rproc = this.rproc;
    const a = this.lookup(attr, 'read');
    switch (a) {
      case 'state':
        return `${rproc.state}\n`;
      case 'firmware':
        // An attached core runs an image someone else loaded: the configured name would be a guess.
        return `${rproc.state === RPROC_STATE.ATTACHED ? 'unknown' : rproc.firmware}\n`;
      case 'recovery':
        return rproc.crash.recoveryDisabled ? 'disabled\n' : 'enabled\n';
      case 'coredump':
        return `${rproc.coredump.mode}\n`;
      case 'name':
        return `${rproc.name}\n`;
    }
  }

  /**
   * write(2) to the attribute: resolves with the byte count (Linux's return value) once the action
   * has finished, or rejects with the RprocError whose code is the errno Linux returns.
   */
  async write(attr: string, data: ControlInput): Promise<number> {
    const a = this.lookup(attr, 'write');
    const op = `sysfs-${a}`;
    if (!this.writable(a)) {
      throw new RprocError('EACCES', op, `${this.path}/${a} is read-only (mode ${this.mode(a).toString(8)})`);
    }
    const bytes = toBytes(data);
    if (bytes.length > SYSFS_WRITE_MAX) {
      throw new RprocError('E2BIG', op, `${bytes.length} bytes is more than a sysfs write takes`);
    }
    // sysfs_kf_write: an empty write succeeds without reaching the attribute's store.
    if (bytes.length === 0) return 0;
    try {
      await this.store(a, bytes, op);
    } catch (e) {
      throw asControlError(e, op);
    }
    return bytes.length;
  }

  private async store(attr: SysfsAttr, bytes: Uint8Array, op: string): Promise<void> {
    const rproc = this.rproc;
    switch (attr) {
      case 'state':
        // No state pre-checks (Linux since 2022): the power refcount decides, so a second "start"
        // only takes another reference and "stop" only drops one.
        if (sysfsStreq(bytes, 'start')) await rproc.boot();
        else if (sysfsStreq(bytes, 'stop')) await rproc.shutdown();
        else if (sysfsStreq(bytes, 'detach')) await rproc.detach();
        else throw new RprocError('EINVAL', op, `Unrecognised option: ${printable(shown(bytes))}`);
        return;
      case 'firmware':
        // rproc_set_firmware sees a C string: the name ends at a NUL; the core cuts it at "\n",
        // checks the state (EBUSY) before the emptiness (EINVAL), as Linux does.
        await rproc.setFirmware(decodeText(cString(bytes)));
        return;
      case 'recovery':
        if (sysfsStreq(bytes, 'enabled')) {
          rproc.crash.recoveryDisabled = false;
          await triggerRecovery(rproc);
        } else if (sysfsStreq(bytes, 'disabled')) {
          rproc.crash.recoveryDisabled = true;
        } else if (sysfsStreq(bytes, 'recover')) {
          await triggerRecovery(rproc);
        } else {
          throw new RprocError('EINVAL', op, `Unrecognised option: ${printable(shown(bytes))}`);
        }
        return;
      case 'coredump': {
        // Checked before the word is parsed: even a bad word gets EBUSY while crashed.
        if (rproc.state === RPROC_STATE.CRASHED) {
          throw new RprocError('EBUSY', op, "can't change coredump configuration while crashed");
        }
        const mode = Object.values(COREDUMP_MODE).find((m: CoredumpMode) => sysfsStreq(bytes, m));
        if (mode === undefined) {
          throw new RprocError('EINVAL', op, `Invalid coredump configuration: ${printable(shown(bytes))}`);
        }
        rproc.coredump.mode = mode;
        return;
      }
      case 'name':
        // Unreachable: write() refused it as read-only.
        throw new RprocError('EACCES', op, 'name is read-only');
    }
  }

  private writable(attr: SysfsAttr): boolean {
    return WRITABLE.has(attr) && !this.readOnly;
  }

  private lookup(attr: string, what: string): SysfsAttr {
    const found = SYSFS_ATTRS.find((a) => a === attr);
    if (found === undefined) {
      throw new RprocError('ENOENT', `sysfs-${what}`, `${this.path}/${printable(attr)} does not exist`);
    }
    return found;
  }
}

/** The written text as the handler saw it: up to the NUL, one trailing newline dropped. */
function shown(bytes: Uint8Array): string {
  return decodeText(cString(bytes)).replace(/\n$/, '');
}
