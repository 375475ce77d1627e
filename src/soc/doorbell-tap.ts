// An optional tap on a core's doorbells, both ways: the host's kicks to the core (the platform's
// kick op) and the core's notifications to the host (mailbox interrupts that become
// rproc_vq_interrupt calls). A tracer records them; a fault injector drops or delays them, to show
// how firmware copes with a host whose notifications go astray. Off by default: one undefined check.

import type { SocCore } from './soc-core.ts';

export interface DoorbellTap {
  /** The host kicks `core` for `notifyId`: call ring() to deliver the kick (now, later or never). */
  hostKick(core: SocCore, notifyId: number, ring: () => void): void;
  /** `core` rang the host for `notifyId`: call deliver() to run the host's handler (now, later or never). */
  remoteKick(core: SocCore, notifyId: number, deliver: () => void): void;
}
