// The js core: what a remote core does when it runs a TypeScript firmware program instead of
// machine code. It reads the boot record at the boot address, finds its resource table in device
// memory, brings up the rpmsg device role (and the console device, when the table declares an
// rproc-serial or console vdev) over the SoC's shared memory and runs the program, all on a small
// scheduler of its own: step() services the devices and due timers; in a worker, run() loops on
// step() and sleeps on the core's doorbell (WFI) when idle; in the host thread, the SoC scheduler
// calls boot(), step() and shutdown() itself and supplies the clock (src/soc/scheduler).

import { hex } from '../../util/errors.ts';
import { parseRscTable } from '../../rsc/rsc-parse.ts';
import { RpmsgVirtioDevice } from '../../rpmsg/remote/rpmsg-virtio-device.ts';
import { CONSOLE_DEVICE_IDS } from '../../console/console-constants.ts';
import { VirtioConsoleDevice } from '../../console/console-device.ts';
import { hasVdev } from '../../remoteproc/virtio/vdev-locate.ts';
import type { RemoteTimers } from '../../rpmsg/remote/remote-types.ts';
import type { AddressMap } from '../../soc/address-map.ts';
import { CORE_WORD, HOST_EVENT, RUN_STATE, type CoreBlock } from '../../soc/core-block.ts';
import type { CoreFault, CoreMessage } from '../../soc/core-messages.ts';
import type { PhysMemory } from '../../soc/phys-memory.ts';
import { JS_BOOT_RECORD_SIZE, readBootRecord } from './boot-record.ts';
import type { JsFirmwareEnv } from './js-firmware-env.ts';
import { loadProgram } from './programs/index.ts';
import { TraceWriter } from './trace-writer.ts';
import { TurnPacer } from '../../soc/turn-pacer.ts';

export interface JsCoreHost {
  readonly coreName: string;
  readonly memory: PhysMemory;
  readonly map: AddressMap;
  readonly block: CoreBlock;
  readonly bootAddr: number;
  /** The core's time in ms since it started (timers, env.now()); host time by default. */
  readonly clockMs?: () => number;
  /** Ring the host's mailbox (block.ringC2H by default; the scheduler also wants to know). */
  readonly ringHost?: (notifyId: number) => void;
  post(msg: CoreMessage): void;
}

/** Thrown through the program's stack when the core faults, so that it stops where it died. */
class CoreHalt extends Error {
  override readonly name = 'CoreHalt';
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** Longest WFI sleep without a deadline: the core still looks at RUN this often. */
const IDLE_WAIT_MS = 50;

export class JsCoreRuntime {
  private readonly host: JsCoreHost;
  private readonly clockMs: () => number;
  private timers: Timer[] = [];
  private timerSeq = 0;
  private rpmsg: RpmsgVirtioDevice | undefined;
  private console: VirtioConsoleDevice | undefined;
  private faulted = false;
  private exited = false;
  private wakeSeen = 0;

  constructor(host: JsCoreHost) {
    this.host = host;
    const t0 = performance.now();
    this.clockMs = host.clockMs ?? (() => performance.now() - t0);
  }

  get halted(): boolean {
    return this.faulted || this.host.block.load(CORE_WORD.RUN) !== RUN_STATE.RUNNING;
  }

