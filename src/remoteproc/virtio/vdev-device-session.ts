// The device side of one vdev, shared by every virtio device firmware plays (rpmsg remote, console):
// resolve the live resource table and the vdev entry in it, poll the host-written status for
// DRIVER_OK, build both queues at the handshake (validated, see vdev-rings.ts), start over when the
// host resets the status, kick the host and report queue failures. The device's own protocol plugs
// in as a VdevDeviceRole. OpenAMP's VIRTIO_DEV_DEVICE handshake (OpenAMP lib/remoteproc/remoteproc_virtio.c; virtio 1.x
// §2.1 status field, §3.1 device initialization, seen from the device).

import { RprocError, hex } from '../../util/errors.ts';
import { DeviceDiagnostics, errorText, type DiagnosticCounters } from '../../virtio/device-diagnostics.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED } from '../../virtio/virtio-device.ts';
import { LiveVdevFields, type VdevLocation } from './vdev-locate.ts';
import { mapVdevRings, type VdevQueues, type VdevRing } from './vdev-rings.ts';

/** The device's address map: a view of `len` bytes at `addr`, or undefined when not entirely mapped. */
export type DeviceTranslate = (addr: bigint | number, len: number) => Uint8Array | undefined;

/**
 * - `wait-driver-ok`: polling the vdev status byte for DRIVER_OK (nothing touches the rings).
 * - `ready`: queues built from the live table; the device's protocol runs.
 * - `invalid`: DRIVER_OK was seen but the host's vring setup failed validation; waiting for the
 *   host to reset the device (status without DRIVER_OK) before trying again.
 * - `closed`: close() was called; the device does nothing more.
 */
export type VdevDeviceState = 'wait-driver-ok' | 'ready' | 'invalid' | 'closed';

/** Why a session ended: the host cleared DRIVER_OK (or set FAILED), restart(), or close(). */
export type VdevDropCause = 'host-reset' | 'restart' | 'close';

/** The counters kept here; a device's stats object carries them among its own. */
export interface VdevSessionCounters extends DiagnosticCounters {
  /** Successful DRIVER_OK handshakes (queues built). */
  handshakes: number;
  /** ready → wait-driver-ok transitions (the host reset or stopped the device, or restart()). */
  resets: number;
  /** Handshakes refused: the host's vring setup was invalid. */
  configErrors: number;
  /** Queues that stopped on a host protocol violation (bad avail ring, descriptors, ...). */
  queueErrors: number;
  /** Exceptions thrown by the device's callbacks or user hooks (caught). */
  callbackErrors: number;
  /** Notifications sent to the host, and decisions the host's suppression flags turned into none. */
  kicks: number;
  kicksSuppressed: number;
  /** Exceptions caught by service()'s backstop (a bug here or in a translator). */
  internalErrors: number;
}

/** What every device-side virtio device takes from firmware: a part of each device's own options. */
export interface VdevDeviceOptions {
  /**
   * The live resource table: its device address and size (translated once through `translate`, like
   * a linker symbol the firmware knows), or a view of it.
   */
  readonly table: { readonly da: number | bigint; readonly size: number } | Uint8Array;
  /** Device address → memory view: the table and the vrings (vring da) are resolved through it. */
  readonly translate: DeviceTranslate;
  /**
   * Bus address → memory view for descriptor addresses (the host's DMA addresses: physical
   * addresses on this SoC). Default: `translate` (PA = DA, the usual MCU case).
   */
  readonly translateBus?: DeviceTranslate;
  /** Ring the host's doorbell for a vring's notify id (mailbox write / rproc_vq_interrupt). */
  readonly notify: (notifyId: number) => void;
  /** Every error the device records (host protocol violations, callback exceptions), as text. */
  readonly onError?: (reason: string) => void;
  readonly onStateChange?: (state: VdevDeviceState) => void;
}

/** The device's protocol over the two queues; S is its per-handshake state. */
export interface VdevDeviceRole<S extends VdevQueues> {
  /** At a handshake, with both queues validated: the device's session (it becomes ready next). */
  open(queues: VdevQueues): S;
  /** One service round on a ready session: the amount of work done. */
  work(s: S): number;
  /** Arm host kicks where needed; true when nothing arrived that no kick will announce. */
  arm(s: S): boolean;
  /** The session is gone (or close() was called without one): forget what belonged to the host. */
  dropped(cause: VdevDropCause): void;
  /** A queue of `s` stopped on a host protocol violation (already counted and reported). */
  queueStopped?(s: S, ring: VdevRing): void;
  /** service()'s backstop caught `why` while a session existed (both queues are stopped). */
  failed?(why: string): void;
}

