// The /sys/kernel/debug/remoteproc/remoteproc<N>/ files of one processor: name, recovery, crash,
// coredump, resource_table, carveout_memories and one trace<N> per trace buffer, with the prefix
// matching, size limits, integer parsing and exact texts of drivers/remoteproc/remoteproc_debugfs.c.

import { RprocError, hex } from '../../util/errors.ts';
import type { Endian } from '../../util/bytes.ts';
import { formatRscTable, parseRscTable } from '../../rsc/index.ts';
import type { Rproc } from '../rproc.ts';
import { COREDUMP_MODE, RPROC_STATE, type CoredumpMode } from '../rproc-state.ts';
import {
  asControlError,
  decodeText,
  parseKernelUint,
  printable,
  strncmpEquals,
  toBytes,
  triggerRecovery,
  type ControlInput,
} from './control-io.ts';

/** The files rproc_create_debug_dir makes, in its order; trace<N> files come and go with boots. */
export const DEBUGFS_FILES = [
  'name',
  'recovery',
  'crash',
  'resource_table',
  'carveout_memories',
  'coredump',
] as const;
export type DebugfsFile = (typeof DEBUGFS_FILES)[number];

/** Size of the kernel buffers the recovery and coredump writes are copied into. */
export const DEBUGFS_RECOVERY_MAX = 10;
export const DEBUGFS_COREDUMP_MAX = 20;

/** rproc_name_read prints "%.98s\n" into a 100-byte buffer. */
const NAME_MAX = 98;

const MODES: Readonly<Record<DebugfsFile, number>> = {
  name: 0o400,
  recovery: 0o600,
  crash: 0o200,
  resource_table: 0o400,
  carveout_memories: 0o400,
  coredump: 0o600,
};

/** The strncmp order of rproc_coredump_write: with prefix matching, order decides "e" and "d". */
const COREDUMP_WORDS: readonly CoredumpMode[] = [
  COREDUMP_MODE.DISABLED,
  COREDUMP_MODE.ENABLED,
  COREDUMP_MODE.INLINE,
];

export interface RprocDebugfsOptions {
  /** Byte order the resource table is read in; little-endian, as the core handles it. */
  readonly endian?: Endian;
  /** Add our annotations to resource_table (default false: Linux's lines only). */
  readonly extras?: boolean;
}

type Resolved =
  { readonly kind: 'file'; readonly file: DebugfsFile } | { readonly kind: 'trace'; readonly index: number };

export class RprocDebugfs {
  readonly rproc: Rproc;
  private readonly endian: Endian;
  private readonly extras: boolean;

  constructor(rproc: Rproc, options: RprocDebugfsOptions = {}) {
    this.rproc = rproc;
    this.endian = options.endian ?? 'le';
    this.extras = options.extras ?? false;
  }

  get path(): string {
    return `/sys/kernel/debug/remoteproc/${this.rproc.devName}`;
  }

  /** The fixed files, then trace0, trace1, ... for the current boot. */
  list(): readonly string[] {
    return [...DEBUGFS_FILES, ...this.rproc.resources.traces.map((t) => t.name)];
  }

  mode(name: string): number {
    const r = this.lookup(name, 'mode');
    return r.kind === 'trace' ? 0o400 : MODES[r.file];
  }

  /** The file's full text, as `cat` prints it. */
  read(name: string): string {
    const r = this.lookup(name, 'read');
    if (r.kind === 'trace') return this.readTrace(r.index);
    const rproc = this.rproc;
    switch (r.file) {
      case 'name':
        return `${truncateBytes(rproc.name, NAME_MAX)}\n`;
      case 'recovery':
        return rproc.crash.recoveryDisabled ? 'disabled\n' : 'enabled\n';
      case 'coredump':
        return `${rproc.coredump.mode}\n`;
      case 'resource_table': {
        const table = rproc.resources.table;
        return formatRscTable(
          table === undefined ? undefined : parseRscTable(table, { endian: this.endian }),
          {
            extras: this.extras,
          },
        );
      }
      case 'carveout_memories':
        return this.carveoutMemories();
      case 'crash':
        // A file without a read op: as root (debugfs is root-only) read(2) fails with EINVAL.
        throw new RprocError('EINVAL', 'debugfs-read', `${this.path}/crash is write-only`);
    }
  }

