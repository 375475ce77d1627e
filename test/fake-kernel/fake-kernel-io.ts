// The Linux backend's KernelIo served by the simulated kernel in memory, so that writes can fail
// with the errno the kernel returns (a regular file cannot): every call looks at the kernel's
// current tree, follows links as namei does, and applies the permission rules of the files —
// unless `root`, attributes are written only by root, debugfs is unreadable, /dev nodes unopenable.

import { posix } from 'node:path';
import { errnoError, type DeviceFile, type KernelIo } from '../../src/linux/kernel-io.ts';
import type { FakeKernel } from './fake-kernel.ts';

export interface FakeKernelIoOptions {
  /** The caller is root (default true). */
  readonly root?: boolean;
}

export class FakeKernelIo implements KernelIo {
  readonly kernel: FakeKernel;
  readonly root: boolean;
  /** Every path opened as a device, in order. */
  readonly opened: string[] = [];

  constructor(kernel: FakeKernel, options: FakeKernelIoOptions = {}) {
    this.kernel = kernel;
    this.root = options.root ?? true;
  }

  private denied(path: string): boolean {
    return !this.root && /^\/sys\/kernel\/debug(\/|$)/.test(posix.normalize(path));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- throws as a rejected promise
  async readFile(path: string): Promise<Uint8Array> {
    if (this.denied(path)) throw errnoError('EACCES', 'open', path);
    const node = this.kernel.tree().lookup(path, 'open');
    if (node.kind === 'dir') throw errnoError('EISDIR', 'read', path);
    if (node.kind === 'chardev') throw errnoError('EINVAL', 'read', path);
    if (node.kind !== 'file') throw errnoError('ENOENT', 'open', path);
    if (node.read === undefined) throw errnoError('EACCES', 'open', path);
    const data = node.read();
    return typeof data === 'string' ? new TextEncoder().encode(data) : data;
  }

  async writeFile(path: string, text: string): Promise<void> {
    const tree = this.kernel.tree();
    const node = tree.lookup(path, 'open');
    const data = new TextEncoder().encode(text);
    if (node.kind === 'chardev') {
      if (!this.root) throw errnoError('EACCES', 'open', path);
      const file = node.open();
      try {
        await file.write(data);
      } finally {
        await file.close();
      }
      return;
    }
    if (node.kind !== 'file') throw errnoError('EISDIR', 'open', path);
    // kernfs_fop_open: no write permission bits or no store() → EACCES, root or not.
    if (node.write === undefined || (node.mode & 0o222) === 0 || !this.root)
      throw errnoError('EACCES', 'open', path);
    // sysfs_kf_write: a zero-length write never reaches store().
    if (data.length === 0) return;
    node.write(data);
  }

  // The methods below are async only to turn the simulated kernel's throws into rejections.
  /* eslint-disable @typescript-eslint/require-await */
  async readdir(path: string): Promise<string[]> {
    if (this.denied(path)) throw errnoError('EACCES', 'scandir', path);
    return this.kernel.tree().readdir(path);
  }

  async readlink(path: string): Promise<string> {
    return this.kernel.tree().readlink(path);
  }

  async realpath(path: string): Promise<string> {
    return this.kernel.tree().resolve(path, 'realpath');
  }

  async exists(path: string): Promise<boolean> {
    if (this.denied(path)) throw errnoError('EACCES', 'stat', path);
    try {
      this.kernel.tree().lookup(path, 'stat');
      return true;
    } catch {
      return false;
    }
  }

  async mode(path: string): Promise<number> {
    const node = this.kernel.tree().lookup(path, 'stat');
    return node.kind === 'link' ? 0o777 : node.mode;
  }

  async installFile(path: string, bytes: Uint8Array): Promise<void> {
    if (!this.root) throw errnoError('EACCES', 'open', path);
    const dir = posix.dirname(path);
    const known = this.kernel.firmwareSearchPath().some((d) => posix.normalize(d) === posix.normalize(dir));
    if (!known && !this.kernel.tree().nodes.has(dir)) throw errnoError('ENOENT', 'open', path);
    this.kernel.firmwareFs.write(path, bytes);
  }

  async openDevice(path: string): Promise<DeviceFile> {
    const node = this.kernel.tree().lookup(path, 'open');
    if (node.kind !== 'chardev') throw errnoError('ENODEV', 'open', path);
    if (!this.root) throw errnoError('EACCES', 'open', path);
    this.opened.push(path);
    return node.open();
  }
  /* eslint-enable @typescript-eslint/require-await */
}
