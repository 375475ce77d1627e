// The worker half of bench/bare-threads.ts: the raw cross-thread limits, without any of our code.
// Commands arrive by postMessage and each answers 'done' when finished:
//   { cmd: 'pong', spin, n, base }  answer n pings on word 0 (value base+2k+1 → base+2k+2); spin
//                                   polls before each Atomics.wait (0 = pure sleep/wake)
//   { cmd: 'ring', n }              consume n messages from the SPSC ring (EVENT_IDX-style doorbell)
// Plain JavaScript (no tsx in workers on Node 20, DESIGN.md); the layout constants are repeated in
// bare-threads.ts.

import { parentPort, workerData } from 'node:worker_threads';

const { sab } = workerData;
const ia = new Int32Array(sab);

// Ring layout: producer-written words HEAD and
// PROD_EVENT, consumer-written TAIL and CONS_EVENT 128 bytes apart, a length word per slot on its
// own 64-byte line, then the slots.
const SLOTS = 256;
const SLOT = 512;
const DATA_OFF = 32768;
const HEAD = 16;
const PROD_EVENT = 17;
const TAIL = 48;
const CONS_EVENT = 49;
const LEN0 = 128;
const LSTRIDE = 16;

function pong(spin, n, base) {
  for (let k = 0; k < n; k++) {
    const cur = base + 2 * k;
    const want = cur + 1;
    let s = 0;
    while (Atomics.load(ia, 0) !== want) {
      if (++s > spin) Atomics.wait(ia, 0, cur);
    }
    Atomics.store(ia, 0, want + 1);
    Atomics.notify(ia, 0);
  }
}

function ring(n) {
  const mem = new Uint8Array(sab);
  const local = new Uint8Array(SLOT);
  let tail = 0;
  let check = 0;
  while (tail < n) {
    let head = Atomics.load(ia, HEAD);
    if (head === tail) {
      Atomics.store(ia, CONS_EVENT, tail);
      head = Atomics.load(ia, HEAD);
      if (head === tail) {
        Atomics.wait(ia, HEAD, tail);
        head = Atomics.load(ia, HEAD);
      }
      if (head === tail) continue;
    }
    while (tail !== head) {
      const slot = tail & (SLOTS - 1);
      const len = ia[LEN0 + slot * LSTRIDE];
      const off = DATA_OFF + slot * SLOT;
      local.set(mem.subarray(off, off + len));
      check += local[len - 1];
      tail++;
      Atomics.store(ia, TAIL, tail);
      if (Atomics.load(ia, PROD_EVENT) === tail - 1) Atomics.notify(ia, TAIL);
    }
  }
  return check;
}

parentPort.on('message', (msg) => {
  if (msg.cmd === 'pong') pong(msg.spin, msg.n, msg.base);
  else if (msg.cmd === 'ring') ring(msg.n);
  parentPort.postMessage('done');
});
