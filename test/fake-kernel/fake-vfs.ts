// The file-system view of the simulated kernel: a snapshot of absolute paths (sysfs under /sys, the
// device nodes under /dev, firmware under /lib/firmware) to directories, attribute files with the
// kernel's read/store behaviour, symbolic links with the relative targets sysfs uses, and
// character devices; and path resolution over it (links followed component by component, as the
// kernel's namei does), shared by the in-memory KernelIo and the on-disk tree.

import { posix } from 'node:path';
import { errnoError, type DeviceFile } from '../../src/linux/kernel-io.ts';

export interface VFile {
  readonly kind: 'file';
  /** Permission bits as the kernel creates the file (0644 attributes, 0200 bind, 0400 debugfs...). */
  readonly mode: number;
  read?(): Uint8Array | string;
  /** store(): throws an errno error (errnoError) to refuse, as the kernel returns -E... */
  write?(data: Uint8Array): void;
}

export interface VDir {
  readonly kind: 'dir';
  readonly mode: number;
}

export interface VLink {
  readonly kind: 'link';
  /** Relative to the link's directory, as sysfs writes them ("../../devices/..."). */
  readonly target: string;
}

export interface VCharDev {
  readonly kind: 'chardev';
  readonly mode: number;
  open(): DeviceFile;
}

export type VNode = VFile | VDir | VLink | VCharDev;

/** A snapshot: every path (absolute, no trailing slash) with its node; parents are dirs. */
export class VTree {
  readonly nodes = new Map<string, VNode>();

  dir(path: string, mode = 0o755): void {
    this.ensureParents(path);
    if (!this.nodes.has(path)) this.nodes.set(path, { kind: 'dir', mode });
  }

  file(path: string, node: Omit<VFile, 'kind'>): void {
    this.ensureParents(path);
    this.nodes.set(path, { kind: 'file', ...node });
  }

  /** A read-only attribute printing `text`. */
  text(path: string, text: string, mode = 0o444): void {
    this.file(path, { mode, read: () => text });
  }

  link(path: string, target: string): void {
    this.ensureParents(path);
    this.nodes.set(path, { kind: 'link', target });
  }

  chardev(path: string, mode: number, open: () => DeviceFile): void {
    this.ensureParents(path);
    this.nodes.set(path, { kind: 'chardev', mode, open });
  }

  private ensureParents(path: string): void {
    const parent = posix.dirname(path);
    if (parent === path) return;
    if (!this.nodes.has(parent)) {
      this.ensureParents(parent);
      this.nodes.set(parent, { kind: 'dir', mode: 0o755 });
    }
  }

  /** The canonical path: every link followed (ENOENT for a missing component, ELOOP past 40). */
  resolve(path: string, syscall = 'stat', followLast = true): string {
    let parts = posix
      .normalize(path)
      .split('/')
      .filter((p) => p !== '');
    let current = '/';
    let hops = 0;
    while (parts.length > 0) {
      const [head, ...rest] = parts as [string, ...string[]];
      const next = posix.join(current, head);
      const node = this.nodes.get(next);
      if (node === undefined && next !== '/') throw errnoError('ENOENT', syscall, path);
      if (node?.kind === 'link' && (rest.length > 0 || followLast)) {
        if (++hops > 40) throw errnoError('ELOOP', syscall, path);
        const target = posix.isAbsolute(node.target) ? node.target : posix.join(current, node.target);
        parts = [...target.split('/').filter((p) => p !== ''), ...rest];
        current = '/';
        continue;
      }
      if (rest.length > 0 && node !== undefined && node.kind !== 'dir')
        throw errnoError('ENOTDIR', syscall, path);
      current = next;
      parts = rest;
    }
    return current;
  }

  /** The node at `path` after following links. */
  lookup(path: string, syscall: string): VNode {
    const real = this.resolve(path, syscall);
    const node = real === '/' ? ({ kind: 'dir', mode: 0o755 } as const) : this.nodes.get(real);
    if (node === undefined) throw errnoError('ENOENT', syscall, path);
    return node;
  }

  readdir(path: string): string[] {
    const real = this.resolve(path, 'scandir');
    const node = this.lookup(real, 'scandir');
    if (node.kind !== 'dir') throw errnoError('ENOTDIR', 'scandir', path);
    const prefix = real === '/' ? '/' : `${real}/`;
    const names: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && p !== real) {
        names.push(p.slice(prefix.length));
      }
    }
    return names.sort();
  }

  readlink(path: string): string {
    const real = this.resolve(path, 'readlink', false);
    const node = this.nodes.get(real);
    if (node === undefined) throw errnoError('ENOENT', 'readlink', path);
    if (node.kind !== 'link') throw errnoError('EINVAL', 'readlink', path);
    return node.target;
  }
}
