// One remote core of the virtual SoC and the platform driver that runs it: the RprocOps a
// remoteproc platform driver provides (prepare registers the board's reserved-memory carveouts,
// start releases the core at the boot address in its worker thread, stop halts it, kick rings the
// mailbox, daToVa uses the core's own address map, attach/detach for a core a boot loader started),
// plus the doorbell listener that turns the core's mailbox writes into rproc_vq_interrupt calls,
// the watchdog and fault reporting. Mirrors a platform driver such as stm32_rproc.c.

import { RprocError, hex } from '../util/errors.ts';
import { parseElf } from '../elf/elf-reader.ts';
import { formatSymbolized, symbolize } from '../elf/elf-symbols.ts';
import { MemEntry } from '../remoteproc/carveouts.ts';
import { RPROC_FATAL_ERROR, RPROC_MMUFAULT, RPROC_WATCHDOG } from '../remoteproc/rproc-state.ts';
import type { RprocOps, LoadedRscTable } from '../remoteproc/rproc-ops.ts';
import type { CrashDetail, Rproc } from '../remoteproc/rproc.ts';
import { AddressMap } from './address-map.ts';
import { CORE_WORD, CoreBlock, SpinBudget, notifyBit } from './core-block.ts';
import type { CoreFault } from './core-messages.ts';
import { DmaPool } from './dma-pool.ts';
import type { CoreKind, CoreSpec } from './board.ts';
import { distIsFresh, distUrl } from '../util/dist.ts';
import type { PhysMemory } from './phys-memory.ts';
import { Watchdog } from './watchdog.ts';
import { WorkerCore } from './worker-core.ts';

/**
 * The script a core of each kind runs: the compiled worker when this code is itself compiled or
 * dist/ is fresh (fast start), else a .mjs bootstrap that loads the TypeScript body through tsx
 * (DESIGN: tsx's loader does not reach `new Worker('./x.ts')` on Node 20).
 */
function workerScript(kind: CoreKind): URL {
  const body = kind === 'js' ? 'cpu/js/js-core-worker' : 'cpu/rv32/rv32-core-worker';
  if (import.meta.url.endsWith('.js')) return new URL(`../${body}.js`, import.meta.url);
  if (distIsFresh()) return distUrl(`${body}.js`);
  return new URL(`../${body}.mjs`, import.meta.url);
}

/** How long one Atomics.waitAsync on the doorbell lasts before the listener looks again. */
const LISTEN_SLICE_MS = 1000;

/**
 * How long the listener keeps polling the doorbell after the last sign of life (an interrupt, or
 * a kick that asks for an answer) before it sleeps in Atomics.waitAsync, in µs, adapted like a
 * core's WFI polling (SpinBudget). Polling goes through setImmediate, so the event loop keeps
 * running; an answer that comes meanwhile is picked up within a loop turn (~µs) instead of a
 * wake-up through the loop (~10–30 µs), and costs the core no notify.
 */
const LISTEN_POLL_MIN_US = 10;
const LISTEN_POLL_MAX_US = 50;

const OVERFLOW = notifyBit(31);

/** Cores kicked in this turn of the host's code (until the microtask that ends it). */
const doorbells = new Set<SocCore>();
/** Sleeping cores rung in this turn whose notify is still owed, per SoC (device words). */
const owed = new Map<Int32Array, CoreBlock[]>();
/** Whether this turn has already spent its immediate notify. */
let notifiedThisTurn = false;

/**
 * Ring core `core`'s doorbell. WAKE moves at once, so a core that polls sees it within ~100 ns. A
 * sleeping core needs a notify, which costs the host ~10 µs of its own time on this VM: the first
 * one of a turn of the host's code is sent at once (a lone message keeps its latency), later ones
 * are owed and settled by endTurn() (a burst over many cores costs the host two notifies).
 */
