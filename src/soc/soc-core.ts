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
import { CORE_WORD, CoreBlock, pendingIds } from './core-block.ts';
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
      kick: (_rproc, notifyId) => this.block.ringH2C(notifyId),
      daToVa: (_rproc, da, len) => this.map.view(this.memory, da, len),
      attach: () => this.startServices(),
      detach: () => this.stopServices(),
      getLoadedRscTable: () => this.loadedTable(),
    };
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
    void this.listen(++this.listenGen);
  }

  private stopServices(): void {
    this.listenGen++;
    this.watchdog.stop();
    // Wake the listener so that it sees its generation is over.
    Atomics.notify(this.block.words, this.block.base + CORE_WORD.C2H_SEQ);
  }

  /** The mailbox interrupt handler: every id the core rang becomes rproc_vq_interrupt(id). */
  private async listen(gen: number): Promise<void> {
    let seq = this.block.load(CORE_WORD.C2H_SEQ);
    while (gen === this.listenGen) {
      const mask = this.block.takeC2H();
      if (mask !== 0 && this.rprocRef !== undefined) {
        const maxId = Math.max(0, ...this.rprocRef.vdevs.flatMap((v) => v.vrings.map((r) => r.notifyId)));
        for (const id of pendingIds(mask, maxId)) this.rprocRef.vqInterrupt(id);
      }
      seq = await this.block.waitC2H(seq, LISTEN_SLICE_MS);
    }
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
