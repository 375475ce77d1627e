// A real terminal standing in for a kernel character device in the on-disk tree: `script` (util-linux,
// on every Debian system) allocates a pty whose slave is put in raw mode and named on its first line
// of output; the tree links /dev/rpmsgN or /dev/ttyRPMSGn to that slave, so the backend opens, reads
// and writes a real device file with its real flags. What the backend writes comes out of the
// master (script's stdout) and is handed to the simulated device; what the device has for the
// backend is written into the master (script's stdin). Closing the bridge hangs the terminal up.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { DeviceFile } from '../../src/linux/kernel-io.ts';

export class PtyBridge {
  /** The pty slave, e.g. /dev/pts/3. */
  readonly slave: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly device: DeviceFile;
  private readonly pump: NodeJS.Timeout;
  private closed = false;

  private constructor(
    child: ChildProcessWithoutNullStreams,
    slave: string,
    device: DeviceFile,
    rest: Buffer,
  ) {
    this.child = child;
    this.slave = slave;
    this.device = device;
    if (rest.length > 0) void this.toDevice(rest);
    child.stdout.on('data', (chunk: Buffer) => void this.toDevice(chunk));
    // The simulated device is polled for what it has for the backend (it queues like the kernel).
    this.pump = setInterval(() => void this.fromDevice(), 2);
  }

  static open(device: DeviceFile): Promise<PtyBridge> {
    const child = spawn('script', ['-q', '-e', '-c', 'stty raw -echo; tty; exec sleep 3600', '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr.resume();
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error('script did not name its pty within 5 s')), 5000);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(e);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const nl = head.indexOf(0x0a);
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        const slave = head.subarray(0, nl).toString().trim();
        if (!slave.startsWith('/dev/')) return fail(new Error(`script printed ${JSON.stringify(slave)}`));
        resolve(new PtyBridge(child, slave, device, head.subarray(nl + 1)));
      };
      child.stdout.on('data', onData);
      child.on('error', fail);
    });
  }

  private async toDevice(chunk: Buffer): Promise<void> {
    if (this.closed) return;
    await this.device.write(new Uint8Array(chunk)).catch(() => undefined);
  }

  private async fromDevice(): Promise<void> {
    if (this.closed) return;
    try {
      const data = await this.device.read(64 * 1024);
      if (data !== null && data.length > 0 && this.open) this.child.stdin.write(data);
    } catch {
      // The device went away (EPIPE): hang the terminal up, as the node would disappear.
      this.close();
    }
  }

  /** Not closed (a method, so that the check after an await is not folded away). */
  private get open(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pump);
    void this.device.close();
    this.child.stdin.destroy();
    this.child.kill('SIGKILL');
  }
}