export interface VdevDeviceSessionOptions<S extends VdevQueues> {
  /** For messages; also the prefix of every report. */
  readonly name: string;
  /** Operation named in errors thrown at construction. */
  readonly op: string;
  /** The firmware's options: table, translators, doorbell and hooks. */
  readonly device: VdevDeviceOptions;
  /** Find the device's vdev entry in the table (throws RprocError when there is none). */
  readonly locate: (table: Uint8Array) => VdevLocation;
  /** Names the range check of the entry gives (a location from another table). */
  readonly entryName: string;
  /** Features the device implements (u32 mask). */
  readonly supported: number;
  /** Names of vring0 and vring1 in messages. */
  readonly labels: readonly [string, string];
  /** The memory the device sees, for messages: "the remote's memory". */
  readonly memoryName: string;
  readonly stats: VdevSessionCounters;
  /**
   * true: service() does nothing while a batch() runs (a call from a hook inside one returns 0);
   * false: it runs. The console device blocks; the rpmsg device does not.
   */
  readonly exclusiveBatches: boolean;
  readonly role: VdevDeviceRole<S>;
}

/**
 * One vdev's device side, poll-driven: service() after every doorbell (and once at start) notices
 * DRIVER_OK or a reset, runs the role's rounds and kicks; batch() runs role work from outside
 * service() (a write or send from application code). Constructing it throws RprocError when the
 * table cannot be mapped or holds no usable entry; nothing after that throws.
 */
export class VdevDeviceSession<S extends VdevQueues> {
  readonly diag: DeviceDiagnostics;
  readonly table: Uint8Array;
  readonly location: VdevLocation;
  readonly live: LiveVdevFields;

  private readonly options: VdevDeviceSessionOptions<S>;
  private readonly device: VdevDeviceOptions;
  private readonly role: VdevDeviceRole<S>;
  private readonly stats: VdevSessionCounters;
  private readonly translateDa: (da: number, len: number) => Uint8Array | undefined;
  private readonly translateBus: (addr: bigint, len: number) => Uint8Array | undefined;
  private stateValue: VdevDeviceState = 'wait-driver-ok';
  private current: S | undefined;
  private servicing = false;
  /** Inside batch(): kicks wait for the end of the batch. */
  private batching = false;

  constructor(options: VdevDeviceSessionOptions<S>) {
    this.options = options;
    this.device = options.device;
    this.role = options.role;
    this.stats = options.stats;
    this.diag = new DeviceDiagnostics(options.name, options.stats, this.device.onError);
    // Translators are user code: wrapped so that an exception or a wrong-sized view means "unmapped".
    const translate = this.device.translate;
    const bus = this.device.translateBus ?? translate;
    this.translateDa = (da, len) => this.diag.safeTranslate(translate, da, len);
    this.translateBus = (addr, len) => this.diag.safeTranslate(bus, addr, len);
    this.table = this.resolveTable(this.device.table);
    this.location = options.locate(this.table);
    this.live = new LiveVdevFields(this.table, this.location, options.op, options.entryName);
  }

