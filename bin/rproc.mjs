#!/usr/bin/env node
// The `rproc` command. An installed package runs the compiled CLI in dist/ and nothing else. A
// source checkout (src/ present) runs dist/ while it is up to date with the sources (npm ci and
// npm run build make it), else the TypeScript sources through tsx, a development dependency.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkout = existsSync(join(root, 'src', 'cli', 'main.ts'));

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

let entry;
try {
  if (!checkout || distFresh()) {
    entry = await import(new URL('../dist/cli/process-entry.js', import.meta.url).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    entry = await import(new URL('../src/cli/process-entry.ts', import.meta.url).href);
  }
} catch (e) {
  const where = checkout ? 'run npm ci (or npm run build) in the checkout' : 'reinstall the package';
  process.stderr.write(
    `rproc: cannot load the command (${e instanceof Error ? e.message : String(e)}); ${where}\n`,
  );
  process.exit(1);
}
await entry.runRproc(process.argv.slice(2));
