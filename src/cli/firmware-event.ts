// The `firmware` event `rproc run` gives before it boots a core: the image as `rproc inspect`
// names it (load segments with index, da, filesz, memsz and flags; the resource table's place and
// entry count), so that run's and inspect's output read the same.

import type { Firmware } from '../remoteproc/firmware-store.ts';
import { inspectFirmware } from './inspect-report.ts';
import type { ReportEvent } from './reporter.ts';

export function firmwareEvent(core: string, fw: Firmware): { event: ReportEvent; text: string } {
  const r = inspectFirmware(fw.source, fw.bytes);
  const segments = r.segments.map((s) => ({
    index: s.index,
    da: s.da,
    filesz: s.filesz,
    memsz: s.memsz,
    flags: s.flags,
  }));
  const t = r.resourceTable;
  const resourceTable = t === null ? null : { section: t.section, da: t.da, entries: t.table.num };
  const event: ReportEvent = {
    event: 'firmware',
    core,
    firmware: fw.name,
    source: fw.source,
    size: fw.bytes.length,
    ...(r.elf === null ? {} : { machine: r.elf.machineName, entry: r.elf.entry }),
    segments,
    resourceTable,
  };
  const what = r.elf === null ? 'not ELF' : `${r.elf.class} ${r.elf.machineName}, entry ${r.elf.entry}`;
  const segs = segments.map((s) => `phdr ${s.index} da ${s.da} memsz 0x${s.memsz.toString(16)} ${s.flags}`);
  const table = t === null ? 'no resource table' : `resource table at da ${t.da} (${t.table.num} entries)`;
  return {
    event,
    text: `firmware ${fw.name}: ${what}; load segments ${segs.join(', ')}; ${table}`,
  };
}
