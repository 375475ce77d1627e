// The host side of a remote core running in a worker thread: start it at the boot address,
// halt it (politely through the RUN word, then by terminating the worker), and turn what it
// reports — console lines, faults, an unexpected exit or a worker error — into events. A core
// that dies never takes the host with it.

import { Worker, type WorkerOptions } from 'node:worker_threads';
import { RprocError } from '../util/errors.ts';
import { CORE_WORD, RUN_STATE, type CoreBlock } from './core-block.ts';
import {
  isCoreMessage,
  type CoreDebugMessage,
  type CoreExitCause,
  type CoreFault,
  type CoreWorkerData,
} from './core-messages.ts';
import type { DebugReply, DebugRequest, DebugStop } from './debug/debug-protocol.ts';

export interface WorkerCoreEvents {
  uart(text: string): void;
  /** The core faulted or its worker died: the platform reports a crash. */
  fault(fault: CoreFault): void;
  /** The firmware finished (test finisher) or the core was halted, with this code. */
  exit(code: number, cause: CoreExitCause): void;
  /** The core stopped for a debugger by itself. */
  debugStop(stop: DebugStop): void;
  /** The core answered debug request `id`. */
  debugReply(id: number, reply: DebugReply): void;
}

/** How long a halted core may take to notice before its worker is terminated. */
export const HALT_GRACE_MS = 500;

/** What runs a core's code on a thread: a worker of its own (WorkerCore) or a share of a group's (CoreGroup). */
export interface CoreRunner {
  readonly running: boolean;
  /** Release the core: it starts executing at data.bootAddr. */
  start(data: CoreWorkerData): Promise<void>;
  /** Halt the core; resolves once it is still. */
  stop(): Promise<void>;
  /** Post debug request `id` to the core (its answer comes through debugReply); throws when it is not running. */
  debug(id: number, req: DebugRequest): void;
}

const PRELOAD_FLAGS = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);
/**
 * What the host process was told to run, not how: a worker given them would run the host's script
 * (-e, -p), or the test runner, a watcher or a REPL, instead of its own. With `true`, the flag
 * takes the next argument as its value when written without `=`.
 */
const ENTRY_FLAGS = new Map<string, boolean>([
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['--input-type', true],
  ['-c', false],
  ['--check', false],
  ['-i', false],
  ['--interactive', false],
  ['--test', false],
  ['--test-only', false],
  ['--test-reporter', true],
  ['--test-reporter-destination', true],
  ['--test-name-pattern', true],
  ['--test-concurrency', true],
  ['--watch', false],
  ['--watch-path', true],
  ['--watch-preserve-output', false],
]);

/**
 * The parent's Node options minus those that preload tsx (`node --import tsx`, the tsx CLI's own
 * --require/--import): a worker inherits them by default and would load tsx again in every core —
 * most of a core's boot time — although the compiled worker needs no tsx and the development
 * bootstrap (*.mjs) registers it itself; and minus those that say what the host runs
 * (ENTRY_FLAGS: `node -e`, `node --test`). Per-process options are left to spawnWorker.
 */
