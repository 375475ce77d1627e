// Entry point of a js core's worker thread: rebuild the SoC's memory and the core's view from
// workerData, run the js core until the host halts it, and report through postMessage.

import { parentPort, workerData } from 'node:worker_threads';
import { AddressMap } from '../../soc/address-map.ts';
import { CoreBlock } from '../../soc/core-block.ts';
import type { CoreMessage, CoreWorkerData } from '../../soc/core-messages.ts';
import { PhysMemory } from '../../soc/phys-memory.ts';
import { JsCoreRuntime } from './js-core-runtime.ts';

const data = workerData as CoreWorkerData;
const memory = PhysMemory.attach(data.memory);
const post = (msg: CoreMessage): void => parentPort?.postMessage(msg);

const runtime = new JsCoreRuntime({
  coreName: data.coreName,
  memory,
  map: new AddressMap(data.addressMap),
  block: new CoreBlock(memory.device, data.coreIndex),
  bootAddr: data.bootAddr,
  post,
});

await runtime.run();
