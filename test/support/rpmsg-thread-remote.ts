// Worker body of the thread loopback: a remote core running the rpmsg device-role library over the
// shared RAM and DMA pool, with echo services (and sinks, which only count). It services the device until idle, then sleeps on
// the host → core doorbell word (Atomics.wait with a short timeout), and rings the host by setting
// the notify id's bit and bumping the core → host sequence. Test-only.

import { parentPort, workerData } from 'node:worker_threads';
import { RpmsgVirtioDevice } from '../../src/rpmsg/remote/rpmsg-virtio-device.ts';
import { BELL, type ThreadRemoteData, type ThreadRemoteResult } from './thread-protocol.ts';

const data = workerData as ThreadRemoteData;
const bells = new Int32Array(data.bells);
const ram = new Uint8Array(data.ram);
const pool = new Uint8Array(data.pool);

function window(mem: Uint8Array, base: number, addr: bigint, len: number): Uint8Array | undefined {
  const off = addr - BigInt(base);
  if (off < 0n || off + BigInt(len) > BigInt(mem.length)) return undefined;
  return mem.subarray(Number(off), Number(off) + len);
}

const errors: string[] = [];
let echoed = 0;
const device = new RpmsgVirtioDevice({
  table: { da: data.tableDa, size: data.tableSize },
  translate: (addr, len) =>
    Number.isSafeInteger(len) && len >= 0
      ? (window(ram, data.ramBase, BigInt(addr), len) ?? window(pool, data.poolBase, BigInt(addr), len))
      : undefined,
  notify: (id) => {
    if (id >= 0 && id < 31) Atomics.or(bells, BELL.C2H_PENDING, 1 << id);
    Atomics.add(bells, BELL.C2H_SEQ, 1);
    Atomics.notify(bells, BELL.C2H_SEQ);
  },
  onError: (e) => errors.push(e),
});
for (const name of data.services) {
  device.createEndpoint({
    name,
    // A service named rpmsg-sink* only counts what comes (one-way streams); the others echo.
    cb: name.startsWith('rpmsg-sink')
      ? () => {
          echoed++;
        }
      : (payload, src, ept) => {
          echoed++;
          ept.sendTo(src, payload).catch((e: unknown) => errors.push(`echo: ${String(e)}`));
        },
  });
}

while (Atomics.load(bells, BELL.STOP) === 0) {
  const seen = Atomics.load(bells, BELL.H2C_SEQ);
  for (let i = 0; i < 1000 && device.service() > 0; i++);
  // WFI: sleep on the doorbell word. A blocking wait, because a pending Atomics.waitAsync does not
  // keep a worker's event loop alive (the worker would exit); then one turn of the event loop so
  // that the device's send promises settle.
  Atomics.wait(bells, BELL.H2C_SEQ, seen, 10);
  await new Promise<void>((resolve) => setImmediate(resolve));
}
device.close();
const result: ThreadRemoteResult = { echoed, errors };
parentPort?.postMessage(result);