  /** Reset: read the boot record, bring up rpmsg, start the program (not awaited). */
  async boot(): Promise<void> {
    const { host } = this;
    const recordBytes = host.map.view(host.memory, host.bootAddr, JS_BOOT_RECORD_SIZE);
    if (recordBytes === undefined) {
      this.fault({
        kind: 'mmufault',
        message: `instruction fetch at ${hex(host.bootAddr)}: not mapped`,
        pc: host.bootAddr,
        tval: host.bootAddr,
      });
      return;
    }
    let record;
    try {
      record = readBootRecord(recordBytes, host.bootAddr);
    } catch (e) {
      this.fault({ kind: 'fatal', message: e instanceof Error ? e.message : String(e), pc: host.bootAddr });
      return;
    }
    const program = await loadProgram(record.program);
    if (program === undefined) {
      this.fault({
        kind: 'fatal',
        message: `js boot record names unknown program "${record.program}"`,
        pc: host.bootAddr,
      });
      return;
    }
    const ringHost = host.ringHost ?? ((id: number) => host.block.ringC2H(id));
    const translate = (da: bigint | number, len: number): Uint8Array | undefined =>
      host.map.view(host.memory, da, len);
    // Descriptor addresses are physical on this SoC: reach them through the core's map (pa → da).
    const translateBus = (pa: bigint | number, len: number): Uint8Array | undefined => {
      const p = typeof pa === 'bigint' ? (pa > 0xffff_ffffn ? undefined : Number(pa)) : pa;
      const da = p === undefined ? undefined : host.map.paToDa(p, len);
      return da === undefined ? undefined : host.map.view(host.memory, da, len);
    };
    const rpmsg = new RpmsgVirtioDevice({
      table: { da: record.rscDa, size: record.rscSize },
      translate,
      translateBus,
      notify: ringHost,
      name: `${host.coreName}:rpmsg`,
      timers: this.timerHooks(),
    });
    this.rpmsg = rpmsg;
    let consoleDev: VirtioConsoleDevice | undefined;
    // The table is host-edited memory: hasVdev only parses it (parseRscTable never throws), and the
    // console device re-validates its own entry and everything the host writes there.
    const table = host.map.view(host.memory, record.rscDa, record.rscSize);
    if (table !== undefined && hasVdev(table, CONSOLE_DEVICE_IDS)) {
      try {
        consoleDev = new VirtioConsoleDevice({
          table,
          translate,
          translateBus,
          notify: ringHost,
          name: `${host.coreName}:console`,
        });
      } catch (e) {
        this.fault({
          kind: 'fatal',
          message: `console vdev unusable: ${e instanceof Error ? e.message : String(e)}`,
          pc: host.bootAddr,
        });
        return;
      }
    }
    this.console = consoleDev;
    const trace = this.traceWriter(record.rscDa, record.rscSize);
    const env = this.env(rpmsg, consoleDev, trace);
    Promise.resolve()
      .then(() => program(env))
      .catch((e: unknown) => {
        if (e instanceof CoreHalt) return;
        this.fault({
          kind: 'fatal',
          message: `unhandled exception in firmware: ${e instanceof Error ? e.message : String(e)}`,
        });
      });
  }

  /** Service rpmsg and fire due timers; returns how much work was done (0 = idle). */
  step(): number {
    if (this.faulted) return 0;
    let work = 0;
    if ((this.host.block.takeHostEvents() & HOST_EVENT.DETACHED) !== 0) {
      // The host detached (and may have attached again already): every device starts over.
      this.rpmsg?.restart();
      this.console?.restart();
      work++;
    }
    if (this.rpmsg !== undefined) work += this.rpmsg.service();
    if (this.console !== undefined) work += this.console.service();
    const now = this.now();
    while (this.timers.length > 0) {
      const t = this.timers[0];
      if (t === undefined || t.at > now) break;
      this.timers.shift();
      if (t.cancelled) continue;
      work++;
      t.fire();
    }
    return work;
  }

  /** Milliseconds until the next timer, or undefined. */
  nextDeadline(): number | undefined {
    const at = this.nextTimerAt();
    return at === undefined ? undefined : Math.max(0, at - this.now());
  }

  /** When the next timer fires, on the core's clock (ms); undefined: none. */
  nextTimerAt(): number | undefined {
    return this.timers.find((x) => !x.cancelled)?.at;
  }

  /**
   * The worker's main loop: step while there is work, sharing the thread with the program's
   * promise continuations and Node's own tasks (TurnPacer), and sleep in WFI as soon as a step
   * finds nothing; until halted.
   */
  async run(): Promise<void> {
    await this.boot();
    const block = this.host.block;
    this.wakeSeen = block.load(CORE_WORD.WAKE);
    const pacer = new TurnPacer();
    while (!this.halted) {
      if (this.step() > 0) {
        await pacer.afterWork();
        continue;
      }
      const turn = pacer.beforeSleep();
      if (turn !== undefined) {
        await turn;
        continue;
      }
      // Acknowledge the mailbox once per WFI, not per step: step() serves every queue whatever
      // the ids, WAKE (not these bits) is what ends a WFI, and a bit left set spares the host a
      // read-modify-write per message (CoreBlock.postH2C).
      block.takeH2C();
      // A halt request also bumps WAKE, so the wait below returns at once when one arrives.
      const deadline = this.nextDeadline();
      const wait = deadline === undefined ? IDLE_WAIT_MS : Math.min(IDLE_WAIT_MS, deadline);
      if (wait > 0) this.wakeSeen = block.waitForEvent(this.wakeSeen, wait);
    }
    this.shutdown();
  }

