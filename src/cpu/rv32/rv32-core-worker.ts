// Entry point of an rv32 core's worker thread: rebuild the SoC's memory and the core's view from
// workerData, run the hart until the host halts the core, and report through postMessage.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { AddressMap } from '../../soc/address-map.ts';
import { CoreBlock } from '../../soc/core-block.ts';
import type { CoreMessage, CoreWorkerData } from '../../soc/core-messages.ts';
import { PhysMemory } from '../../soc/phys-memory.ts';
import { Rv32CoreRuntime } from './rv32-core-runtime.ts';

const data = workerData as CoreWorkerData;
const memory = PhysMemory.attach(data.memory);
const post = (msg: CoreMessage): void => parentPort?.postMessage(msg);
const engine = data.options['engine'] === 'interpreter' ? 'interpreter' : 'jit';

new Rv32CoreRuntime({
  coreName: data.coreName,
  memory,
  map: new AddressMap(data.addressMap),
  block: new CoreBlock(memory.device, data.coreIndex),
  bootAddr: data.bootAddr,
  engine,
  ...(data.debug === undefined ? {} : { debug: data.debug }),
  // The core's loop never yields to the event loop: debug requests are taken synchronously.
  debugInbox: (): unknown =>
    parentPort === null ? undefined : (receiveMessageOnPort(parentPort)?.message as unknown),
  post,
}).run();