  /** write(2): resolves with the byte count once the action is done, or rejects with Linux's errno. */
  async write(name: string, data: ControlInput): Promise<number> {
    const r = this.lookup(name, 'write');
    const file = r.kind === 'trace' ? undefined : r.file;
    const op = `debugfs-${file ?? 'trace'}`;
    const bytes = toBytes(data);
    try {
      switch (file) {
        case 'recovery':
          await this.writeRecovery(bytes, op);
          break;
        case 'coredump':
          this.writeCoredump(bytes, op);
          break;
        case 'crash':
          // No range check, as in Linux: any u32 is reported and unknown types print "unknown".
          this.rproc.reportCrash(parseKernelUint(bytes, op));
          break;
        case 'name':
        case 'resource_table':
        case 'carveout_memories':
        case undefined:
          // No write op: as root, write(2) fails with EINVAL (a non-root open would get EACCES).
          throw new RprocError('EINVAL', op, `${this.path}/${name} is read-only`);
      }
    } catch (e) {
      throw asControlError(e, op);
    }
    return bytes.length;
  }

  /**
   * rproc_recovery_write: 1..10 bytes; one trailing "\n" becomes NUL; then strncmp over the written
   * length, so "e", "en", ... "enabled" and "enabled\n" select enabled, but "en\n" matches nothing.
   */
  private async writeRecovery(bytes: Uint8Array, op: string): Promise<void> {
    const buf = commandBuffer(bytes, DEBUGFS_RECOVERY_MAX, op);
    const n = buf.length;
    const rproc = this.rproc;
    if (strncmpEquals(buf, 'enabled', n)) {
      rproc.crash.recoveryDisabled = false;
      await triggerRecovery(rproc);
    } else if (strncmpEquals(buf, 'disabled', n)) {
      rproc.crash.recoveryDisabled = true;
    } else if (strncmpEquals(buf, 'recover', n)) {
      await triggerRecovery(rproc);
    } else {
      throw new RprocError('EINVAL', op, `Unrecognised option: ${printable(decodeText(bytes))}`);
    }
  }

  /** rproc_coredump_write: 1..20 bytes, newline handling as for recovery, EBUSY while crashed. */
  private writeCoredump(bytes: Uint8Array, op: string): void {
    const buf = commandBuffer(bytes, DEBUGFS_COREDUMP_MAX, op);
    // Linux checks the state after the copy and before parsing: a bad word gets EBUSY too.
    if (this.rproc.state === RPROC_STATE.CRASHED) {
      throw new RprocError('EBUSY', op, "can't change coredump configuration while crashed");
    }
    const mode = COREDUMP_WORDS.find((w) => strncmpEquals(buf, w, buf.length));
    if (mode === undefined) {
      throw new RprocError('EINVAL', op, `Invalid coredump configuration: ${printable(decodeText(bytes))}`);
    }
    this.rproc.coredump.mode = mode;
  }

  /** trace<N>: the buffer's text up to its first NUL, translated now (the remote may remap it). */
  private readTrace(index: number): string {
    // rproc_trace_read prints trace_mem.name, which rproc_handle_trace never fills in: hence the
    // two spaces of Linux's message.
    return this.rproc.resources.readTrace(index) ?? 'Trace  not available\n';
  }

  /** rproc_carveouts_show, without the "Virtual address" line (a hashed kernel pointer in Linux). */
  private carveoutMemories(): string {
    return this.rproc.resources.carveouts.list
      .map((mem) =>
        [
          'Carveout memory entry:',
          `\tName: ${mem.name}`,
          // %pad of a 64-bit dma_addr_t (arm64 hosts): zero-padded to 16 digits.
          `\tDMA address: 0x${(mem.buffer?.pa ?? 0).toString(16).padStart(16, '0')}`,
          `\tDevice address: ${hex(mem.da >>> 0)}`,
          `\tLength: ${hex(mem.len)} Bytes`,
          '',
          '',
        ].join('\n'),
      )
      .join('');
  }

  private lookup(name: string, what: string): Resolved {
    const file = DEBUGFS_FILES.find((f) => f === name);
    if (file !== undefined) return { kind: 'file', file };
    const index = this.rproc.resources.traces.findIndex((t) => t.name === name);
    if (index >= 0) return { kind: 'trace', index };
    throw new RprocError('ENOENT', `debugfs-${what}`, `${this.path}/${printable(name)} does not exist`);
  }
}

/**
 * The kernel's copy of a debugfs command: refused when empty or larger than the buffer (TC-C01),
 * with one trailing newline replaced by NUL.
 */
function commandBuffer(bytes: Uint8Array, max: number, op: string): Uint8Array {
  if (bytes.length < 1 || bytes.length > max) {
    throw new RprocError('EINVAL', op, `write of ${bytes.length} bytes; 1 to ${max} are accepted`);
  }
  const buf = bytes.slice();
  if (buf[buf.length - 1] === 0x0a) buf[buf.length - 1] = 0;
  return buf;
}

/** C's "%.Ns": at most `max` bytes of the UTF-8 text. */
function truncateBytes(text: string, max: number): string {
  const bytes = new TextEncoder().encode(text);
  return bytes.length <= max ? text : decodeText(bytes.subarray(0, max));
}
