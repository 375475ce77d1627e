// The js-core firmware images committed in firmware/prebuilt/js/ (shipped with the package and
// found by the default firmware store) are exactly what the bundled programs build to today.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundledJsFirmware } from './bundled-firmware.ts';
import { PROGRAM_NAMES } from './programs/index.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'firmware', 'prebuilt', 'js');

describe('firmware/prebuilt/js', () => {
  it('holds one image per bundled program and nothing else', () => {
    assert.deepEqual(readdirSync(dir).sort(), [...PROGRAM_NAMES].sort());
  });

  for (const name of PROGRAM_NAMES) {
    it(`${name} matches what the program builds to (else: node --import tsx scripts/build-js-firmware.ts)`, () => {
      assert.ok(Buffer.from(bundledJsFirmware(name)).equals(readFileSync(join(dir, name))));
    });
  }
});