  private resolveTable(table: VdevDeviceOptions['table']): Uint8Array {
    if (table instanceof Uint8Array) return table;
    const { da, size } = table;
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RprocError(
        'EINVAL',
        this.options.op,
        `resource table size ${String(size)} is not a positive integer`,
      );
    }
    const view = this.diag.safeTranslate(this.device.translate, da, size);
    if (view?.length !== size) {
      throw new RprocError(
        'EFAULT',
        this.options.op,
        `resource table at da ${hex(da)} (${hex(size)} bytes) is outside ${this.options.memoryName} map`,
      );
    }
    return view;
  }

  get state(): VdevDeviceState {
    return this.stateValue;
  }

  /** The device's session while ready. */
  get session(): S | undefined {
    return this.current;
  }

  /** Negotiated features while ready, else 0. */
  get features(): number {
    return this.current?.features ?? 0;
  }

  /** Notify ids of vring0 and vring1: validated while ready, else as the table holds them now. */
  notifyIds(): readonly [number, number] {
    const s = this.current;
    if (s !== undefined) return [s.rings[0].notifyId, s.rings[1].notifyId];
    // Host-written and unvalidated here: only reported (for doorbell routing), never used to index.
    return [this.live.vring(0).notifyId, this.live.vring(1).notifyId];
  }

  /**
   * DRIVER_OK set and FAILED clear in the live status byte. The byte is host-written and may hold
   * anything; only these two bits are looked at (OpenAMP tests DRIVER_OK alone; FAILED means the
   * host's driver gave up, so the queues are not to be used).
   */
  hostUp(): boolean {
    const status = this.live.status();
    return (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (status & VIRTIO_CONFIG_S_FAILED) === 0;
  }

  /** Do all pending work; returns the amount done (0 = idle). Never throws. */
  service(): number {
    if (this.servicing || (this.options.exclusiveBatches && this.batching)) return 0;
    if (this.stateValue === 'closed') return 0;
    this.servicing = true;
    try {
      return this.serviceOnce();
    } catch (e) {
      this.internalError(e);
      return 1;
    } finally {
      this.servicing = false;
      const s = this.current;
      if (s !== undefined) {
        try {
          this.flushKicks(s);
        } catch (e) {
          this.internalError(e);
        }
      }
    }
  }

  /**
   * Run `fn` on the ready session from outside service() (application calls), then kick. Does
   * nothing inside service() or another batch (they take care of it), or when the host is not up.
   */
  batch(fn: (s: S) => void): void {
    const s = this.current;
    if (s === undefined || this.servicing || this.batching || !this.hostUp()) return;
    this.batching = true;
    try {
      fn(s);
    } catch (e) {
      this.internalError(e);
    } finally {
      this.batching = false;
      if (this.current === s) this.flushKicks(s);
    }
  }

  /** Kick for what was pushed, unless inside service() or batch() (which kick once at the end). */
  kickOutside(s: S): void {
    if (!this.servicing && !this.batching) this.flushKicks(s);
  }

  /** Start over as if the host had reset the device (the next service() handshakes again). */
  restart(): void {
    if (this.stateValue === 'closed') return;
    if (this.current !== undefined) this.reset('restart');
    else this.setState('wait-driver-ok');
  }

  /** Stop for good: the session is forgotten (nothing is written to the rings). */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.current = undefined;
    this.role.dropped('close');
    this.setState('closed');
  }

  /** Record a queue's violation once (the VirtqueueDevice keeps it): stopped until a reset. */
  checkRing(s: S, ring: VdevRing): void {
    if (ring.broken !== undefined || ring.vq.broken === undefined) return;
    ring.broken = ring.vq.broken;
    this.stats.queueErrors++;
    this.diag.report(`${ring.broken.detail}; ${ring.label} stopped until the host resets the device`);
    this.role.queueStopped?.(s, ring);
  }

  /** A bug caught by a backstop: both queues stop until the host resets the device. */
  internalError(e: unknown): void {
    this.stats.internalErrors++;
    const why = `internal error: ${errorText(e)}`;
    const s = this.current;
    if (s !== undefined) {
      const broken = new RprocError('EIO', 'vdev-device', why, { cause: e });
      s.rings[0].broken ??= broken;
      s.rings[1].broken ??= broken;
      this.role.failed?.(why);
    }
    this.diag.report(why);
  }

  flushKicks(s: S): void {
    this.kickRing(s.rings[0]);
    this.kickRing(s.rings[1]);
  }

  // ---------------------------------------------------------------------------------------------

  private serviceOnce(): number {
    let work = 0;
    const up = this.hostUp();
    if (this.current !== undefined && !up) {
      this.reset('host-reset');
      work++;
    } else if (this.stateValue === 'invalid' && !up) {
      this.setState('wait-driver-ok');
      work++;
    }
    if (this.stateValue === 'wait-driver-ok' && up) {
      this.handshake();
      work++;
    }
    const s = this.current;
    if (s === undefined) return work;
    // A few rounds: arming notifications may reveal buffers that arrived meanwhile, which no kick
    // will announce. Anything still pending after the last round makes the return value non-zero.
    for (let round = 0; round < 4; round++) {
      work += this.role.work(s);
      this.flushKicks(s);
      if (this.current !== s) break; // closed or reset from a callback
      if (this.role.arm(s)) break;
      if (round === 3) work++;
    }
    return work;
  }

  private setState(state: VdevDeviceState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    const hook = this.device.onStateChange;
    if (hook !== undefined) this.diag.userHook(() => hook(state), 'onStateChange');
  }

  private handshake(): void {
    const built = mapVdevRings({
      live: this.live,
      location: this.location,
      table: this.table,
      name: this.options.name,
      labels: this.options.labels,
      memoryName: this.options.memoryName,
      supported: this.options.supported,
      translate: this.translateDa,
      translateBus: this.translateBus,
    });
    if (typeof built === 'string') {
      this.stats.configErrors++;
      this.diag.report(`DRIVER_OK seen but the host's vring setup is invalid: ${built}; waiting for a reset`);
      this.setState('invalid');
      return;
    }
    const s = this.role.open(built);
    this.current = s;
    this.stats.handshakes++;
    this.setState('ready');
  }

  /** The session ends: forget everything that belonged to the host, wait for the next handshake. */
  private reset(cause: VdevDropCause): void {
    this.stats.resets++;
    this.current = undefined;
    this.role.dropped(cause);
    this.setState('wait-driver-ok');
  }

  private kickRing(ring: VdevRing): void {
    if (!ring.dirty) return;
    ring.dirty = false;
    // kickPrepare publishes used.idx, then reads the host's avail.flags / used_event: any value
    // there only decides whether we notify.
    if (!ring.vq.kickPrepare()) {
      this.stats.kicksSuppressed++;
      return;
    }
    this.stats.kicks++;
    try {
      this.device.notify(ring.notifyId);
    } catch (e) {
      this.stats.callbackErrors++;
      this.diag.report(`notify(${ring.notifyId}) threw: ${errorText(e)}`);
    }
  }
}