function ringDoorbell(core: SocCore): void {
  if (doorbells.size === 0) queueMicrotask(endTurn);
  doorbells.add(core);
  const { block } = core;
  if (!block.ring()) return;
  if (!notifiedThisTurn) {
    notifiedThisTurn = true;
    block.notifyWake();
    return;
  }
  const list = owed.get(block.words);
  if (list === undefined) owed.set(block.words, [block]);
  else list.push(block);
}

/**
 * The end of a turn: of the owed sleepers of one SoC the host notifies one and leaves the others to
 * the cores themselves (CoreBlock.requestWake: a woken core passes the wake-up on); then every
 * core rung in the turn gets its listener polling for the answer.
 */
function endTurn(): void {
  for (const list of owed.values()) {
    // Requests first, then the notify: the woken core must find them when it looks.
    for (let i = 1; i < list.length; i++) list[i]?.requestWake();
    list[0]?.notifyWake();
  }
  owed.clear();
  notifiedThisTurn = false;
  const cores = [...doorbells];
  doorbells.clear();
  for (const core of cores) core.rung();
}

/** Cores whose doorbell listener runs, for sweeps. */
const listening = new Set<SocCore>();

/**
 * A listener that took an interrupt also takes those every other core has pending, in the same
 * turn: their answers then go out in one turn too, so ringDoorbell() can batch the wake-ups of the
 * cores that sleep (16 cores on one host cost it two notifies a round, not sixteen).
 */
function sweep(from: SocCore): void {
  if (listening.size < 2) return;
  for (const core of [...listening]) if (core !== from) core.takeInterrupts();
}

let turn: Promise<void> | undefined;

