// A minimal QEMU-virt-like machine around one hart, for tests and benchmarks of the rv32 core
// (the real board lives in src/soc): RAM, the core's ns16550a UART (output collected; no host
// input, but loopback works) behind its PLIC, a SiFive test finisher, and a CLINT whose mtime
// counts retired instructions (deterministic) and jumps forward while the hart waits in WFI. With
// `linuxAbi`, ECALLs are the Linux write/exit system calls that qemu-riscv32 implements, so the
// user-mode build of a program runs unchanged.

import { parseElf } from '../../../src/elf/elf-reader.ts';
import { loadElfSegments } from '../../../src/elf/elf-segments.ts';
import { Bus, type MmioRegion } from '../../../src/cpu/rv32/bus.ts';
import { Hart, type EngineKind, type FatalTrap, type MisalignedPolicy } from '../../../src/cpu/rv32/hart.ts';
import { CAUSE, IRQ } from '../../../src/cpu/rv32/trap.ts';
import { Plic } from '../../../src/cpu/rv32/devices/plic.ts';
import { PLIC_IRQ } from '../../../src/cpu/rv32/devices/rv32-memory-map.ts';
import { Uart16550 } from '../../../src/cpu/rv32/devices/uart16550.ts';

const VIRT = {
  RAM_BASE: 0x8000_0000,
  UART: 0x1000_0000,
  FINISHER: 0x0010_0000,
  CLINT: 0x0200_0000,
} as const;

const FINISHER_PASS = 0x5555;
const FINISHER_FAIL = 0x3333;
const NO_DEADLINE = 2n ** 64n - 1n;
/** mtime ticks at QEMU virt's 10 MHz. */
const NS_PER_TICK = 100;

export interface VirtTestMachineOptions {
  readonly engine?: EngineKind;
  readonly ramBase?: number;
  readonly ramSize?: number;
  /** RAM in a SharedArrayBuffer (as the SoC will have it). */
  readonly shared?: boolean;
  readonly linuxAbi?: boolean;
  readonly jitThreshold?: number;
  readonly misaligned?: MisalignedPolicy;
}

export type MachineOutcome =
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly code: number }
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'fatal'; readonly fatal: FatalTrap }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'deadlock' };

export interface MachineResult {
  readonly outcome: MachineOutcome;
  readonly output: string;
  readonly instret: number;
}

export class VirtTestMachine {
  readonly hart: Hart;
  readonly ram: Uint8Array;
  readonly ramBase: number;
  private output = '';
  private readonly uartDevice: Uart16550;
  private readonly plic: Plic;
  private outcome: MachineOutcome | undefined;
  private mtimecmp = NO_DEADLINE;
  /** Ticks skipped while waiting in WFI, added to the instruction count to form mtime. */
  private idleTicks = 0n;

