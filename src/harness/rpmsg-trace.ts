// Records a virtual SoC's rpmsg traffic as Chrome / Perfetto trace events (--trace-rpmsg): one
// process per core with a track for its state, one for its doorbells and one per endpoint on
// either side; each message is a slice on the sender's endpoint track and one on the receiver's,
// joined by a flow arrow, with source and destination addresses and size; name-service
// announcements, endpoint creation, kicks both ways (and what fault injection did to them), the
// buffers each vring holds as counters, state changes, crashes and recoveries. Bounded: the newest
// `capacity` events are kept (util/trace-event.ts); about 150 bytes of JSON per event.
// Times are the run's clock in µs: virtual in deterministic mode.

import { writeFileSync } from 'node:fs';
import type { VirtioRpmsgBus } from '../rpmsg/host/virtio-rpmsg-bus.ts';
import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RpmsgHostEvents } from '../rpmsg/host/rpmsg-host.ts';
import type { RprocEvents } from '../remoteproc/rproc.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import { hex } from '../util/errors.ts';
import { TraceEventRing, type TraceFile, type TimedTraceEvent } from '../util/trace-event.ts';
import type { RunClock } from './run-clock.ts';
import { Subscriptions } from './subscriptions.ts';

const STATE_TID = 1;
const DOORBELL_TID = 2;
const FIRST_EPT_TID = 10;
/** How long a message's slice lasts on each side, µs: long enough to see, short enough not to overlap the next. */
const MESSAGE_US = 0.5;
const CAT = 'rpmsg';

export type KickFate =
  | { readonly fate: 'delivered' }
  | { readonly fate: 'lost' }
  | { readonly fate: 'delayed'; readonly ms: number };

interface CoreTracks {
  readonly pid: number;
  readonly name: string;
  /** `host:virtio0:0x400` or `remote:virtio0:0x1e` → tid. */
  readonly tids: Map<string, number>;
  nextTid: number;
  state: string;
  since: number;
}

export interface RpmsgTraceOptions {
  /** Most events kept (the newest); default util/trace-event.ts DEFAULT_TRACE_CAPACITY. */
  readonly capacity?: number;
}

export class RpmsgTraceRecorder {
  private readonly soc: VirtualSoc;
  private readonly clock: RunClock;
  private readonly ring: TraceEventRing;
  private readonly cores = new Map<string, CoreTracks>();
  private nextFlow = 1;
  private readonly subs = new Subscriptions();

  constructor(soc: VirtualSoc, clock: RunClock, options: RpmsgTraceOptions = {}) {
    this.soc = soc;
    this.clock = clock;
    this.ring = new TraceEventRing(options.capacity);
    soc.cores.forEach((c, i) => {
      const pid = i + 1;
      const tracks: CoreTracks = {
        pid,
        name: c.name,
        tids: new Map(),
        nextTid: FIRST_EPT_TID,
        state: c.rproc.state,
        since: this.now(),
      };
      this.cores.set(c.name, tracks);
      this.ring.name(pid, undefined, `${c.name} (${c.spec.kind} core)`);
      this.ring.sortIndex(pid, undefined, i);
      this.ring.name(pid, STATE_TID, 'state');
      this.ring.sortIndex(pid, STATE_TID, STATE_TID);
      this.ring.name(pid, DOORBELL_TID, 'doorbells');
      this.ring.sortIndex(pid, DOORBELL_TID, DOORBELL_TID);
      const r = c.rproc;
      this.subs.on<RprocEvents, 'state'>(r, 'state', ({ to }) => this.state(tracks, to));
      this.subs.on<RprocEvents, 'crash'>(r, 'crash', ({ typeName, count, detail }) =>
        this.instant(tracks.pid, STATE_TID, `crash #${count}: ${typeName}`, {
          ...(detail === undefined ? {} : { detail: detail.message }),
        }),
      );
      this.subs.on<RprocEvents, 'recovery'>(r, 'recovery', ({ phase }) =>
        this.instant(tracks.pid, STATE_TID, `recovery ${phase}`, {}),
      );
    });
    this.subs.on<RpmsgHostEvents, 'channel'>(soc.rpmsg, 'channel', (e) =>
      this.nameService(e.action, e.channel, e.device),
    );
  }

  /** Events overwritten because the ring was full. */
  get dropped(): number {
    return this.ring.dropped;
  }

  // ---- what the taps report ------------------------------------------------------------------

  message(device: VirtioRpmsgBus, dir: 'tx' | 'rx', src: number, dst: number, len: number): void {
    const tracks = this.tracksOf(device);
    if (tracks === undefined) return;
    const ts = this.now();
    const dev = device.deviceName;
    const [fromSide, toSide] = dir === 'tx' ? (['host', 'remote'] as const) : (['remote', 'host'] as const);
    const from = this.tid(tracks, fromSide, dev, src);
    const to = this.tid(tracks, toSide, dev, dst);
    const args = { src: hex(src), dst: hex(dst), len, device: dev };
    const id = this.nextFlow++;
    const pid = tracks.pid;
    // Each flow end goes in before the slice that encloses it: when the ring drops old events, a
    // kept flow end then always keeps its slice (trace-event.ts).
    this.push({ ph: 's', name: 'message', cat: CAT, id, ts, pid, tid: from });
    this.push({
      ph: 'X',
      name: `send ${len} B → ${hex(dst)}`,
      cat: CAT,
      ts,
      dur: MESSAGE_US,
      pid,
      tid: from,
      args,
    });
    this.push({ ph: 'f', name: 'message', cat: CAT, id, bp: 'e', ts, pid, tid: to });
    this.push({
      ph: 'X',
      name: `recv ${len} B ← ${hex(src)}`,
      cat: CAT,
      ts,
      dur: MESSAGE_US,
      pid,
      tid: to,
      args,
    });
    this.rings(tracks, device, ts);
  }

