// `rproc inspect FILE`: what Linux's remoteproc would see in a firmware image. Exit status 1 when
// the image has errors (it would not boot), 0 otherwise; warnings do not change the status.

import { readFile, stat } from 'node:fs/promises';
import { RprocError } from '../util/errors.ts';
import { EXIT, UsageError, type Command } from './command.ts';
import { inspectFirmware } from './inspect-report.ts';
import { formatInspect } from './inspect-text.ts';

const MAX_IMAGE_BYTES = 1 << 30;

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show a firmware ELF as remoteproc sees it: segments, sections, resource table, problems',
  usage: 'FILE',
  help: [
    'Options:',
    '  --host-endian le|be  byte order the host expects (Linux refuses other firmware); default le',
    '  --json               print the report as JSON (addresses as hex strings, sizes as numbers)',
  ].join('\n'),
  options: { 'host-endian': { type: 'string', default: 'le' } },
  positionals: [1, 1],
  async run({ io, json, values, positionals }) {
    const file = positionals[0] ?? '';
    const hostEndian = values['host-endian'];
    if (hostEndian !== 'le' && hostEndian !== 'be')
      throw new UsageError(`--host-endian must be le or be, not ${String(hostEndian)}`);
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new RprocError('EINVAL', 'inspect', `${file} is not a regular file`);
      size = st.size;
    } catch (e) {
      if (e instanceof RprocError) throw e;
      throw new RprocError(
        'ENOENT',
        'inspect',
        `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    if (size > MAX_IMAGE_BYTES)
      throw new RprocError(
        'EFBIG',
        'inspect',
        `${file} is ${size} bytes; firmware images above 1 GiB are refused`,
      );
    const bytes = new Uint8Array(await readFile(file));
    const report = inspectFirmware(file, bytes, { hostEndian });
    if (json) {
      const { resourceTable, ...rest } = report;
      const out = {
        ...rest,
        resourceTable:
          resourceTable === null
            ? null
            : {
                section: resourceTable.section,
                da: resourceTable.da,
                fileOffset: resourceTable.fileOffset,
                ...resourceTable.table,
              },
      };
      io.out(JSON.stringify(out, null, 2) + '\n');
    } else {
      io.out(formatInspect(io, report));
    }
    return report.problems.some((p) => p.severity === 'error') ? EXIT.FAILED : EXIT.OK;
  },
};
