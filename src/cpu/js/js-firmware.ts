// Builds js-core firmware images: an ELF32 (e_machine EM_NONE: no instruction set) with one
// PT_LOAD segment holding the boot record at the entry point and the .resource_table section,
// linked at the core's RAM address like C firmware would be.

import { buildElf } from '../../elf/elf-builder.ts';
import { EM } from '../../elf/elf-constants.ts';
import { buildRscTable, type RscEntrySpec } from '../../rsc/index.ts';
import { JS_BOOT_RECORD_SIZE, writeBootRecord } from './boot-record.ts';

export interface JsFirmwareSpec {
  readonly program: string;
  readonly resources: readonly RscEntrySpec[];
  /** Where the image is linked (the core's RAM); QEMU virt's RAM base by default. */
  readonly ramDa?: number;
  /** Bytes of zero-initialised RAM after the image (the program's "bss"), e.g. a trace buffer. */
  readonly bssSize?: number;
}

export const JS_RAM_DA = 0x8000_0000;

export function buildJsFirmware(spec: JsFirmwareSpec): Uint8Array {
  const ramDa = spec.ramDa ?? JS_RAM_DA;
  const table = buildRscTable(spec.resources);
  const tableDa = ramDa + JS_BOOT_RECORD_SIZE;
  const boot = writeBootRecord({ program: spec.program, rscDa: tableDa, rscSize: table.length });
  return buildElf({
    class: 32,
    machine: EM.EM_NONE,
    entry: ramDa,
    // Two segments back to back, each carrying its section, as a linker lays out .boot and .data.
    segments: [
      { paddr: ramDa, section: '.boot', flags: 4 },
      { paddr: tableDa, section: '.resource_table', flags: 6, memsz: table.length + (spec.bssSize ?? 0) },
    ],
    sections: [
      { name: '.boot', data: boot, flags: 2 },
      { name: '.resource_table', data: table, flags: 3 },
    ],
  });
}
