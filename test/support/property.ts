// Property-test harness over fast-check: prints the seed of every run, replays the failing seeds
// kept in test/seeds/<name>.json first, and keeps a new failing seed there so that it is replayed
// on every later run until the bug is fixed (then the seed file still guards against regression).
//
//   FC_SEED=123 npm run test:unit -- rsc     replay one seed
//   FC_RUNS=100000 npm run test:unit -- rsc  run longer (scripts/fuzz.ts sets this)

import fc from 'fast-check';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const seedsDir = join(import.meta.dirname, '..', 'seeds');

interface KeptSeed {
  readonly seed: number;
  readonly path?: string;
}

function readKept(name: string): KeptSeed[] {
  const file = join(seedsDir, `${name}.json`);
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (x): x is KeptSeed => typeof x === 'object' && x !== null && typeof (x as KeptSeed).seed === 'number',
  );
}

function keep(name: string, entry: KeptSeed): void {
  const kept = readKept(name);
  if (kept.some((k) => k.seed === entry.seed && k.path === entry.path)) return;
  mkdirSync(seedsDir, { recursive: true });
  writeFileSync(join(seedsDir, `${name}.json`), JSON.stringify([...kept, entry], null, 2) + '\n');
}

export interface PropertyOptions {
  /** Runs in the normal test suite (FC_RUNS overrides). */
  readonly numRuns?: number;
}

/**
 * Check `property` (a fast-check property) under a printed seed; replay kept failing seeds first.
 * `name` names the seed file: test/seeds/<name>.json.
 */
export function checkProperty<Ts>(
  name: string,
  property: fc.IProperty<Ts>,
  options: PropertyOptions = {},
): void {
  // A kept path replays the exact shrunk counterexample; a seed alone replays the whole run.
  for (const k of readKept(name)) {
    fc.assert(property, {
      seed: k.seed,
      numRuns: options.numRuns ?? 200,
      ...(k.path === undefined ? {} : { path: k.path }),
    });
  }
  const envSeed = process.env['FC_SEED'];
  const envRuns = process.env['FC_RUNS'];
  const seed = envSeed !== undefined ? Number(envSeed) : (Math.random() * 0x7fffffff) | 0;
  const numRuns = envRuns !== undefined ? Number(envRuns) : (options.numRuns ?? 200);
  console.log(`# property ${name}: seed ${seed}, ${numRuns} runs`);
  const details = fc.check(property, { seed, numRuns });
  if (details.failed) {
    keep(name, {
      seed,
      ...(details.counterexamplePath === null ? {} : { path: details.counterexamplePath }),
    });
    throw new Error(
      `property ${name} failed with seed ${seed} (kept in test/seeds/${name}.json):\n` +
        (fc.defaultReportMessage(details) ?? ''),
    );
  }
}

/**
 * checkProperty for asynchronous properties (fc.asyncProperty, e.g. around fc.asyncModelRun):
 * the same kept seeds, printed seed and FC_SEED/FC_RUNS overrides, awaited. checkProperty cannot
 * take one: fc.check returns a promise for an async property, which it would read as a pass.
 */
export async function checkAsyncProperty<Ts>(
  name: string,
  property: fc.IAsyncProperty<Ts>,
  options: PropertyOptions = {},
): Promise<void> {
  for (const k of readKept(name)) {
    await fc.assert(property, {
      seed: k.seed,
      numRuns: options.numRuns ?? 200,
      ...(k.path === undefined ? {} : { path: k.path }),
    });
  }
  const envSeed = process.env['FC_SEED'];
  const envRuns = process.env['FC_RUNS'];
  const seed = envSeed !== undefined ? Number(envSeed) : (Math.random() * 0x7fffffff) | 0;
  const numRuns = envRuns !== undefined ? Number(envRuns) : (options.numRuns ?? 200);
  console.log(`# property ${name}: seed ${seed}, ${numRuns} runs`);
  const details = await fc.check(property, { seed, numRuns });
  if (details.failed) {
    keep(name, {
      seed,
      ...(details.counterexamplePath === null ? {} : { path: details.counterexamplePath }),
    });
    throw new Error(
      `property ${name} failed with seed ${seed} (kept in test/seeds/${name}.json):\n` +
        (fc.defaultReportMessage(details) ?? ''),
    );
  }
}
