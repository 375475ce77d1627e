// Entry point of a lone core's worker thread, for a core of any kind: rebuild the SoC's memory and
// the core's view from workerData, load the core's engine (core-kind.ts) and run it until the host
// halts the core; what the core reports goes back through postMessage.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { coreContextOf, loadCoreEngine } from './core-kind.ts';
import type { CoreMessage, CoreWorkerData } from './core-messages.ts';
import { PhysMemory } from './phys-memory.ts';

const data = workerData as CoreWorkerData;
const memory = PhysMemory.attach(data.memory);
const post = (msg: CoreMessage): void => parentPort?.postMessage(msg);

const engine = await loadCoreEngine(data.engineModule);
// The core's loop may never yield to the event loop: its debug requests are taken synchronously.
const debugInbox = (): unknown =>
  parentPort === null ? undefined : (receiveMessageOnPort(parentPort)?.message as unknown);
await engine.run({ ...coreContextOf(data, memory, post), debugInbox });
