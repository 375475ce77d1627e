// Host write-back through RscTableWriter: the right bytes change, nothing else does, and every bad
// offset, index or value is refused before any byte is written.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import { ByteView, type Endian } from '../util/bytes.ts';
import { FW_RSC_ADDR_ANY } from './rsc-constants.ts';
import { buildRscTable } from './rsc-build.ts';
import { checkRscTable } from './rsc-parse.ts';
import { RscTableWriter } from './rsc-writer.ts';
import type { RscCarveout, RscEntry, RscVdev } from './rsc-types.ts';

function sampleTable(endian: Endian = 'le'): Uint8Array {
  return buildRscTable(
    [
      { kind: 'carveout', len: 0x8000, flags: 0x3, name: 'heap' },
      {
        kind: 'vdev',
        id: 7,
        dfeatures: 1,
        vrings: [
          { align: 16, num: 8 },
          { align: 16, num: 8 },
        ],
        config: Uint8Array.of(1, 2, 3, 4),
      },
    ],
    { endian },
  );
}

function entryOf<K extends RscEntry['kind']>(bytes: Uint8Array, kind: K, endian: Endian = 'le') {
  const entry = checkRscTable(bytes, { endian }).entries.find((e) => e.kind === kind);
  assert.ok(entry !== undefined && entry.kind === kind);
  return entry as Extract<RscEntry, { kind: K }>;
}

const isEinval = (e: unknown): boolean => isRprocError(e, 'EINVAL');

describe('RscTableWriter', () => {
  it('writes carveout da, pa and len and leaves flags and name alone', () => {
    const bytes = sampleTable();
    const before: RscCarveout = entryOf(bytes, 'carveout');
    new RscTableWriter(bytes).setCarveout(before.bodyOffset, { da: 0x1000, pa: 0x8000_0000, len: 0x8000 });
    const after = entryOf(bytes, 'carveout');
    assert.deepEqual(after, { ...before, da: 0x1000, pa: 0x8000_0000, len: 0x8000 });
  });

  it('refuses a carveout write-back that does not fit in 32 bits, writing nothing', () => {
    const bytes = sampleTable();
    const copy = bytes.slice();
    const { bodyOffset } = entryOf(bytes, 'carveout');
    assert.throws(
      () => new RscTableWriter(bytes).setCarveout(bodyOffset, { da: 0x1000, pa: 0x1_0000_0000, len: 1 }),
      (e) => isEinval(e) && /carveout pa value 0x100000000/.test(String(e)),
    );
    assert.deepEqual(bytes, copy);
  });

  it('refuses a carveout whose body would run past the table end', () => {
    const bytes = sampleTable();
    assert.throws(
      () => new RscTableWriter(bytes).setCarveout(bytes.length - 12, { da: 0, pa: 0, len: 0 }),
      isEinval,
    );
    assert.throws(() => new RscTableWriter(bytes).setCarveout(-4, { da: 0, pa: 0, len: 0 }), isEinval);
  });

  it('writes vring da and notifyid into the right vring', () => {
    const bytes = sampleTable();
    const vdev: RscVdev = entryOf(bytes, 'vdev');
    const w = new RscTableWriter(bytes);
    w.setVringDa(vdev, 1, 0x9000_0000);
    w.setVringNotifyId(vdev, 1, 5);
    w.setVringNotifyId(vdev, 0, FW_RSC_ADDR_ANY);
    const after = entryOf(bytes, 'vdev');
    assert.deepEqual(after.vrings, [
      { ...vdev.vrings[0], notifyId: 0xffff_ffff },
      { ...vdev.vrings[1], da: 0x9000_0000, notifyId: 5 },
    ]);
    assert.deepEqual(after.config, vdev.config);
  });

  it('bounds vring indices by the vring count seen at parse time', () => {
    const bytes = sampleTable();
    const vdev = entryOf(bytes, 'vdev');
    const w = new RscTableWriter(bytes);
    assert.throws(
      () => w.setVringDa(vdev, 2, 0),
      (e) => isEinval(e) && /vring index 2/.test(String(e)),
    );
    assert.throws(() => w.setVringDa(vdev, -1, 0), isEinval);
    assert.throws(() => w.setVringDa({ ...vdev, numOfVrings: 1 }, 1, 0), isEinval);
    assert.throws(() => w.setVringNotifyId({ ...vdev, numOfVrings: 3 }, 2, 0), isEinval);
    assert.throws(() => w.setVringNotifyId(vdev, 0, 0x1_0000_0000), isEinval);
  });

  it('writes the vdev status byte and guest features', () => {
    const bytes = sampleTable();
    const vdev = entryOf(bytes, 'vdev');
    const w = new RscTableWriter(bytes);
    w.setVdevStatus(vdev.bodyOffset, 0x7);
    w.setVdevGfeatures(vdev.bodyOffset, 0x1);
    assert.deepEqual(entryOf(bytes, 'vdev'), { ...vdev, status: 0x7, gfeatures: 0x1 });
    assert.throws(() => w.setVdevStatus(vdev.bodyOffset, 0x107), isEinval);
    assert.throws(() => w.setVdevStatus(bytes.length, 1), isEinval);
    assert.throws(() => w.setVdevGfeatures(bytes.length - 2, 1), isEinval);
  });

  it('hands out a live view of the config space sized at parse time', () => {
    const bytes = sampleTable();
    const vdev = entryOf(bytes, 'vdev');
    const w = new RscTableWriter(bytes);
    const config = w.vdevConfig(vdev);
    assert.deepEqual(config, Uint8Array.of(1, 2, 3, 4));
    config[2] = 0x33;
    assert.deepEqual(entryOf(bytes, 'vdev').config, Uint8Array.of(1, 2, 0x33, 4));
    // A remote that later inflates config_len in the table does not widen the view (TC-L01).
    new ByteView(bytes, 'le', { what: 'table', op: 'test' }).setU32(
      vdev.bodyOffset + 16,
      0x100,
      'config_len',
    );
    assert.equal(w.vdevConfig(vdev).length, 4);
    assert.throws(() => w.vdevConfig({ ...vdev, configLen: 5 }), isEinval);
  });

  it('writes in the table endianness', () => {
    const bytes = sampleTable('be');
    const vdev = entryOf(bytes, 'vdev', 'be');
    new RscTableWriter(bytes, 'be').setVringDa(vdev, 0, 0x0102_0304);
    assert.equal(entryOf(bytes, 'vdev', 'be').vrings[0]?.da, 0x0102_0304);
    assert.deepEqual(bytes.subarray(vdev.bodyOffset + 24, vdev.bodyOffset + 28), Uint8Array.of(1, 2, 3, 4));
  });
});
