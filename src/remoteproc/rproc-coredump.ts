// A processor's coredump part (rproc.coredump): the mode user space sets, the segments to dump as
// the platform registered them (or the loaded firmware's), the core file's ELF class, and the dump
// itself — the platform's coredump op, or the default ELF core (coredump.ts) with the platform's
// coredumpNotes (the registers) in a PT_NOTE. Mirrors struct rproc's coredump fields, remoteproc_coredump.c.

import { buildCoredump, type CoredumpElfInfo, type DumpSegment, type RprocCoredump } from './coredump.ts';
import { COREDUMP_MODE, type CoredumpMode } from './rproc-state.ts';
import type { Rproc } from './rproc.ts';

export class RprocCoredumpControl {
  /** rproc->dump_conf: disabled (the default), enabled or inline; the sysfs `coredump` file sets it. */
  mode: CoredumpMode = COREDUMP_MODE.DISABLED;
  private readonly rproc: Rproc;
  private readonly publish: (dump: RprocCoredump) => void;
  private readonly inlineTimeoutMs: number;
  private platformSegments: DumpSegment[] = [];
  private firmwareSegments: DumpSegment[] = [];
  private elfInfo: CoredumpElfInfo | undefined;
  private elfInfoFromPlatform = false;

  /** `publish`: emit the 'coredump' event; `inlineTimeoutMs`: how long an inline dump may be read. */
  constructor(rproc: Rproc, publish: (dump: RprocCoredump) => void, inlineTimeoutMs: number) {
    this.rproc = rproc;
    this.publish = publish;
    this.inlineTimeoutMs = inlineTimeoutMs;
  }

  /**
   * rproc_coredump_add_segment / _add_custom_segment. As in Linux the list is freed with the other
   * resources (shutdown, detach, failed boot): register segments on every boot, e.g. in prepare.
   */
  addSegment(segment: DumpSegment): void {
    this.platformSegments.push(segment);
  }

  /** rproc_coredump_set_elf_info. */
  setElfInfo(info: CoredumpElfInfo): void {
    this.elfInfo = info;
    this.elfInfoFromPlatform = true;
  }

  /** What a dump covers: the platform's segments, else the loaded firmware's. */
  get segments(): readonly DumpSegment[] {
    return this.platformSegments.length > 0 ? this.platformSegments : this.firmwareSegments;
  }

  /** @internal the ELF loader's default when the platform set none */
  setDefaultElfInfo(info: CoredumpElfInfo): void {
    if (!this.elfInfoFromPlatform) this.elfInfo = info;
  }

  /**
   * @internal the loaded segments, dumped when the platform registered none. Deviation: Linux's
   * ELF loader registers nothing, so a generic platform's dump is empty.
   */
  setDefaultSegments(segments: readonly DumpSegment[]): void {
    this.firmwareSegments = [...segments];
  }

  /**
   * @internal rproc_coredump_cleanup, the last step of rproc_resource_cleanup: platforms register
   * their dump segments again on every boot (typically in prepare or load), as Linux drivers do.
   */
  clearSegments(): void {
    this.platformSegments = [];
    this.firmwareSegments = [];
  }

  /** Run the coredump op (default: the ELF core of the dump segments, per mode); failures are logged. */
  async run(): Promise<void> {
    const { rproc } = this;
    try {
      if (rproc.ops.coredump !== undefined) await rproc.ops.coredump(rproc);
      else await this.defaultCoredump();
    } catch (e) {
      rproc.log('error', `coredump failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async defaultCoredump(): Promise<void> {
    const segments = this.segments;
    if (this.mode === COREDUMP_MODE.DISABLED || segments.length === 0) return;
    if (this.elfInfo === undefined) {
      this.rproc.log('warn', 'ELF class is not set, coredump skipped');
      return;
    }
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const dump = buildCoredump(
      this.mode,
      this.elfInfo,
      this.rproc.bootAddr,
      segments,
      (da, len) => this.rproc.daToVa(da, len),
      release,
      this.rproc.ops.coredumpNotes?.(this.rproc) ?? [],
    );
    if (dump === undefined) return;
    this.publish(dump);
    if (dump.mode === 'inline') {
      // Inline dumps read the stopped processor's memory: wait until the reader is done.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.inlineTimeoutMs)));
      await Promise.race([released, timeout]);
      clearTimeout(timer);
      dump.release();
    }
  }
}