  constructor(options: VirtTestMachineOptions = {}) {
    this.ramBase = options.ramBase ?? VIRT.RAM_BASE;
    const size = options.ramSize ?? 1 << 20;
    this.ram = new Uint8Array(options.shared === true ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    const update = (): void => this.updateIrqs();
    this.uartDevice = new Uart16550(
      (text) => {
        this.output += text;
      },
      { clockNs: () => Number(this.mtime()) * NS_PER_TICK, onChange: update },
    );
    this.plic = new Plic(update);
    const bus = new Bus({
      ram: [{ base: this.ramBase, size, bytes: this.ram, name: 'ram' }],
      // The user-mode build talks through system calls and is linked low, where the devices are.
      mmio:
        options.linuxAbi === true
          ? []
          : [this.uartDevice.region(), this.plic.region(), this.finisher(), this.clint()],
    });
    this.hart = new Hart({
      bus,
      resetPc: this.ramBase,
      time: () => Number(this.mtime()),
      ...(options.engine === undefined ? {} : { engine: options.engine }),
      ...(options.jitThreshold === undefined ? {} : { jitThreshold: options.jitThreshold }),
      ...(options.misaligned === undefined ? {} : { misaligned: options.misaligned }),
      ...(options.linuxAbi === true ? { onEnvCall: (_h: Hart, cause: number) => this.syscall(cause) } : {}),
    });
  }

  /** Load an ELF's PT_LOAD segments into RAM and reset the hart at its entry point. */
  load(elf: Uint8Array): void {
    const image = parseElf(elf);
    loadElfSegments(image, (da, len) => {
      const off = Number(da) - this.ramBase;
      return off >= 0 && off + len <= this.ram.length ? this.ram.subarray(off, off + len) : undefined;
    });
    this.hart.reset(Number(image.header.entry));
  }

  /** Run until the program ends, or maxInstructions retire; `slice` is the run() budget per call. */
  runToEnd(maxInstructions = 50_000_000, slice = 100_000): MachineResult {
    const h = this.hart;
    while (this.outcome === undefined) {
      if (h.instret >= maxInstructions) {
        this.outcome = { kind: 'timeout' };
        break;
      }
      h.setIrq(IRQ.MTI, this.mtime() >= this.mtimecmp);
      this.updateIrqs();
      const r = h.run(Math.min(slice, maxInstructions - h.instret));
      if (r.reason === 'fatal' && r.fatal !== undefined) this.outcome = { kind: 'fatal', fatal: r.fatal };
      else if (r.reason === 'halt' && !this.ended()) this.outcome = { kind: 'timeout' };
      else if (r.reason === 'wfi' && !this.skipToDeadline()) this.outcome = { kind: 'deadlock' };
    }
    this.uartDevice.flush();
    return { outcome: this.outcome, output: this.output, instret: h.instret };
  }

  /** The UART's line through the PLIC to MEIP (the UART's character timeout runs on mtime). */
  private updateIrqs(): void {
    this.uartDevice.poll();
    this.plic.setLevel(PLIC_IRQ.UART0, this.uartDevice.irq);
    this.hart.setIrq(IRQ.MEI, this.plic.meip);
  }

  /** Set by the finisher or an exit call from inside run(), which control flow analysis cannot see. */
  private ended(): boolean {
    return this.outcome !== undefined;
  }

  mtime(): bigint {
    return BigInt(this.hart.instret) + this.idleTicks;
  }

  /**
   * WFI with nothing pending: jump mtime to the next deadline that could wake the hart, the timer's
   * or the UART's character timeout.
   */
  private skipToDeadline(): boolean {
    const csr = this.hart.csr;
    let at = (csr.mieBits & (1 << IRQ.MTI)) === 0 ? NO_DEADLINE : this.mtimecmp;
    const uartNs = this.uartDevice.deadlineNs();
    if ((csr.mieBits & (1 << IRQ.MEI)) !== 0 && uartNs !== undefined) {
      const ticks = BigInt(Math.ceil(uartNs / NS_PER_TICK));
      if (ticks < at) at = ticks;
    }
    if (at === NO_DEADLINE) return false;
    const now = this.mtime();
    if (at > now) this.idleTicks += at - now;
    return true;
  }

  private end(outcome: MachineOutcome): void {
    this.outcome ??= outcome;
    this.hart.halt();
  }

  private finisher(): MmioRegion {
    return {
      base: VIRT.FINISHER,
      size: 0x1000,
      name: 'test-finisher',
      read: () => 0,
      write: (offset, _width, value) => {
        if (offset !== 0) return;
        if ((value & 0xffff) === FINISHER_PASS) this.end({ kind: 'pass' });
        else if ((value & 0xffff) === FINISHER_FAIL) this.end({ kind: 'fail', code: value >>> 16 });
      },
    };
  }

  private clint(): MmioRegion {
    const word = (v: bigint, high: boolean): number => Number((high ? v >> 32n : v) & 0xffff_ffffn) | 0;
    return {
      base: VIRT.CLINT,
      size: 0x10000,
      name: 'clint',
      read: (offset) => {
        if (offset === 0) return (this.hart.csr.mipBits >>> IRQ.MSI) & 1;
        if (offset === 0x4000 || offset === 0x4004) return word(this.mtimecmp, offset === 0x4004);
        if (offset === 0xbff8 || offset === 0xbffc) return word(this.mtime(), offset === 0xbffc);
        return 0;
      },
      write: (offset, _width, value) => {
        const v = BigInt(value >>> 0);
        if (offset === 0) this.hart.setIrq(IRQ.MSI, (value & 1) !== 0);
        else if (offset === 0x4000) this.mtimecmp = (this.mtimecmp & ~0xffff_ffffn) | v;
        else if (offset === 0x4004) this.mtimecmp = (this.mtimecmp & 0xffff_ffffn) | (v << 32n);
        else return;
        this.hart.setIrq(IRQ.MTI, this.mtime() >= this.mtimecmp);
      },
    };
  }

  /** Linux write(64) to fd 1/2 and exit(93)/exit_group(94), as qemu-riscv32 provides them. */
  private syscall(cause: number): boolean {
    if (cause !== CAUSE.ECALL_M) return false;
    const x = this.hart.x;
    const nr = x[17] ?? 0;
    if (nr === 64) {
      const addr = (x[11] ?? 0) - this.ramBase;
      const len = x[12] ?? 0;
      if (addr < 0 || len < 0 || addr + len > this.ram.length) {
        x[10] = -14; // -EFAULT
        return true;
      }
      this.output += Buffer.from(this.ram.subarray(addr, addr + len)).toString('latin1');
      x[10] = len;
      return true;
    }
    if (nr === 93 || nr === 94) {
      this.end({ kind: 'exit', code: x[10] ?? 0 });
      return true;
    }
    x[10] = -38; // -ENOSYS
    return true;
  }
}
