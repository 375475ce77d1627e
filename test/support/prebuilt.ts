// Where the committed firmware lives, for tests that read it directly (firmware/prebuilt/).

import { fileURLToPath } from 'node:url';

const PREBUILT_DIR = fileURLToPath(new URL('../../firmware/prebuilt/', import.meta.url));

/** The path of a committed firmware ELF, e.g. prebuiltPath('echo.elf'). */
export function prebuiltPath(name: string): string {
  return PREBUILT_DIR + name;
}
