// Entry point of a core group's worker thread: several remote cores (js and rv32 alike) in one
// thread, so that a SoC with more cores than CPUs does not pay for more threads than CPUs. Rebuilds
// the SoC's memory from workerData, builds each core the host adds, and runs the group loop
// (group-loop.ts) until the host closes the group.

import { parentPort, workerData } from 'node:worker_threads';
import { CoreBlock } from '../core-block.ts';
import { PhysMemory } from '../phys-memory.ts';
import { createMember } from './group-member.ts';
import { GroupLoop } from './group-loop.ts';
import { isGroupControl, type GroupReport, type GroupWorkerData } from './group-messages.ts';
import { RprocError } from '../../util/errors.ts';

const data = workerData as GroupWorkerData;
const memory = PhysMemory.attach(data.memory);
const port = parentPort;
if (port === null) throw new RprocError('EINVAL', 'core-group', 'core-group-worker runs in a worker thread');

const loop = new GroupLoop(
  new CoreBlock(memory.device, data.leaderIndex),
  data.controlSeq,
  (report: GroupReport) => port.postMessage(report),
  (core, post) => createMember(core, memory, post),
);
port.on('message', (msg: unknown) => {
  if (isGroupControl(msg)) loop.control(msg);
});

await loop.run();
// Closed by the host: let the thread end once the last reports are out.
port.removeAllListeners('message');
port.unref();