  endpoint(
    device: VirtioRpmsgBus,
    addr: number,
    action: 'create' | 'destroy',
    channel: RpmsgChannel | undefined,
  ): void {
    const tracks = this.tracksOf(device);
    if (tracks === undefined) return;
    const tid = this.tid(tracks, 'host', device.deviceName, addr, channel?.name);
    this.instant(tracks.pid, tid, `${action} endpoint ${hex(addr)}`, {
      ...(channel === undefined ? {} : { channel: channel.name }),
    });
  }

  kick(core: SocCore, toward: 'remote' | 'host', notifyId: number, fate: KickFate): void {
    const tracks = this.cores.get(core.name);
    if (tracks === undefined) return;
    const ts = this.now();
    const what =
      toward === 'remote' ? `kick vq${notifyId} → ${core.name}` : `notify vq${notifyId} ← ${core.name}`;
    const suffix =
      fate.fate === 'lost' ? ' (lost)' : fate.fate === 'delayed' ? ` (delayed ${fate.ms} ms)` : '';
    this.instant(tracks.pid, DOORBELL_TID, what + suffix, {
      notifyId,
      fate: fate.fate,
      ...(fate.fate === 'delayed' ? { delayMs: fate.ms } : {}),
    });
    for (const d of this.soc.rpmsg.buses)
      if (d.vdev.parentName === core.name && !d.removed) this.rings(tracks, d, ts);
  }

  /** Something fault injection did to `core`, on its state track. */
  fault(core: string, what: string, args: Readonly<Record<string, unknown>> = {}): void {
    const tracks = this.cores.get(core);
    if (tracks !== undefined) this.instant(tracks.pid, STATE_TID, `fault: ${what}`, args);
  }

  // ---- output --------------------------------------------------------------------------------

  /** The trace so far, every core's current state shown up to now. */
  file(): TraceFile {
    const now = this.now();
    const ring = this.ring;
    const open = [...this.cores.values()].map((t) => this.stateSlice(t, now));
    const base = ring.toFile({ clock: this.clock.virtual ? 'virtual' : 'host', source: 'remoteproc-ts' });
    return { ...base, traceEvents: [...base.traceEvents, ...open] };
  }

  write(path: string): void {
    writeFileSync(path, JSON.stringify(this.file()) + '\n');
  }

  /** Stop listening to the SoC's events. */
  detach(): void {
    this.subs.dispose();
  }

  // ---- tracks --------------------------------------------------------------------------------

  private now(): number {
    return this.clock.now() * 1000;
  }

  private push(e: TimedTraceEvent): void {
    this.ring.push(e);
  }

  private instant(pid: number, tid: number, name: string, args: Readonly<Record<string, unknown>>): void {
    this.push({ ph: 'i', s: 't', name, cat: CAT, ts: this.now(), pid, tid, args });
  }

  private state(tracks: CoreTracks, to: string): void {
    const now = this.now();
    this.push(this.stateSlice(tracks, now));
    tracks.state = to;
    tracks.since = now;
  }

  private stateSlice(tracks: CoreTracks, now: number): TimedTraceEvent {
    return {
      ph: 'X',
      name: tracks.state,
      cat: 'state',
      ts: tracks.since,
      dur: Math.max(0, now - tracks.since),
      pid: tracks.pid,
      tid: STATE_TID,
    };
  }

  private nameService(action: 'add' | 'remove', channel: RpmsgChannel, device: VirtioRpmsgBus): void {
    const tracks = this.tracksOf(device);
    if (tracks === undefined) return;
    const tid = this.tid(tracks, 'remote', device.deviceName, channel.dst, channel.name);
    this.instant(
      tracks.pid,
      tid,
      `ns ${action === 'add' ? 'announce' : 'destroy'} "${channel.name}" at ${hex(channel.dst)}`,
      {
        channel: channel.name,
        addr: hex(channel.dst),
        device: device.deviceName,
      },
    );
  }

  private tracksOf(device: VirtioRpmsgBus): CoreTracks | undefined {
    return this.cores.get(device.vdev.parentName);
  }

  /** The track of an endpoint, made and named on first sight (renamed when a channel name is learnt). */
  private tid(
    tracks: CoreTracks,
    side: 'host' | 'remote',
    dev: string,
    addr: number,
    channel?: string,
  ): number {
    const key = `${side}:${dev}:${addr}`;
    let tid = tracks.tids.get(key);
    if (tid === undefined) {
      tid = tracks.nextTid++;
      tracks.tids.set(key, tid);
      this.ring.sortIndex(tracks.pid, tid, tid);
      this.ring.name(tracks.pid, tid, `${side} ept ${hex(addr)} (${dev})`);
    }
    if (channel !== undefined)
      this.ring.name(tracks.pid, tid, `${side} ept ${hex(addr)} ${channel} (${dev})`);
    return tid;
  }

  private rings(tracks: CoreTracks, device: VirtioRpmsgBus, ts: number): void {
    if (device.removed) return;
    const use = device.ringUse;
    this.push({
      ph: 'C',
      name: `${device.deviceName} vring0 rx buffers at remote`,
      cat: CAT,
      ts,
      pid: tracks.pid,
      tid: STATE_TID,
      args: { buffers: use.rx },
    });
    this.push({
      ph: 'C',
      name: `${device.deviceName} vring1 tx messages in flight`,
      cat: CAT,
      ts,
      pid: tracks.pid,
      tid: STATE_TID,
      args: { messages: use.tx },
    });
  }
}
