// Parsing and walking a firmware image must cost O(headers), not O(image): readElf, the PT_LOAD
// list, the .resource_table lookup and the table parse, on images of 4, 16 and 64 MiB, against a
// plain Uint8Array.set of the same bytes measured in the same run. The ratio must stay far below 1
// and shrink as the image grows; `elf-parse/growth` compares the 64 MiB parse with the 4 MiB one
// (≈ 1 when parsing is independent of the image size).

import { buildElf } from '../src/elf/elf-builder.ts';
import { readElf } from '../src/elf/elf-reader.ts';
import { loadSegments } from '../src/elf/elf-segments.ts';
import { findResourceTable } from '../src/elf/elf-rsc-table.ts';
import { buildRscTable, parseRscTable } from '../src/rsc/index.ts';
import { medianMicros, record, type Bench, type BenchRecord } from './bench.ts';

const MiB = 1 << 20;

function firmwareImage(size: number): Uint8Array {
  const text = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) text[i] = i & 0xff;
  const table = buildRscTable([
    { kind: 'carveout', len: 0x10000, name: 'heap' },
    { kind: 'trace', da: 0x9000_0000, len: 0x1000, name: 'trace0' },
    {
      kind: 'vdev',
      id: 7,
      dfeatures: 1,
      vrings: [
        { align: 16, num: 256 },
        { align: 16, num: 256 },
      ],
    },
  ]);
  return buildElf({
    class: 32,
    entry: 0x8000_0000,
    segments: [
      { paddr: 0x8000_0000, section: '.text', flags: 5 },
      { paddr: 0x9000_0000, section: '.resource_table', flags: 6 },
    ],
    sections: [
      { name: '.text', data: text, flags: 6 },
      { name: '.resource_table', data: table, flags: 3 },
    ],
  });
}

function parseAndWalk(bytes: Uint8Array): number {
  const { image } = readElf(bytes);
  if (image === undefined) throw new Error('bench image did not parse');
  let n = loadSegments(image).length;
  const lookup = findResourceTable(image);
  if (lookup.status !== 'found') throw new Error('bench image has no table');
  n += parseRscTable(lookup.bytes).entries.length;
  return n;
}

const bench: Bench = {
  name: 'elf-parse',
  description: 'parse + walk a firmware image vs Uint8Array.set of the same bytes (µs, median)',
  run() {
    const records: BenchRecord[] = [];
    const parseTimes = new Map<number, number>();
    // Let the JIT settle on the parser first, so the first size is not measured cold.
    const warm = firmwareImage(MiB);
    for (let i = 0; i < 2000; i++) parseAndWalk(warm);
    for (const mib of [4, 16, 64]) {
      const bytes = firmwareImage(mib * MiB);
      const dst = new Uint8Array(bytes.length);
      let sink = 0;
      const parse = medianMicros(() => {
        sink += parseAndWalk(bytes);
      }, 500);
      const copy = medianMicros(
        () => {
          dst.set(bytes);
        },
        mib >= 64 ? 20 : 50,
      );
      if (sink === 0) throw new Error('parse did nothing');
      parseTimes.set(mib, parse);
      records.push(
        record(
          `elf-parse/${mib}MiB`,
          parse,
          { name: `elf-parse/copy-${mib}MiB`, value: copy },
          'µs',
          'parse+walk vs Uint8Array.set of the same bytes',
        ),
      );
    }
    const small = parseTimes.get(4) ?? Number.NaN;
    const large = parseTimes.get(64) ?? Number.NaN;
    records.push(
      record(
        'elf-parse/growth',
        large,
        { name: 'elf-parse/4MiB', value: small },
        'µs',
        '64 MiB parse vs 4 MiB parse',
      ),
    );
    return Promise.resolve(records);
  },
};

export default bench;
