// The folder a firmware engineer opens after a failed run (--artifacts DIR): why it failed, the
// whole console (every core's UART, trace and channel lines with their times) and each core's UART
// and trace alone, the rpmsg trace (open it in ui.perfetto.dev), the crash coredumps kept during
// the run and one of every loaded core as it was at the failure — ELF core files gdb reads
// (`gdb-multiarch FIRMWARE.elf CORE.elf`).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VirtualSoc } from '../soc/virtual-soc.ts';
import type { KeptCoredump } from './board-session.ts';
import { formatLine } from './line-pattern.ts';
import type { RpmsgTraceRecorder } from './rpmsg-trace.ts';
import type { RunClock } from './run-clock.ts';
import type { Line, SocLines } from './soc-lines.ts';

/** What a failed run leaves to look at: a board session, or `rproc run`'s checks. */
export interface ArtifactSource {
  readonly soc: VirtualSoc;
  readonly clock: RunClock;
  readonly lines: SocLines;
  readonly recorder: RpmsgTraceRecorder | undefined;
  readonly coredumps: readonly KeptCoredump[];
  /** A coredump of the core now, or undefined when nothing is loaded. */
  dumpNow(core: string): Promise<Uint8Array | undefined>;
}

export interface FailureNote {
  /** The one-line reason. */
  readonly message: string;
  /** Where in the scenario (file:line path), or the command line. */
  readonly where: string;
  readonly lastLines: readonly Line[];
}

/** A file name made of `text`: lower-case words joined by '-'. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return s === '' ? 'run' : s;
}

function stamp(line: Line): string {
  return `${line.at.toFixed(3).padStart(12)} ms  ${formatLine(line)}`;
}

/** Write the artefacts of `session`'s failure into `dir` (created); returns the files written. */
export async function writeArtifacts(
  dir: string,
  session: ArtifactSource,
  failure: FailureNote,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array): void => {
    const path = join(dir, name);
    writeFileSync(path, data);
    written.push(path);
  };
  const lines = session.lines.lines;
  put(
    'failure.txt',
    [
      failure.message,
      `at ${failure.where}`,
      `clock: ${session.clock.virtual ? 'virtual' : 'host'} time, ${session.clock.now().toFixed(3)} ms into the run`,
      '',
      'last lines:',
      ...failure.lastLines.map(stamp),
      '',
    ].join('\n'),
  );
  put('console.txt', lines.map(stamp).join('\n') + '\n');
  for (const core of session.soc.cores) {
    for (const source of ['uart', 'trace'] as const) {
      const own = lines.filter((l) => l.core === core.name && l.source === source).map((l) => l.text);
      const pending = source === 'uart' ? session.lines.pendingUart(core.name) : '';
      if (own.length === 0 && pending === '') continue;
      put(`${source}-${core.name}.txt`, own.join('\n') + '\n' + pending);
    }
  }
  if (session.recorder !== undefined) put('rpmsg-trace.json', JSON.stringify(session.recorder.file()) + '\n');
  session.coredumps.forEach((d, i) =>
    put(d.crash === 0 ? `${d.core}-step-dump-${i + 1}.elf` : `${d.core}-crash-${d.crash}.elf`, d.bytes),
  );
  for (const core of session.soc.cores) {
    const state = core.rproc.state;
    if (state !== 'running' && state !== 'crashed' && state !== 'attached') continue;
    const bytes = await session.dumpNow(core.name).catch(() => undefined);
    if (bytes !== undefined) put(`${core.name}-at-failure.elf`, bytes);
  }
  return written;
}
