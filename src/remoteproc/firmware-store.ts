// Where firmware images come from: like request_firmware(), a name is looked up in in-memory
// images first, then as a direct path, then in each directory of a search path (the equivalent of
// /lib/firmware). Mirrors drivers/base/firmware_loader's lookup order as remoteproc sees it.

import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ERRNO, RprocError, type ErrnoName } from '../util/errors.ts';

export interface Firmware {
  /** The name it was requested by. */
  readonly name: string;
  /** Where it was found: a path, or `memory:<name>`. */
  readonly source: string;
  readonly bytes: Uint8Array;
}

/** Firmware images larger than this are refused before reading: no remote core has 1 GiB of RAM. */
const MAX_FIRMWARE_BYTES = 1 << 30;

export class FirmwareStore {
  private readonly images = new Map<string, Uint8Array>();
  readonly searchPath: string[];

  constructor(searchPath: readonly string[] = []) {
    this.searchPath = [...searchPath];
  }

  /** Register an in-memory image under `name` (tests, tools, bundled firmware). */
  add(name: string, bytes: Uint8Array): void {
    this.images.set(name, bytes);
  }

  remove(name: string): boolean {
    return this.images.delete(name);
  }

  /** request_firmware(): the bytes of `name`, or ENOENT listing every place that was tried. */
  async request(name: string): Promise<Firmware> {
    if (name === '') throw new RprocError('EINVAL', 'request-firmware', 'empty firmware name');
    const image = this.images.get(name);
    if (image !== undefined) return { name, source: `memory:${name}`, bytes: image };
    const candidates =
      isAbsolute(name) || name.startsWith('./') || name.startsWith('../')
        ? [resolve(name)]
        : [resolve(name), ...this.searchPath.map((dir) => join(dir, name))];
    for (const path of candidates) {
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) continue;
        size = st.size;
      } catch {
        continue;
      }
      if (size > MAX_FIRMWARE_BYTES) {
        throw new RprocError(
          'EFBIG',
          'request-firmware',
          `firmware ${path} is ${size} bytes, more than any remote core could hold`,
        );
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path));
      } catch (e) {
        // Found but unreadable (EACCES, ...): say so instead of "not found", keeping the errno.
        const code = (e as NodeJS.ErrnoException).code;
        const errno: ErrnoName = code !== undefined && code in ERRNO ? (code as ErrnoName) : 'EIO';
        throw new RprocError(
          errno,
          'request-firmware',
          `cannot read firmware ${path} (${code ?? String(e)})`,
          {
            cause: e,
          },
        );
      }
      return { name, source: path, bytes };
    }
    throw new RprocError(
      'ENOENT',
      'request-firmware',
      `firmware '${name}' not found (looked in: ${candidates.join(', ') || 'nowhere'})`,
    );
  }
}
