// Writes the bundled js-core firmware images to firmware/prebuilt/js/<program> (one small ELF per
// program in src/cpu/js/programs/), so that they ship with the package and the default firmware
// store finds them like the C samples. `--check` fails instead when a committed image differs.
//   node --import tsx scripts/build-js-firmware.ts [--check]

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledJsFirmware } from '../src/cpu/js/bundled-firmware.ts';
import { PROGRAM_NAMES } from '../src/cpu/js/programs/index.ts';

const dir = join(import.meta.dirname, '..', 'firmware', 'prebuilt', 'js');
const check = process.argv.includes('--check');
const stale: string[] = [];
mkdirSync(dir, { recursive: true });
for (const name of PROGRAM_NAMES) {
  const path = join(dir, name);
  const bytes = bundledJsFirmware(name);
  const same = existsSync(path) && Buffer.from(bytes).equals(readFileSync(path));
  if (same) continue;
  if (check) stale.push(name);
  else writeFileSync(path, bytes);
}
for (const name of readdirSync(dir))
  if (!PROGRAM_NAMES.includes(name)) stale.push(`${name} (no such program)`);
if (stale.length > 0) {
  console.error(
    `firmware/prebuilt/js: out of date: ${stale.join(', ')}; run node --import tsx scripts/build-js-firmware.ts`,
  );
  process.exit(1);
}
console.log(`firmware/prebuilt/js: ${PROGRAM_NAMES.length} images ${check ? 'up to date' : 'written'}`);
