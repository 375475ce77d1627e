// The host side of a core group: several remote cores of one SoC sharing one worker thread
// (core-group-worker.ts), so that a board with more cores than CPUs does not pay a futex wake-up
// across oversubscribed threads for every message. The thread starts with the group's first core
// and ends after its last; each core joins with the data a lone core's worker gets and leaves
// through its RUN word, and what it reports goes to its own events, as from a worker of its own.
//
// Waking: every core of the group is rung on the group leader's WAKE word (wakeBlock), which is
// what the group thread sleeps on; each core keeps its own mailbox and RUN words.
//
// One thread, one fate: a core stuck in a loop that never yields stalls its whole group, and when
// it does not halt within HALT_GRACE_MS the thread is terminated — the other cores of the group
// then report a crash ("core thread died"), like cores whose own thread died, and recover as such.

import type { Worker } from 'node:worker_threads';
import { RprocError } from '../../util/errors.ts';
import { CORE_WORD, CoreBlock, RUN_STATE } from '../core-block.ts';
import type { CoreWorkerData } from '../core-messages.ts';
import type { PhysMemory } from '../phys-memory.ts';
import {
  HALT_GRACE_MS,
  exitOrTerminate,
  spawnWorker,
  type CoreRunner,
  type WorkerCoreEvents,
} from '../worker-core.ts';
import { groupWorkerScript } from '../worker-script.ts';
import { isGroupReport, type GroupControl, type GroupWorkerData } from './group-messages.ts';

interface Member {
  readonly name: string;
  readonly block: CoreBlock;
  readonly events: WorkerCoreEvents;
  /** The host halts it: what its thread does from now on is no crash. */
  stopping: boolean;
  /** Resolves when the core left the group (halted, ended by itself, or its thread died). */
  readonly gone: Promise<void>;
  readonly leave: () => void;
}

export class CoreGroup {
  /** The leader's words: ringing a core of the group means ringing these. */
  readonly wakeBlock: CoreBlock;
  private readonly memory: PhysMemory;
  private readonly leaderIndex: number;
  /** Cores in the group by board index, from start() until they left. */
  private readonly members = new Map<number, Member>();
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private closing: Promise<void> | undefined;
  /** Seq of the last control message (GROUP_CONTROL). */
  private seq = 0;

  constructor(memory: PhysMemory, leaderIndex: number) {
    this.memory = memory;
    this.leaderIndex = leaderIndex;
    this.wakeBlock = new CoreBlock(memory.device, leaderIndex);
  }

  /** The runner of core `index` (its block and events) in this group. */
  runner(index: number, block: CoreBlock, events: WorkerCoreEvents): CoreRunner {
    const members = this.members;
    return {
      get running() {
        return members.has(index);
      },
      start: (data) => this.start(data, block, events),
      stop: () => this.stop(index),
      debug: (id, req) => {
        const worker = this.worker;
        if (worker === undefined || !members.has(index)) throw new Error('the core is not running');
        this.send(worker, { type: 'debug', seq: this.seq + 1, core: index, id, req });
      },
    };
  }

  private async start(data: CoreWorkerData, block: CoreBlock, events: WorkerCoreEvents): Promise<void> {
    const index = data.coreIndex;
    if (this.members.has(index))
      throw new RprocError('EBUSY', 'core-start', `${data.coreName} is already running`);
    block.store(CORE_WORD.RUN, RUN_STATE.RUNNING);
    block.store(CORE_WORD.EXIT_CODE, 0);
    let leave = (): void => undefined;
    const gone = new Promise<void>((resolve) => (leave = resolve));
    const member: Member = { name: data.coreName, block, events, stopping: false, gone, leave };
    // A member from now on: a group closing meanwhile keeps its thread for it.
    this.members.set(index, member);
    let worker: Worker;
    try {
      worker = await this.thread();
    } catch (e) {
      if (this.members.get(index) === member) this.members.delete(index);
      throw e;
    }
    // The thread died while it started: the core has had its crash report.
    if (this.members.get(index) !== member) return;
    this.send(worker, { type: 'add-core', seq: this.seq + 1, data });
  }

