#!/usr/bin/env node
// The `rproc` command. Runs the compiled CLI from dist/ when it is up to date with the sources
// (npm ci builds it), otherwise the TypeScript sources through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function distFresh() {
  const stamp = join(root, 'dist', '.stamp');
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newest(join(root, 'src'));
}

let main;
if (distFresh()) {
  ({ main } = await import(new URL('../dist/cli/main.js', import.meta.url).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('../src/cli/main.ts', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
