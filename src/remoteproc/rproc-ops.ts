// What a platform driver provides: the ops a remote processor needs (start/stop/kick and friends)
// and the defaults the core installs for the ones left out, decided in one place.
// Mirrors struct rproc_ops (include/linux/remoteproc.h) and rproc_alloc_ops() in remoteproc_core.c.

import type { Rproc } from './rproc.ts';
import type { Firmware } from './firmware-store.ts';
import type { ElfNote } from '../elf/elf-core-notes.ts';

/** An op may finish synchronously or return a promise; failure is a thrown RprocError. */
type OpResult<T = void> = T | Promise<T>;

/** The live resource table in device memory, as get_loaded_rsc_table returns it. */
export interface LoadedRscTable {
  /** A view of the table in device memory (never a copy). */
  readonly bytes: Uint8Array;
}

export interface RprocOps {
  /** Release the core at rproc.bootAddr. Required for processors Linux boots. */
  start?(rproc: Rproc): OpResult;
  /** Halt the core. Without it shutdown fails with EINVAL, as in Linux. */
  stop?(rproc: Rproc): OpResult;
  /** Tell the remote there is work in the vring with this notify id. Needed by virtio devices. */
  kick?(rproc: Rproc, notifyId: number): void;
  /** First step of boot and attach: power, clocks, and registering reserved-memory carveouts. */
  prepare?(rproc: Rproc): OpResult;
  /** Last step of shutdown, detach and boot-failure unwinding. */
  unprepare?(rproc: Rproc): OpResult;
  /** Take over a core that someone else started. Required for processors added as detached. */
  attach?(rproc: Rproc): OpResult;
  /** Let go of an attached core, leaving it running. Its presence makes attach keep a clean table. */
  detach?(rproc: Rproc): OpResult;
  /** Platform address translation, tried before carveouts. Returns a view of len bytes at da. */
  daToVa?(rproc: Rproc, da: bigint, len: number): Uint8Array | undefined;
  /** Read the resource table out of the firmware (default: copy `.resource_table`, mandatory). */
  parseFw?(rproc: Rproc, fw: Firmware): OpResult<Uint8Array | undefined>;
  /**
   * A vendor resource (type 128..512): return RSC_HANDLED or RSC_IGNORED; throw (or, as in Linux,
   * return a negative errno) to fail the boot.
   * `body` is a view of the entry body in the table being edited; `avail` bytes remain to its end.
   */
  handleRsc?(rproc: Rproc, type: number, body: Uint8Array, offset: number, avail: number): number;
  /** Where the loaded firmware keeps its table in device memory (default: `.resource_table` sh_addr). */
  findLoadedRscTable?(rproc: Rproc, fw: Firmware): Uint8Array | undefined;
  /** The table a core that is already running uses (attach); undefined when it has none. */
  getLoadedRscTable?(rproc: Rproc): OpResult<LoadedRscTable | undefined>;
  /** Put the firmware into device memory (default: the ELF segment loader through daToVa). */
  load?(rproc: Rproc, fw: Firmware): OpResult;
  /** Check the image before anything is touched (default: the ELF sanity check). */
  sanityCheck?(rproc: Rproc, fw: Firmware): OpResult;
  /** The boot address (default: e_entry). */
  getBootAddr?(rproc: Rproc, fw: Firmware): bigint;
  /** Called for running processors when the host panics; returns milliseconds to wait. */
  panic?(rproc: Rproc): number;
  /** Collect a dump after a crash (default: the ELF core dump of the registered segments). */
  coredump?(rproc: Rproc): OpResult;
  /**
   * The processor's state for the default coredump, as ELF notes in its PT_NOTE (e.g. NT_PRSTATUS
   * with the registers at the crash, which gdb needs for a backtrace); called once per dump, after
   * the processor stopped. Not in Linux, whose rproc_coredump() writes no notes; without this op
   * (or with no notes) the dump is exactly Linux's.
   */
  coredumpNotes?(rproc: Rproc): readonly ElfNote[] | undefined;
}
