// KernelIo over node:fs, for a real board (or a recorded tree of files): attributes are written
// with a single write(2) on O_WRONLY|O_TRUNC without O_CREAT, so a mistyped path fails with ENOENT
// instead of creating a file; device nodes are opened O_NONBLOCK so that no read ever pins a libuv
// thread (rpmsg_char's release only runs once a blocked read returns, so a blocking read would
// also keep the process alive after close).

import { constants } from 'node:fs';
import { open, readFile, readdir, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, errnoError, type DeviceFile, type KernelIo } from './kernel-io.ts';

const { O_WRONLY, O_TRUNC, O_RDWR, O_NONBLOCK, O_NOCTTY } = constants;

class NodeDeviceFile implements DeviceFile {
  private readonly handle: Awaited<ReturnType<typeof open>>;

  constructor(handle: Awaited<ReturnType<typeof open>>) {
    this.handle = handle;
  }

  async read(max: number): Promise<Uint8Array | null> {
    const buf = Buffer.alloc(max);
    try {
      const { bytesRead } = await this.handle.read(buf, 0, max, null);
      return buf.subarray(0, bytesRead);
    } catch (e) {
      if (errnoCode(e) === 'EAGAIN') return null;
      throw e;
    }
  }

  async write(data: Uint8Array): Promise<number> {
    const { bytesWritten } = await this.handle.write(data, 0, data.length, null);
    return bytesWritten;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class NodeKernelIo implements KernelIo {
  async readFile(path: string): Promise<Uint8Array> {
    return readFile(path);
  }

  async writeFile(path: string, text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const handle = await open(path, O_WRONLY | O_TRUNC);
    try {
      const { bytesWritten } = await handle.write(bytes, 0, bytes.length, null);
      // sysfs hands the whole buffer to store() and returns its count: less means it took a part.
      if (bytesWritten !== bytes.length) throw errnoError('EIO', 'write', path);
    } finally {
      await handle.close();
    }
  }

  async readdir(path: string): Promise<string[]> {
    return readdir(path);
  }

  async readlink(path: string): Promise<string> {
    return readlink(path);
  }

  async realpath(path: string): Promise<string> {
    return realpath(path);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw e;
    }
  }

  async mode(path: string): Promise<number> {
    return (await stat(path)).mode & 0o7777;
  }

  async installFile(path: string, bytes: Uint8Array): Promise<void> {
    const aside = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    const handle = await open(aside, 'w', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(0o644);
    } finally {
      await handle.close();
    }
    try {
      await rename(aside, path);
    } catch (e) {
      await unlink(aside).catch(() => undefined);
      throw e;
    }
  }

  async openDevice(path: string): Promise<DeviceFile> {
    // A missing node must not be created (open without O_CREAT fails with ENOENT) and a node that is
    // not a device or FIFO (a stray regular file) would never behave like one: refuse it.
    const st = await stat(path);
    if (!st.isCharacterDevice() && !st.isFIFO()) throw errnoError('ENODEV', 'open', path);
    return new NodeDeviceFile(await open(path, O_RDWR | O_NONBLOCK | O_NOCTTY));
  }
}
