// The boot record of a js-core firmware image: what the js core "executes" at the boot address.
// A real core starts fetching instructions at e_entry; the js core reads this record there instead
// (magic, the program to run, and where the firmware linked its resource table), so a js firmware
// is still an ordinary ELF whose segments and .resource_table go through the normal loader.

import { ByteView } from '../../util/bytes.ts';
import { RprocError, hex } from '../../util/errors.ts';

/** "RPJS" read as a little-endian u32. */
const JS_BOOT_MAGIC = 0x534a5052;
const JS_BOOT_VERSION = 1;
export const JS_BOOT_RECORD_SIZE = 64;
const JS_PROGRAM_NAME_MAX = 31;

const OFF = { magic: 0, version: 4, rscDa: 8, rscSize: 12, program: 16 } as const;

export interface JsBootRecord {
  /** Name of the bundled program to run (src/cpu/js/programs). */
  readonly program: string;
  /** Device address of the firmware's resource table, 0 when it has none. */
  readonly rscDa: number;
  readonly rscSize: number;
}

export function writeBootRecord(record: JsBootRecord): Uint8Array {
  const bytes = new Uint8Array(JS_BOOT_RECORD_SIZE);
  const v = new ByteView(bytes, 'le', { what: 'js boot record', op: 'js-firmware' });
  v.setU32(OFF.magic, JS_BOOT_MAGIC, 'magic');
  v.setU32(OFF.version, JS_BOOT_VERSION, 'version');
  v.setU32(OFF.rscDa, record.rscDa, 'rsc da');
  v.setU32(OFF.rscSize, record.rscSize, 'rsc size');
  v.setCString(OFF.program, JS_PROGRAM_NAME_MAX + 1, record.program, 'program name');
  return bytes;
}

/**
 * Read the record the core finds at its boot address. The bytes are what the host loaded, but
 * they sit in memory anyone could have written: every field is checked before use.
 */
export function readBootRecord(bytes: Uint8Array, bootAddr: number): JsBootRecord {
  const v = new ByteView(bytes, 'le', { what: 'js boot record', op: 'js-core' });
  const magic = v.u32(OFF.magic, 'magic');
  if (magic !== JS_BOOT_MAGIC) {
    throw new RprocError(
      'ENOEXEC',
      'js-core',
      `no js boot record at boot address ${hex(bootAddr)} (magic ${hex(magic)}, expected ${hex(JS_BOOT_MAGIC)})`,
    );
  }
  const version = v.u32(OFF.version, 'version');
  if (version !== JS_BOOT_VERSION) {
    throw new RprocError(
      'ENOEXEC',
      'js-core',
      `js boot record version ${version} at ${hex(bootAddr)}; this core runs version ${JS_BOOT_VERSION}`,
    );
  }
  const name = v.cstring(OFF.program, JS_PROGRAM_NAME_MAX + 1, 'program name');
  if (!name.terminated || !/^[a-z0-9][a-z0-9_-]*$/.test(name.text)) {
    throw new RprocError(
      'ENOEXEC',
      'js-core',
      `js boot record at ${hex(bootAddr)} names an invalid program "${name.text}"`,
    );
  }
  return { program: name.text, rscDa: v.u32(OFF.rscDa, 'rsc da'), rscSize: v.u32(OFF.rscSize, 'rsc size') };
}