/** The next event-loop turn (setImmediate), one for every listener that polls: 16 cores, 1 timer. */
function nextTurn(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

export interface SocCoreEvents {
  uart(core: SocCore, text: string): void;
  exit(core: SocCore, code: number): void;
}

export class SocCore {
  readonly spec: CoreSpec;
  readonly index: number;
  readonly block: CoreBlock;
  readonly map: AddressMap;
  readonly pool: DmaPool | undefined;
  private readonly memory: PhysMemory;
  private readonly runner: WorkerCore;
  private readonly watchdog: Watchdog;
  private readonly events: SocCoreEvents;
  private rprocRef: Rproc | undefined;
  /** Bumped to end a listener loop: each loop runs while its generation is current. */
  private listenGen = 0;
  /** When the doorbell last showed activity (performance.now()): the listener polls until +POLL. */
  private lastActivity = 0;
  /** Set while the listener sleeps: a kick calls it so that the listener polls for the answer. */
  private rouse: (() => void) | undefined;
  private readonly poll = new SpinBudget(LISTEN_POLL_MIN_US, LISTEN_POLL_MAX_US);
  private readonly workerOptions: Readonly<Record<string, string | number | boolean>>;

  constructor(
    spec: CoreSpec,
    index: number,
    memory: PhysMemory,
    events: SocCoreEvents,
    workerOptions: Readonly<Record<string, string | number | boolean>> = {},
  ) {
    this.spec = spec;
    this.index = index;
    this.memory = memory;
    this.events = events;
    this.workerOptions = workerOptions;
    this.block = new CoreBlock(memory.device, index);
    this.map = new AddressMap(spec.addressMap);
    this.pool =
      spec.dmaPool === undefined
        ? undefined
        : new DmaPool(memory, this.map, spec.dmaPool.pa, spec.dmaPool.size);
    this.runner = new WorkerCore(workerScript(spec.kind), this.block, {
      uart: (text) => this.events.uart(this, text),
      fault: (fault) => this.onFault(fault),
      exit: (code) => this.events.exit(this, code),
    });
    this.watchdog = new Watchdog(this.block, (period) =>
      this.rproc.reportCrash(RPROC_WATCHDOG, { message: `watchdog bite: no kick for ${period} ms` }),
    );
  }

  get name(): string {
    return this.spec.name;
  }

  get rproc(): Rproc {
    if (this.rprocRef === undefined) throw new RprocError('ENODEV', 'soc', `${this.name} has no rproc yet`);
    return this.rprocRef;
  }

  /** @internal the SoC binds the rproc it allocated with ops() */
  bind(rproc: Rproc): void {
    this.rprocRef = rproc;
  }

  get running(): boolean {
    return this.runner.running;
  }

  /** The platform driver's ops for this core. */
  ops(): RprocOps {
    return {
      prepare: (rproc) => this.registerCarveouts(rproc),
      start: async (rproc) => {
        await this.startCore(rproc.bootAddr);
      },
      stop: async () => {
        await this.stopCore();
      },
      kick: (_rproc, notifyId) => this.kick(notifyId),
      daToVa: (_rproc, da, len) => this.map.view(this.memory, da, len),
      attach: () => this.startServices(),
      detach: () => this.stopServices(),
      getLoadedRscTable: () => this.loadedTable(),
    };
  }

  /**
   * The mailbox write: post the id, ring the doorbell (ringDoorbell: the notify a sleeping core
   * needs may be settled at the end of this turn of the host's code, together with other cores').
   */
  private kick(notifyId: number): void {
    this.block.postH2C(notifyId);
    ringDoorbell(this);
  }

  /** @internal the doorbell rang: an answer is likely soon, so the listener polls for it. */
  rung(): void {
    this.lastActivity = performance.now();
    const rouse = this.rouse;
    if (rouse !== undefined) {
      this.rouse = undefined;
      rouse();
    }
  }

  /** Start the core at `bootAddr` outside the remoteproc life cycle (a boot loader: early boot). */
  async startCore(bootAddr: bigint): Promise<void> {
    if (bootAddr < 0n || bootAddr > 0xffff_ffffn) {
      throw new RprocError(
        'EINVAL',
        'core-start',
        `${this.name}: boot address ${hex(bootAddr)} is not a 32-bit address`,
      );
    }
    this.startServices();
    try {
      await this.runner.start({
        coreName: this.name,
        coreIndex: this.index,
        memory: this.memory.share(),
        addressMap: this.spec.addressMap,
        bootAddr: Number(bootAddr),
        options: this.workerOptions,
      });
    } catch (e) {
      this.stopServices();
      throw e;
    }
  }

  async stopCore(): Promise<void> {
    this.stopServices();
    await this.runner.stop();
  }

  /** Like a boot loader: tell whoever attaches where the running firmware's table is. */
  publishTable(da: number, size: number): void {
    this.block.store(CORE_WORD.RSC_DA, da);
    this.block.store(CORE_WORD.RSC_SIZE, size);
  }

  private loadedTable(): LoadedRscTable | undefined {
    const da = this.block.load(CORE_WORD.RSC_DA) >>> 0;
    const size = this.block.load(CORE_WORD.RSC_SIZE) >>> 0;
    if (size === 0) return undefined;
    // Published by whoever booted the core: translate through the core's own map, bounded.
    const bytes = this.map.view(this.memory, da, size);
    if (bytes === undefined) {
      throw new RprocError(
        'EINVAL',
        'attach',
        `${this.name}: the published resource table [${hex(da)}, +${hex(size)}) is not in the core's memory`,
      );
    }
    return { bytes };
  }

  /** prepare: every memory-region the board gives the core becomes a named carveout (stm32-style). */
  private registerCarveouts(rproc: Rproc): void {
    for (const c of this.spec.carveouts) {
      const da = this.map.paToDa(c.pa, c.size);
      const va = this.memory.view(c.pa, c.size);
      if (da === undefined || va === undefined) {
        rproc.log(
          'warn',
          `${this.name}: region ${c.name} at pa ${hex(c.pa)} is not visible to the core; not registered`,
        );
        continue;
      }
      rproc.carveouts.add(new MemEntry({ name: c.name, da, len: c.size, buffer: { da, pa: c.pa, va } }));
    }
  }

  private startServices(): void {
    this.watchdog.start();
    listening.add(this);
    void this.listen(++this.listenGen);
  }

  private stopServices(): void {
    listening.delete(this);
    this.listenGen++;
    this.watchdog.stop();
    // Wake the listener so that it sees its generation is over.
    this.block.interruptC2H();
    const rouse = this.rouse;
    this.rouse = undefined;
    rouse?.();
  }

  /**
   * The mailbox interrupt handler: every id the core rang becomes rproc_vq_interrupt(id). After
   * activity it polls the doorbell (LISTEN_POLL_*_US), then sleeps in Atomics.waitAsync until the
   * core rings or a kick rouses it.
   */
  private async listen(gen: number): Promise<void> {
    const { block } = this;
    while (gen === this.listenGen) {
      // Read before taking the ids: a ring after this moves C2H_SEQ away from `seen`.
      const seen = block.c2hSeq();
      const mask = block.takeC2H();
      if (mask !== 0) {
        this.lastActivity = performance.now();
        this.interrupt(mask);
        sweep(this);
      }
      const budgetMs = this.poll.current / 1000;
      if (budgetMs === 0) {
        this.poll.slept();
      } else if (performance.now() - this.lastActivity < budgetMs) {
        while (
          gen === this.listenGen &&
          block.c2hSeq() === seen &&
          performance.now() - this.lastActivity < budgetMs
        ) {
          await nextTurn();
        }
        if (gen !== this.listenGen) break;
        if (block.c2hSeq() !== seen) {
          this.poll.hit();
          continue;
        }
        this.poll.miss();
      }
      const roused = new Promise<void>((resolve) => (this.rouse = resolve));
      await block.waitC2H(seen, LISTEN_SLICE_MS, roused);
      this.rouse = undefined;
    }
  }

  /** @internal a sweep: handle what this core has rung, if anything (its listener finds it done). */
  takeInterrupts(): void {
    if (!this.block.c2hPending()) return;
    const mask = this.block.takeC2H();
    if (mask === 0) return;
    this.lastActivity = performance.now();
    this.interrupt(mask);
  }

  private interrupt(mask: number): void {
    const rproc = this.rprocRef;
    if (rproc === undefined) return;
    if ((mask & OVERFLOW) === 0) {
      for (let m = mask, id = 0; m !== 0; m >>>= 1, id++) if ((m & 1) !== 0) rproc.vqInterrupt(id);
      return;
    }
    // An id ≥ 31 was rung: every id of every vdev may be pending.
    let maxId = 0;
    for (const v of rproc.vdevs) for (const r of v.vrings) maxId = Math.max(maxId, r.notifyId);
    for (let id = 0; id <= maxId; id++) rproc.vqInterrupt(id);
  }

  private onFault(fault: CoreFault): void {
    const detail: CrashDetail = { message: fault.message, ...this.symbolic(fault) };
    this.rproc.reportCrash(fault.kind === 'mmufault' ? RPROC_MMUFAULT : RPROC_FATAL_ERROR, detail);
  }

  private symbolic(fault: CoreFault): Omit<CrashDetail, 'message'> {
    const out: { pc?: number; cause?: number; tval?: number; symbol?: string } = {};
    if (fault.cause !== undefined) out.cause = fault.cause;
    if (fault.tval !== undefined) out.tval = fault.tval;
    if (fault.pc === undefined) return out;
    out.pc = fault.pc;
    const fw = this.rprocRef?.loadedFirmware;
    if (fw === undefined) return out;
    try {
      const s = symbolize(parseElf(fw.bytes), fault.pc);
      if (s !== undefined) out.symbol = formatSymbolized(s);
    } catch {
      // A firmware whose symbols do not parse still gets its crash report, without a name.
    }
    return out;
  }
}
