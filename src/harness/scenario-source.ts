// Reading a scenario file (YAML, or JSON — which YAML 1.2 reads as it is) into a tree whose every
// node knows its line, so that each complaint about the file names the file, the line and the key.
// Parsed with the `yaml` package (eemeli/yaml): YAML 1.2 core schema, duplicate keys refused,
// anchors and aliases resolved, one document per file.

import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
} from 'yaml';
import { RprocError } from '../util/errors.ts';

export type SourceNode =
  | { readonly kind: 'map'; readonly line: number; readonly entries: readonly SourceEntry[] }
  | { readonly kind: 'seq'; readonly line: number; readonly items: readonly SourceNode[] }
  | { readonly kind: 'scalar'; readonly line: number; readonly value: string | number | boolean | null };

export interface SourceEntry {
  readonly key: string;
  readonly line: number;
  readonly value: SourceNode;
}

/** A complaint about a scenario file: `FILE:LINE: PATH: what is wrong`, one line. */
export class ScenarioError extends RprocError {
  readonly file: string;
  readonly line: number;
  readonly path: string;

  constructor(file: string, line: number, path: string, detail: string) {
    super('EINVAL', 'scenario', `${file}:${line}: ${path === '' ? '' : `${path}: `}${detail}`);
    this.file = file;
    this.line = line;
    this.path = path;
  }
}

/** Nesting deeper than this is refused (a hostile file must not exhaust the stack). */
const MAX_DEPTH = 64;

/** Parse `text` (the contents of `file`) into a located tree. */
export function readScenarioSource(file: string, text: string): SourceNode {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];
  const lineOf = (offset: number | undefined): number =>
    offset === undefined ? 1 : counter.linePos(offset).line;
  for (const doc of list) {
    const err = doc.errors[0];
    if (err !== undefined) {
      throw new ScenarioError(
        file,
        lineOf(err.pos[0]),
        '',
        `not valid YAML or JSON: ${firstLine(err.message)}`,
      );
    }
  }
  if (list.length > 1) {
    throw new ScenarioError(
      file,
      lineOf(list[1]?.range[0]),
      '',
      'a scenario file holds one document, this one has more',
    );
  }
  const doc = list[0];
  if (doc === undefined || doc.contents === null) throw new ScenarioError(file, 1, '', 'the file is empty');
  const convert = (node: unknown, depth: number, seen: ReadonlySet<unknown>): SourceNode => {
    const line = lineOf(isNodeWithRange(node) ? node.range?.[0] : undefined);
    if (depth > MAX_DEPTH)
      throw new ScenarioError(file, line, '', `nested more than ${MAX_DEPTH} levels deep`);
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined || seen.has(target))
        throw new ScenarioError(file, line, '', `alias *${node.source} refers to nothing usable`);
      return convert(target, depth + 1, new Set([...seen, target]));
    }
    if (isMap(node)) {
      const entries: SourceEntry[] = [];
      for (const pair of node.items) {
        const k: unknown = pair.key;
        const keyLine = lineOf(isNodeWithRange(k) ? k.range?.[0] : undefined);
        if (!isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number'))
          throw new ScenarioError(file, keyLine, '', 'keys must be plain words');
        const value: unknown = pair.value;
        entries.push({
          key: String(k.value),
          line: keyLine,
          value:
            value === null ? { kind: 'scalar', line: keyLine, value: null } : convert(value, depth + 1, seen),
        });
      }
      return { kind: 'map', line, entries };
    }
    if (isSeq(node))
      return { kind: 'seq', line, items: node.items.map((i: unknown) => convert(i, depth + 1, seen)) };
    if (isScalar(node)) {
      const v: unknown = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        return { kind: 'scalar', line, value: v };
      throw new ScenarioError(file, line, '', `a value of type ${typeof v} is not allowed here`);
    }
    throw new ScenarioError(file, line, '', 'unexpected content');
  };
  return convert(doc.contents, 0, new Set());
}

function isNodeWithRange(n: unknown): n is Node {
  return typeof n === 'object' && n !== null && 'range' in n;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
