// `rproc inspect FILE`: what Linux's remoteproc would see in a firmware image. FILE is a path, or
// the name of a firmware that ships with rproc (e.g. hello.elf) when no such path exists. Exit
// status 1 when the image has errors (it would not boot), 0 otherwise; warnings do not count.

import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PREBUILT_FIRMWARE_DIRS } from '../soc/default-firmware.ts';
import { ERRNO, RprocError, hex, type ErrnoName } from '../util/errors.ts';
import { EXIT, UsageError, type Command } from './command.ts';
import { inspectFirmware } from './inspect-report.ts';
import { formatInspect } from './inspect-text.ts';

const MAX_IMAGE_BYTES = 1 << 30;

/** FILE as given if it exists; else, for a bare name, the shipped firmware of that name. */
function locate(file: string): string {
  if (existsSync(file) || basename(file) !== file) return file;
  for (const dir of PREBUILT_FIRMWARE_DIRS) {
    const path = join(dir, file);
    if (existsSync(path)) return path;
  }
  return file;
}

function unreadable(file: string, e: unknown): RprocError {
  const code = (e as NodeJS.ErrnoException).code;
  const name: ErrnoName = code !== undefined && code in ERRNO ? (code as ErrnoName) : 'EIO';
  const why = code === 'ENOENT' ? 'no such file' : (code ?? (e instanceof Error ? e.message : String(e)));
  return new RprocError(name, 'inspect', `cannot read ${file}: ${why}`, { cause: e });
}

/** Address fields (da, pa) of the decoded table as hex strings, as everywhere in the CLI's JSON. */
function hexAddresses(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexAddresses);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      (k === 'da' || k === 'pa') && typeof v === 'number' ? hex(v) : hexAddresses(v),
    ]),
  );
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show a firmware ELF as remoteproc sees it: segments, sections, resource table, problems',
  usage: 'FILE',
  help: [
    'FILE is a path, or the name of a firmware that ships with rproc (hello.elf, echo.elf, rpmsg-echo, ...).',
    '',
    'Options:',
    '  --host-endian le|be  byte order the host expects (Linux refuses other firmware); default le',
    '  --json               the report as an `inspect` event (addresses as hex strings, sizes as numbers)',
    '',
    'Exit status: 0 the image would boot (warnings allowed); 1 it has errors, or cannot be read; 2 bad usage.',
  ].join('\n'),
  options: { 'host-endian': { type: 'string', default: 'le' } },
  positionals: [1, 1],
  async run({ reporter, values, positionals }) {
    const file = locate(positionals[0] ?? '');
    const hostEndian = values['host-endian'];
    if (hostEndian !== 'le' && hostEndian !== 'be')
      throw new UsageError(`--host-endian must be le or be, not ${String(hostEndian)}`);
    let size: number;
    try {
      const st = await stat(file);
      if (st.isDirectory())
        throw new RprocError('EISDIR', 'inspect', `${file} is a directory, not a firmware image`);
      if (!st.isFile()) throw new RprocError('EINVAL', 'inspect', `${file} is not a regular file`);
      size = st.size;
    } catch (e) {
      if (e instanceof RprocError) throw e;
      throw unreadable(file, e);
    }
    if (size > MAX_IMAGE_BYTES)
      throw new RprocError(
        'EFBIG',
        'inspect',
        `${file} is ${size} bytes; firmware images above 1 GiB are refused`,
      );
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      throw unreadable(file, e);
    }
    const report = inspectFirmware(file, bytes, { hostEndian });
    const errors = report.problems.filter((p) => p.severity === 'error').length;
    if (reporter.json) {
      const { resourceTable, ...rest } = report;
      reporter.say(
        {
          event: 'inspect',
          ...rest,
          resourceTable:
            resourceTable === null
              ? null
              : {
                  section: resourceTable.section,
                  da: resourceTable.da,
                  fileOffset: resourceTable.fileOffset,
                  ...(hexAddresses(resourceTable.table) as object),
                },
        },
        undefined,
      );
    } else {
      reporter.io.out(formatInspect(reporter.io, report));
    }
    return errors > 0
      ? { status: EXIT.FAILED, reason: `${errors} error(s): the image would not boot` }
      : { status: EXIT.OK, reason: 'the image would boot' };
  },
};
