// The layer rule of docs/architecture.md, checked on every import of src/: a top-level folder
// imports only folders of a lower layer (and itself), never one beside it or above it, so no two
// folders can import each other. Type-only and dynamic imports count; tests (*.test.ts) are
// integration tests and may import anything. A new top-level folder fails until it has a layer.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layers, lowest first; folders on one line sit beside each other and may not import each
 * other. To add a folder, put it on the line of the layers it may import from plus one (and in
 * docs/architecture.md). `.` stands for files directly in src/ (the package's root entry), which
 * may import every folder.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['elf', 'rsc', 'virtio'],
  ['remoteproc'],
  ['rpmsg', 'console', 'platform'],
  ['soc', 'linux'],
  ['cpu', 'gdb', 'monitor'],
  ['harness'],
  ['cli', 'testing'],
  ['.'],
];

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly where: string;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !/\.test\.ts$|\.d\.ts$/.test(name)) out.push(path);
  }
  return out;
}

function folderOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  return parts.length === 1 ? '.' : (parts[0] ?? '.');
}

/** Every import of a source file into another top-level folder of src/. */
function crossFolderImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? '';
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC + sep)) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const line = text.slice(0, m.index).split('\n').length;
      edges.push({ from, to, where: `${relative(SRC, file)}:${line} imports ${spec}` });
    }
  }
  return edges;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

describe('layers of src/ (docs/architecture.md)', () => {
  const edges = crossFolderImports();

  it('every top-level folder of src/ has a layer', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    const missing = folders.filter((f) => layerOf(f) < 0);
    assert.deepEqual(
      missing,
      [],
      `add these folders to LAYERS and to docs/architecture.md: ${missing.join(', ')}`,
    );
  });

  it('imports only go down: never up the layer list, never to a folder beside', () => {
    const bad = edges
      .filter((e) => layerOf(e.to) >= layerOf(e.from))
      .map(
        (e) =>
          `${e.from} -> ${e.to} (${layerOf(e.to) > layerOf(e.from) ? 'upward' : 'sideways'}): ${e.where}`,
      );
    assert.deepEqual(bad, []);
  });

  it('no two folders import each other', () => {
    const pairs = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    const cycles = [...pairs].filter((p) => {
      const [a, b] = p.split(' -> ');
      return a !== undefined && b !== undefined && a < b && pairs.has(`${b} -> ${a}`);
    });
    assert.deepEqual(cycles, []);
  });

  it('the check sees the imports it must see (a folder that imports another is found)', () => {
    // Guard against a regex that silently matches nothing: these edges exist by design.
    const pairs = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    for (const expected of ['remoteproc -> util', 'rpmsg -> remoteproc', 'cpu -> soc', 'cli -> soc'])
      assert.ok(pairs.has(expected), `expected an import ${expected}`);
  });

  it('docs/architecture.md lists every layer folder', () => {
    const doc = readFileSync(resolve(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    const missing = LAYERS.flat().filter((f) => f !== '.' && !doc.includes(`\`${f}/\``));
    assert.deepEqual(missing, []);
  });
});
