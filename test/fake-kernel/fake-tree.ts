// The simulated kernel laid out on disk, exactly as the kernel lays out its files: a temporary
// directory with sys/ (class/remoteproc and bus/rpmsg/devices as relative symbolic links into
// devices/, attributes that read with their trailing newline), dev/ (ptys standing in for
// /dev/rpmsgN and /dev/ttyRPMSGn) and lib/firmware/, used through the backend's real node:fs I/O.
// A regular file cannot refuse a write, so the kernel here reacts after the fact: it watches every
// writable file (fs.watch), reads what was written, hands it to the simulated kernel, and lays the
// result out again — the way a board's kernel would have answered, only a moment later.

import { watch, type FSWatcher } from 'node:fs';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel, type FakeKernelOptions, type FirmwareFs } from './fake-kernel.ts';
import { PtyBridge } from './pty-bridge.ts';
import type { VNode } from './fake-vfs.ts';

type Rendered =
  { kind: 'dir' } | { kind: 'file'; content: string } | { kind: 'link'; target: string } | { kind: 'dev' };

function diskFirmwareFs(root: string): FirmwareFs {
  const real = (path: string): string => (path.startsWith(root) ? path : join(root, path));
  return {
    read: (path) => (existsSync(real(path)) ? new Uint8Array(readFileSync(real(path))) : undefined),
    write: (path, bytes) => writeFileSync(real(path), bytes),
    list: () => [],
  };
}

export class FakeTree {
  readonly root: string;
  readonly kernel: FakeKernel;
  private readonly rendered = new Map<string, Rendered>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly bridges = new Map<string, PtyBridge | 'opening'>();
  private readonly queue: string[] = [];
  private lastActivity = Date.now();
  private closed = false;
  /** Errors of kernel writes (the writer cannot see them here: the file took the bytes). */
  readonly refused: { path: string; code: string | undefined }[] = [];

  constructor(options: Omit<FakeKernelOptions, 'firmwareFs' | 'firmwareDirOf'>) {
    this.root = mkdtempSync(join(tmpdir(), 'rproc-fake-sys-'));
    const root = this.root;
    this.kernel = new FakeKernel({
      ...options,
      firmwareFs: diskFirmwareFs(root),
      firmwareDirOf: (dir) => (dir.startsWith(root) ? dir : join(root, dir)),
    });
    // The backend installs firmware where firmware_class.path says: the tree's own lib/firmware.
    this.kernel.firmwarePath = options.firmwarePath ?? join(root, 'lib', 'firmware');
    this.kernel.onChange = () => this.render();
    this.render();
  }

  get sysfs(): string {
    return join(this.root, 'sys');
  }

  get dev(): string {
    return join(this.root, 'dev');
  }

  get firmwareDir(): string {
    return join(this.root, 'lib', 'firmware');
  }

  private disk(path: string): string {
    return join(this.root, path);
  }

  /** Lay the kernel's files out again, touching only what changed. */
  render(): void {
    if (this.closed) return;
    const tree = this.kernel.tree();
    const wanted = new Map<string, VNode>(tree.nodes);
    for (const path of [...this.rendered.keys()].sort().reverse()) {
      if (wanted.has(path)) continue;
      this.remove(path);
    }
    for (const [path, node] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) this.place(path, node);
  }

  private remove(path: string): void {
    const was = this.rendered.get(path);
    this.rendered.delete(path);
    this.watchers.get(path)?.close();
    this.watchers.delete(path);
    const bridge = this.bridges.get(path);
    if (bridge instanceof PtyBridge) bridge.close();
    this.bridges.delete(path);
    rmSync(this.disk(path), { recursive: was?.kind === 'dir', force: true });
  }

  private place(path: string, node: VNode): void {
    const disk = this.disk(path);
    const was = this.rendered.get(path);
    switch (node.kind) {
      case 'dir':
        if (was?.kind !== 'dir') mkdirSync(disk, { recursive: true, mode: 0o755 });
        chmodSync(disk, 0o755);
        this.rendered.set(path, { kind: 'dir' });
        return;
      case 'link':
        if (was?.kind === 'link' && was.target === node.target) return;
        if (existsSync(disk) || isLink(disk)) unlinkSync(disk);
        symlinkSync(node.target, disk);
        this.rendered.set(path, { kind: 'link', target: node.target });
        return;
      case 'file': {
        const data = node.read?.() ?? '';
        const content = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
        if (was?.kind === 'file' && was.content === content) return;
        // A write not yet handled is left for the watcher to hand over.
        if (was?.kind === 'file' && readFileSync(disk, 'latin1') !== was.content) return;
        writeFileSync(disk, Buffer.from(content, 'latin1'));
        chmodSync(disk, node.mode);
        this.rendered.set(path, { kind: 'file', content });
        if (node.write !== undefined && !this.watchers.has(path)) {
          this.watchers.set(
            path,
            watch(disk, () => {
              this.lastActivity = Date.now();
              this.queue.push(path);
              setImmediate(() => this.drain());
            }),
          );
        }
        return;
      }
      case 'chardev': {
        if (this.bridges.has(path)) return;
        this.bridges.set(path, 'opening');
        void PtyBridge.open(node.open()).then(
          (bridge) => {
            if (this.closed || this.bridges.get(path) !== 'opening') return bridge.close();
            this.bridges.set(path, bridge);
            symlinkSync(bridge.slave, disk);
            this.rendered.set(path, { kind: 'dev' });
          },
          () => this.bridges.delete(path),
        );
        return;
      }
    }
  }

  /** Hand every written file to the kernel, in the order the writes were seen. */
  private drain(): void {
    while (!this.closed && this.queue.length > 0) {
      const path = this.queue.shift() ?? '';
      const was = this.rendered.get(path);
      if (was?.kind !== 'file') continue;
      let content: string;
      try {
        content = readFileSync(this.disk(path), 'latin1');
      } catch {
        continue;
      }
      // Our own rendering, or the truncation before a write's bytes: nothing to hand over.
      if (content === was.content || content === '') continue;
      const node = this.kernel.tree().nodes.get(path);
      // Handed over: rendering may now replace what was written with what the file reads.
      this.rendered.set(path, { kind: 'file', content });
      if (node?.kind === 'file' && node.write !== undefined) {
        try {
          node.write(Buffer.from(content, 'latin1'));
        } catch (e) {
          this.refused.push({ path, code: (e as NodeJS.ErrnoException).code });
        }
      }
      // The attribute reads its value again (a write-only file reads empty).
      this.render();
      this.lastActivity = Date.now();
    }
  }

  /** Resolves once every write has been handled and the tree has been quiet for `quietMs`. */
  async settled(quietMs = 40): Promise<void> {
    for (;;) {
      const bridging = [...this.bridges.values()].some((b) => b === 'opening');
      if (this.queue.length === 0 && !bridging && Date.now() - this.lastActivity >= quietMs) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The path of a kernel file inside the tree. */
  path(kernelPath: string): string {
    return this.disk(kernelPath);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.dispose();
    for (const w of this.watchers.values()) w.close();
    for (const b of this.bridges.values()) if (b instanceof PtyBridge) b.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