  private async stop(index: number): Promise<void> {
    const member = this.members.get(index);
    if (member === undefined) return;
    member.stopping = true;
    member.block.store(CORE_WORD.RUN, RUN_STATE.HALT_REQUESTED);
    this.wakeBlock.wake();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), HALT_GRACE_MS)),
    );
    const r = await Promise.race([member.gone.then(() => 'gone' as const), grace]);
    clearTimeout(timer);
    if (r === 'timeout') {
      // Stuck in a loop that never yields: the whole thread goes, and its other cores with it.
      await this.kill(`${member.name} did not halt within ${HALT_GRACE_MS} ms`);
    }
    member.block.store(CORE_WORD.RUN, RUN_STATE.HALTED);
    await this.closeIfEmpty();
  }

  /** Post a control message, then tell the thread through GROUP_CONTROL and wake it. */
  private send(worker: Worker, msg: GroupControl): void {
    worker.postMessage(msg);
    this.seq = msg.seq;
    this.wakeBlock.store(CORE_WORD.GROUP_CONTROL, msg.seq);
    this.wakeBlock.wake();
  }

  /** The group's thread, started if need be (after a closing one is gone). */
  private async thread(): Promise<Worker> {
    while (this.closing !== undefined) await this.closing;
    if (this.starting !== undefined) return this.starting;
    if (this.worker !== undefined) return this.worker;
    const starting = this.spawn();
    this.starting = starting;
    try {
      return await starting;
    } finally {
      if (this.starting === starting) this.starting = undefined;
    }
  }

  private async spawn(): Promise<Worker> {
    const data: GroupWorkerData = {
      memory: this.memory.share(),
      leaderIndex: this.leaderIndex,
      controlSeq: this.seq,
    };
    const worker = spawnWorker(groupWorkerScript(), { workerData: data, stdout: false, stderr: false });
    this.worker = worker;
    worker.on('message', (msg: unknown) => this.report(msg));
    worker.on('error', (e: unknown) =>
      this.lost(worker, `core thread died: ${e instanceof Error ? e.message : String(e)}`),
    );
    worker.on('exit', (code) => this.lost(worker, `core thread exited with code ${code}`));
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return worker;
  }

  private report(msg: unknown): void {
    if (!isGroupReport(msg)) return;
    const member = this.members.get(msg.core);
    if (member === undefined) return;
    if (msg.type === 'halted') {
      this.members.delete(msg.core);
      member.leave();
      // Ended by itself (a js core that faulted): its thread would have ended too.
      if (!member.stopping) void this.closeIfEmpty();
      return;
    }
    const m = msg.msg;
    switch (m.type) {
      case 'uart':
        member.events.uart(m.text);
        return;
      case 'fault':
        member.events.fault(m.fault);
        return;
      case 'exit':
        member.events.exit(m.code, m.cause);
        return;
      case 'debug-stop':
        member.events.debugStop(m.stop);
        return;
      case 'debug-reply':
        member.events.debugReply(m.id, m.reply);
        return;
    }
  }

  /** The thread is gone unasked: every core still in it that the host is not halting has crashed. */
  private lost(worker: Worker, message: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const members = [...this.members.values()];
    this.members.clear();
    for (const m of members) {
      m.leave();
      if (!m.stopping) m.events.fault({ kind: 'fatal', message });
    }
  }

  private async kill(reason: string): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.lost(worker, `core thread died: ${reason}; its group thread was terminated`);
    await worker.terminate();
  }

  /** No core left: end the thread (it finishes its loop and exits; terminated after the grace period). */
  private closeIfEmpty(): Promise<void> {
    const worker = this.worker;
    if (this.members.size > 0 || worker === undefined || this.starting !== undefined)
      return this.closing ?? Promise.resolve();
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.send(worker, { type: 'close', seq: this.seq + 1 });
    const closing = exitOrTerminate(worker, exited);
    this.closing = closing;
    void closing.finally(() => {
      if (this.closing === closing) this.closing = undefined;
    });
    return closing;
  }
}
