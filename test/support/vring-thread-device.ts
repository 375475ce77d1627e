// Worker body for vring-thread.test.ts: a device (remote) on two rings in a SharedArrayBuffer.
// It takes host→device messages from the TX ring (checking each payload), and for each one writes
// a reply into a buffer from the RX ring. Doorbells are Int32 counters with Atomics.wait/notify.

import { parentPort, workerData } from 'node:worker_threads';
import { VirtqueueDevice } from '../../src/virtio/vring-device.ts';
import { POOL_BASE, poolTranslator } from './vring-fixtures.ts';

interface ThreadData {
  readonly txRing: SharedArrayBuffer;
  readonly rxRing: SharedArrayBuffer;
  readonly pool: SharedArrayBuffer;
  readonly bells: SharedArrayBuffer;
  readonly num: number;
  readonly features: number;
  readonly count: number;
}

const data = workerData as ThreadData;
const bells = new Int32Array(data.bells); // [0] host → device, [1] device → host
const translate = poolTranslator(new Uint8Array(data.pool), POOL_BASE);
const notifyHost = (): void => {
  Atomics.add(bells, 1, 1);
  Atomics.notify(bells, 1);
};
const common = { num: data.num, align: 16, features: data.features, translate, notify: notifyHost };
const tx = new VirtqueueDevice({ ...common, memory: new Uint8Array(data.txRing), name: 'tx' });
const rx = new VirtqueueDevice({ ...common, memory: new Uint8Array(data.rxRing), name: 'rx' });

let handled = 0;
let bad = 0;
while (handled < data.count && tx.broken === undefined && rx.broken === undefined) {
  const seen = Atomics.load(bells, 0);
  let progress = false;
  for (;;) {
    if (rx.availCount() === 0) break; // need a reply buffer first
    const msg = tx.getAvail();
    if (msg === undefined) break;
    const reply = rx.getAvail();
    if (reply === undefined) break;
    const inView = msg.buffers[0]?.view;
    const outView = reply.buffers[0]?.view;
    if (inView === undefined || outView === undefined) break;
    const b0 = inView[0] ?? 0;
    const b1 = inView[1] ?? 0;
    const b2 = inView[2] ?? 0;
    const seq = b0 | (b1 << 8) | (b2 << 16);
    // every payload byte is a function of the sequence number: a stale or torn read shows
    for (let i = 3; i < inView.length; i++) if (inView[i] !== ((seq + i) & 0xff)) bad++;
    if (seq !== handled) bad++;
    outView[0] = b0;
    outView[1] = b1;
    outView[2] = b2;
    outView[3] = 0x5a;
    tx.pushUsed(msg.head, 0);
    rx.pushUsed(reply.head, 4);
    handled++;
    progress = true;
  }
  if (progress) {
    tx.kick();
    rx.kick();
  } else if (tx.enableNotify() && rx.enableNotify()) {
    Atomics.wait(bells, 0, seen, 5);
  }
}
tx.kick();
rx.kick();
parentPort?.postMessage({ handled, bad, error: tx.broken?.message ?? rx.broken?.message ?? null });
