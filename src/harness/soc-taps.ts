// One hub on a virtual SoC's taps (its cores' doorbells, its rpmsg host's traffic) that the rpmsg
// trace recorder and fault injectors plug into. It is installed only while something is plugged in,
// so a run without tracing or faults leaves the taps unset (zero cost). A kick goes through, is
// lost or is delayed as the first client with an opinion says; the recorder notes which.

import type { RpmsgChannel } from '../rpmsg/host/rpmsg-channel.ts';
import type { RpmsgTap } from '../rpmsg/host/rpmsg-tap.ts';
import type { VirtioRpmsgBus } from '../rpmsg/host/virtio-rpmsg-bus.ts';
import type { DoorbellTap } from '../soc/doorbell-tap.ts';
import type { SocCore } from '../soc/soc-core.ts';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import type { RunClock } from './run-clock.ts';
import type { KickFate, RpmsgTraceRecorder } from './rpmsg-trace.ts';

export type KickVerdict =
  | { readonly action: 'pass' }
  | { readonly action: 'drop' }
  | { readonly action: 'delay'; readonly ms: number };

/** A fault injector or counter plugged into the hub; every method is optional. */
export interface TapClient {
  /** The host kicks `core`: undefined lets the next client (or delivery) decide. */
  hostKick?(core: SocCore, notifyId: number): KickVerdict | undefined;
  /** `core` notifies the host. */
  remoteKick?(core: SocCore, notifyId: number): KickVerdict | undefined;
  /** A message each way (after the host validated it). */
  message?(device: VirtioRpmsgBus, dir: 'tx' | 'rx', src: number, dst: number, len: number): void;
  /** True: the host finds no free TX buffer on `device` now. */
  txStarved?(device: VirtioRpmsgBus): boolean;
}

const PASS: KickVerdict = { action: 'pass' };

export class SocTaps implements DoorbellTap, RpmsgTap {
  private readonly soc: VirtualSoc;
  private readonly clock: RunClock;
  private readonly clients = new Set<TapClient>();
  private recorderValue: RpmsgTraceRecorder | undefined;
  private installed = false;
  private closed = false;

  constructor(soc: VirtualSoc, clock: RunClock) {
    this.soc = soc;
    this.clock = clock;
  }

  get recorder(): RpmsgTraceRecorder | undefined {
    return this.recorderValue;
  }

  set recorder(recorder: RpmsgTraceRecorder | undefined) {
    this.recorderValue = recorder;
    this.refresh();
  }

  /** Plug a client in; the returned function takes it out again. */
  add(client: TapClient): () => void {
    this.clients.add(client);
    this.refresh();
    return () => {
      this.clients.delete(client);
      this.refresh();
    };
  }

  /** Unplug everything; delayed kicks still pending are dropped. */
  close(): void {
    this.closed = true;
    this.clients.clear();
    this.recorderValue = undefined;
    this.refresh();
  }

  // ---- DoorbellTap -----------------------------------------------------------------------------

  hostKick(core: SocCore, notifyId: number, ring: () => void): void {
    const verdict = this.verdict((c) => c.hostKick?.(core, notifyId));
    this.recorderValue?.kick(core, 'remote', notifyId, fateOf(verdict));
    this.apply(verdict, ring);
  }

  remoteKick(core: SocCore, notifyId: number, deliver: () => void): void {
    const verdict = this.verdict((c) => c.remoteKick?.(core, notifyId));
    this.recorderValue?.kick(core, 'host', notifyId, fateOf(verdict));
    this.apply(verdict, deliver);
  }

  // ---- RpmsgTap --------------------------------------------------------------------------------

  tx(device: VirtioRpmsgBus, src: number, dst: number, len: number): void {
    this.recorderValue?.message(device, 'tx', src, dst, len);
    for (const c of this.clients) c.message?.(device, 'tx', src, dst, len);
  }

  rx(device: VirtioRpmsgBus, src: number, dst: number, len: number): void {
    this.recorderValue?.message(device, 'rx', src, dst, len);
    for (const c of this.clients) c.message?.(device, 'rx', src, dst, len);
  }

  endpoint(
    device: VirtioRpmsgBus,
    addr: number,
    action: 'create' | 'destroy',
    channel: RpmsgChannel | undefined,
  ): void {
    this.recorderValue?.endpoint(device, addr, action, channel);
  }

  txStarved(device: VirtioRpmsgBus): boolean {
    for (const c of this.clients) if (c.txStarved?.(device) === true) return true;
    return false;
  }

  // ---- internals -------------------------------------------------------------------------------

  private verdict(ask: (c: TapClient) => KickVerdict | undefined): KickVerdict {
    for (const c of this.clients) {
      const v = ask(c);
      if (v !== undefined && v.action !== 'pass') return v;
    }
    return PASS;
  }

  private apply(verdict: KickVerdict, go: () => void): void {
    if (verdict.action === 'pass') go();
    else if (verdict.action === 'delay')
      void this.clock.sleep(verdict.ms).then(() => {
        // A kick delayed past the end of the run goes nowhere: the cores are gone.
        if (!this.closed) go();
      });
  }

  private refresh(): void {
    const want = !this.closed && (this.recorderValue !== undefined || this.clients.size > 0);
    if (want === this.installed) return;
    this.installed = want;
    for (const core of this.soc.cores) core.doorbellTap = want ? this : undefined;
    this.soc.rpmsg.tap = want ? this : undefined;
  }
}

function fateOf(v: KickVerdict): KickFate {
  return v.action === 'pass'
    ? { fate: 'delivered' }
    : v.action === 'drop'
      ? { fate: 'lost' }
      : { fate: 'delayed', ms: v.ms };
}