function workerExecArgv(parent: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const entry = ENTRY_FLAGS.get(flag);
    if (entry !== undefined) {
      if (entry && eq < 0) i++;
      continue;
    }
    if (PRELOAD_FLAGS.has(flag)) {
      const value = eq < 0 ? (parent[i + 1] ?? '') : arg.slice(eq + 1);
      if (eq < 0) i++;
      if (/(^|[/\\])tsx([/\\]|$)/.test(value)) continue;
      out.push(flag, value);
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Flags a worker refused (per-process and V8 options such as --expose-gc), learnt once. */
let refusedFlags: ReadonlySet<string> | undefined;

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return eq < 0 ? arg : arg.slice(0, eq);
}

/**
 * new Worker(script, options) with workerExecArgv(): whatever flags the host process was started
 * with, the worker starts. Node refuses per-process options in a worker's execArgv (--expose-gc,
 * --max-old-space-size, ...; ERR_WORKER_INVALID_EXEC_ARGV, thrown before the thread exists) and
 * names them: they are dropped and the worker is made again without them, and remembered, so that
 * the next worker pays nothing. Should Node's message not name them, the worker runs with no flags.
 */
export function spawnWorker(script: URL, options: Omit<WorkerOptions, 'execArgv'>): Worker {
  const argv = workerExecArgv().filter((a) => refusedFlags?.has(flagName(a)) !== true);
  try {
    return new Worker(script, { ...options, execArgv: argv });
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    const message = e instanceof Error ? e.message : '';
    const named = (message.split(': ').slice(1).join(': ') || '').split(', ').map(flagName);
    const refused = new Set([...(refusedFlags ?? []), ...named.filter((f) => f.startsWith('-'))]);
    const kept = argv.filter((a) => !refused.has(flagName(a)));
    refusedFlags = refused;
    // Nothing named that we pass: start the worker without any flag rather than not at all.
    return new Worker(script, { ...options, execArgv: kept.length < argv.length ? kept : [] });
  }
}

export class WorkerCore implements CoreRunner {
  private worker: Worker | undefined;
  private readonly script: URL;
  private readonly block: CoreBlock;
  private readonly events: WorkerCoreEvents;
  private stopping = false;

  constructor(script: URL, block: CoreBlock, events: WorkerCoreEvents) {
    this.script = script;
    this.block = block;
    this.events = events;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Release the core: it starts executing at data.bootAddr in its own thread. */
  async start(data: CoreWorkerData): Promise<void> {
    if (this.worker !== undefined)
      throw new RprocError('EBUSY', 'core-start', `${data.coreName} is already running`);
    this.stopping = false;
    this.block.store(CORE_WORD.RUN, RUN_STATE.RUNNING);
    this.block.store(CORE_WORD.EXIT_CODE, 0);
    const worker = spawnWorker(this.script, { workerData: data, stdout: false, stderr: false });
    this.worker = worker;
    worker.on('message', (msg: unknown) => {
      if (!isCoreMessage(msg)) return;
      switch (msg.type) {
        case 'uart':
          this.events.uart(msg.text);
          return;
        case 'fault':
          this.events.fault(msg.fault);
          return;
        case 'exit':
          this.events.exit(msg.code, msg.cause);
          return;
        case 'debug-stop':
          this.events.debugStop(msg.stop);
          return;
        case 'debug-reply':
          this.events.debugReply(msg.id, msg.reply);
          return;
      }
    });
    worker.on('error', (e: unknown) => {
      // An exception escaping the core's thread: a firmware bug, reported as a fatal error.
      if (!this.stopping)
        this.events.fault({
          kind: 'fatal',
          message: `core thread died: ${e instanceof Error ? e.message : String(e)}`,
        });
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (!this.stopping && code !== 0)
        this.events.fault({ kind: 'fatal', message: `core thread exited with code ${code}` });
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
  }

  debug(id: number, req: DebugRequest): void {
    const worker = this.worker;
    if (worker === undefined) throw new Error('the core is not running');
    const msg: CoreDebugMessage = { type: 'debug', id, req };
    worker.postMessage(msg);
    // After the post: the core takes the message when it sees the word move.
    Atomics.add(this.block.words, this.block.base + CORE_WORD.DEBUG_SEQ, 1);
    this.block.wake();
  }

  /** Halt the core; resolves once its thread is gone. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.stopping = true;
    this.block.store(CORE_WORD.RUN, RUN_STATE.HALT_REQUESTED);
    this.block.wake();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await exitOrTerminate(worker, exited);
    this.worker = undefined;
    this.block.store(CORE_WORD.RUN, RUN_STATE.HALTED);
  }
}

/**
 * Wait up to HALT_GRACE_MS for a core thread asked to end (`exited`), then terminate it: a core
 * stuck in a loop that never looks at RUN does not end by itself.
 */
export async function exitOrTerminate(worker: Worker, exited: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), HALT_GRACE_MS)),
  );
  const r = await Promise.race([exited.then(() => 'exited' as const), grace]);
  clearTimeout(timer);
  if (r === 'timeout') {
    await worker.terminate();
    await exited;
  }
}
