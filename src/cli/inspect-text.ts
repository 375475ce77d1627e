// The human-readable form of an inspect report: a header line, aligned tables of segments and
// sections in readelf's spirit, the resource table as Linux's debugfs prints it, then problems.

import { hex } from '../util/errors.ts';
import { paint, type CliIo } from './io.ts';
import type { InspectProblem, InspectReport } from './inspect-report.ts';

function pad(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
}

function problemLine(io: CliIo, p: InspectProblem): string {
  const label = p.severity === 'error' ? paint(io, 'red', 'error') : paint(io, 'yellow', 'warning');
  const at =
    p.offset === null
      ? ''
      : p.where === 'file'
        ? ` at file offset ${hex(p.offset)}`
        : ` at table offset ${hex(p.offset)} (file offset ${hex(p.fileOffset ?? 0)})`;
  return `  ${label} ${p.code}${at}: ${p.message}`;
}

export function formatInspect(io: CliIo, r: InspectReport): string {
  const out: string[] = [];
  const e = r.elf;
  out.push(
    e === null
      ? `${paint(io, 'bold', r.file)}: not a usable ELF image (${r.size} bytes)`
      : `${paint(io, 'bold', r.file)}: ${e.class} ${e.endian} ${e.machineName} (e_machine ${e.machine}), entry ${e.entry}, flags ${e.flags}, ${r.size} bytes`,
  );
  if (e !== null) {
    out.push('', paint(io, 'bold', 'Load segments (da = p_paddr):'));
    out.push(
      ...(r.segments.length === 0
        ? ['  none']
        : table([
            ['phdr', 'da', 'vaddr', 'offset', 'filesz', 'memsz', 'flags'],
            ...r.segments.map((s) => [
              String(s.index),
              s.da,
              s.vaddr,
              pad(s.offset, 6),
              pad(s.filesz, 6),
              pad(s.memsz, 6),
              s.flags,
            ]),
          ])),
    );
    out.push('', paint(io, 'bold', 'Sections:'));
    out.push(
      ...(r.sections.length === 0
        ? ['  none']
        : table([
            ['nr', 'name', 'type', 'addr', 'offset', 'size', 'flags'],
            ...r.sections.map((s) => [
              `[${s.index}]`,
              s.name,
              s.type,
              s.addr,
              pad(s.offset, 6),
              pad(s.size, 6),
              s.flags,
            ]),
          ])),
    );
    out.push('');
    const t = r.resourceTable;
    if (t === null) out.push(paint(io, 'bold', 'Resource table:') + ' none');
    else {
      out.push(
        `${paint(io, 'bold', 'Resource table:')} ${t.section} at da ${t.da}, file offset ${hex(t.fileOffset)}, ${hex(t.table.size)} bytes, version ${t.table.ver}, ${t.table.num} entries`,
      );
      out.push(
        ...t.text
          .trimEnd()
          .split('\n')
          .map((l) => (l === '' ? '' : `  ${l}`)),
      );
    }
  }
  out.push('');
  const errors = r.problems.filter((p) => p.severity === 'error').length;
  const warnings = r.problems.length - errors;
  out.push(
    r.problems.length === 0
      ? `${paint(io, 'bold', 'Problems:')} none`
      : `${paint(io, 'bold', 'Problems:')} ${errors} error(s), ${warnings} warning(s)`,
  );
  out.push(...r.problems.map((p) => problemLine(io, p)));
  return out.join('\n') + '\n';
}