  /** The core is halted: close the device side and report the exit code (once). */
  shutdown(): void {
    this.rpmsg?.close();
    if (!this.exited)
      this.host.post({ type: 'exit', code: this.host.block.load(CORE_WORD.EXIT_CODE), cause: 'halt' });
    this.exited = true;
  }

  private now(): number {
    return this.clockMs();
  }

  private addTimer(ms: number, fire: () => void): Timer {
    const t: Timer = { at: this.now() + Math.max(0, ms), seq: this.timerSeq++, fire, cancelled: false };
    this.timers.push(t);
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return t;
  }

  private timerHooks(): RemoteTimers {
    return {
      setTimeout: (callback, ms) => this.addTimer(ms, callback),
      clearTimeout: (handle) => {
        if (typeof handle === 'object' && handle !== null && 'cancelled' in handle)
          (handle as Timer).cancelled = true;
      },
    };
  }

  private fault(fault: CoreFault): never | void {
    if (this.faulted) return;
    this.faulted = true;
    this.host.post({ type: 'fault', fault });
  }

  private traceWriter(rscDa: number, rscSize: number): TraceWriter | undefined {
    // The table is host-edited memory: parse it like any untrusted table and take the first trace.
    const table = this.host.map.view(this.host.memory, rscDa, rscSize);
    if (table === undefined) return undefined;
    const trace = parseRscTable(table).entries.find((e) => e.kind === 'trace');
    if (trace?.kind !== 'trace') return undefined;
    const buf = this.host.map.view(this.host.memory, trace.da, trace.len);
    return buf === undefined ? undefined : new TraceWriter(buf);
  }

  private env(
    rpmsg: RpmsgVirtioDevice,
    consoleDev: VirtioConsoleDevice | undefined,
    trace: TraceWriter | undefined,
  ): JsFirmwareEnv {
    const { host } = this;
    const halt = (fault: CoreFault): never => {
      this.fault(fault);
      throw new CoreHalt(fault.message);
    };
    const word = (da: number, what: string): Uint8Array => {
      const v = host.map.view(host.memory, da >>> 0, 4);
      if (v === undefined || (da & 3) !== 0) {
        return halt({
          kind: 'mmufault',
          message: `${what} at ${hex(da >>> 0)}: not mapped for ${host.coreName}`,
          tval: da >>> 0,
        });
      }
      return v;
    };
    return {
      coreName: host.coreName,
      rpmsg,
      console: consoleDev,
      trace: (line) => trace?.write(line.endsWith('\n') ? line : `${line}\n`),
      uart: (text) => void host.block.postUart(text, (t) => host.post({ type: 'uart', text: t })),
      watchdog: {
        start: (periodMs) => {
          host.block.store(CORE_WORD.WDT_PERIOD_MS, Math.max(1, Math.floor(periodMs)));
          Atomics.add(host.block.words, host.block.base + CORE_WORD.WDT_KICKS, 1);
        },
        kick: () => {
          Atomics.add(host.block.words, host.block.base + CORE_WORD.WDT_KICKS, 1);
        },
      },
      now: () => this.now(),
      sleep: (ms) => new Promise<void>((resolve) => this.addTimer(ms, resolve)),
      get halting() {
        return host.block.load(CORE_WORD.RUN) !== RUN_STATE.RUNNING;
      },
      store32: (da, value) => {
        new DataView(word(da, 'store').buffer).setUint32(word(da, 'store').byteOffset, value >>> 0, true);
      },
      load32: (da) => {
        const v = word(da, 'load');
        return new DataView(v.buffer).getUint32(v.byteOffset, true);
      },
      panic: (message) => halt({ kind: 'fatal', message: `firmware panic: ${message}` }),
    };
  }
}
