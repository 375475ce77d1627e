// The character devices of the simulated kernel: rpmsg_char's endpoint device (one opener, one
// message per read with the rest of a longer one dropped, EAGAIN when empty under O_NONBLOCK,
// EPIPE once the endpoint is destroyed, EMSGSIZE past the MTU), rpmsg_tty's tty (a byte stream,
// at most one MTU taken per write, end of file after the hang-up) and remoteproc_cdev's control
// device (1-10 bytes, compared by strncmp over the written length, no newline stripping).

import { errnoError, type DeviceFile } from '../../src/linux/kernel-io.ts';

/** virtio_rpmsg_bus.c: 512-byte buffers less the 16-byte header. */
const FAKE_MTU = 496;

export class FakeEptdev {
  readonly index: number;
  readonly queue: Uint8Array[] = [];
  alive = true;
  opened = false;
  /** Simulates a remote that returns no TX buffer: O_NONBLOCK writes get EAGAIN. */
  txFull = false;
  private readonly deliver: (data: Uint8Array) => void;

  constructor(index: number, deliver: (data: Uint8Array) => void) {
    this.index = index;
    this.deliver = deliver;
  }

  get name(): string {
    return `rpmsg${this.index}`;
  }

  /** rpmsg_eptdev_open: -EBUSY for a second opener (the node is gone once the endpoint is). */
  open(path: string): DeviceFile {
    if (!this.alive) throw errnoError('ENETRESET', 'open', path);
    if (this.opened) throw errnoError('EBUSY', 'open', path);
    this.opened = true;
    let closed = false;
    return {
      read: (max) => {
        if (closed) return Promise.reject(errnoError('EBADF', 'read', path));
        if (!this.alive) return Promise.reject(errnoError('EPIPE', 'read', path));
        const msg = this.queue.shift();
        if (msg === undefined) return Promise.resolve(null);
        return Promise.resolve(msg.slice(0, Math.min(max, msg.length)));
      },
      write: (data) => {
        if (closed) return Promise.reject(errnoError('EBADF', 'write', path));
        if (!this.alive) return Promise.reject(errnoError('EPIPE', 'write', path));
        if (data.length > FAKE_MTU) return Promise.reject(errnoError('EMSGSIZE', 'write', path));
        if (this.txFull) return Promise.reject(errnoError('EAGAIN', 'write', path));
        this.deliver(data.slice());
        return Promise.resolve(data.length);
      },
      close: () => {
        if (!closed) {
          closed = true;
          this.opened = false;
          // rpmsg_eptdev_release: skb_queue_purge.
          this.queue.length = 0;
        }
        return Promise.resolve();
      },
    };
  }
}

export class FakeTty {
  readonly index: number;
  private buffer: number[] = [];
  hungUp = false;
  private readonly deliver: (data: Uint8Array) => void;

  constructor(index: number, deliver: (data: Uint8Array) => void) {
    this.index = index;
    this.deliver = deliver;
  }

  get name(): string {
    return `ttyRPMSG${this.index}`;
  }

  /** rpmsg_tty_cb: a zero-length message is refused, the rest goes into the flip buffer. */
  receive(data: Uint8Array): void {
    if (data.length === 0 || this.hungUp) return;
    this.buffer.push(...data);
  }

  open(path: string): DeviceFile {
    if (this.hungUp) throw errnoError('EIO', 'open', path);
    return {
      read: (max) => {
        if (this.buffer.length === 0) return Promise.resolve(this.hungUp ? new Uint8Array(0) : null);
        const out = this.buffer.slice(0, max);
        this.buffer = this.buffer.slice(out.length);
        return Promise.resolve(Uint8Array.from(out));
      },
      write: (data) => {
        if (this.hungUp) return Promise.reject(errnoError('EIO', 'write', path));
        // rpmsg_tty_write: min(len, MTU) with rpmsg_trysend.
        const n = Math.min(data.length, FAKE_MTU);
        if (n > 0) this.deliver(data.slice(0, n));
        return Promise.resolve(n);
      },
      close: () => Promise.resolve(),
    };
  }
}

/** strncmp(cmd, word, len) === 0 over the bytes written, as rproc_cdev_write compares them. */
export function cdevMatches(cmd: Uint8Array, word: string): boolean {
  for (let i = 0; i < cmd.length; i++) {
    const a = cmd[i] ?? 0;
    const b = i < word.length ? word.charCodeAt(i) : 0;
    if (a !== b) return false;
    if (a === 0) return true;
  }
  return true;
}
