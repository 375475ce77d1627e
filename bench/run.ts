// `npm run bench` runs every benchmark in bench/*.bench.ts; `npm run bench -- NAME` runs those
// whose name contains NAME. Results go to bench/results/latest.json as a list of
// {name, value, unit, baseline, baselineName, ratio} records; records of benchmarks not run this
// time are kept. The bare baselines (bench/bare-threads.ts) are measured once, by the first bench
// that needs them, and written as the `bare/...` records of this run.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measuredBaselines } from './bare-threads.ts';
import type { Bench, BenchRecord } from './bench.ts';

const benchDir = import.meta.dirname;
const resultsFile = join(benchDir, 'results', 'latest.json');

function isBench(x: unknown): x is Bench {
  return typeof x === 'object' && x !== null && 'name' in x && 'run' in x && typeof x.run === 'function';
}

async function loadBenches(): Promise<Bench[]> {
  const benches: Bench[] = [];
  for (const file of readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()) {
    const mod: unknown = await import(join(benchDir, file));
    const bench = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
    if (!isBench(bench)) throw new Error(`${file} does not export a default Bench`);
    benches.push(bench);
  }
  return benches;
}

function readPrevious(): BenchRecord[] {
  if (!existsSync(resultsFile)) return [];
  const parsed: unknown = JSON.parse(readFileSync(resultsFile, 'utf8'));
  return Array.isArray(parsed) ? (parsed as BenchRecord[]) : [];
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

const filters = process.argv.slice(2);
const selected = (await loadBenches()).filter(
  (b) => filters.length === 0 || filters.some((f) => b.name.includes(f)),
);
if (selected.length === 0) {
  console.error(`bench: no benchmark matches ${filters.join(', ')}`);
  process.exit(2);
}

function print(records: readonly BenchRecord[]): void {
  for (const r of records) {
    console.log(
      `  ${r.name.padEnd(34)} ${fmt(r.value).padStart(10)} ${r.unit.padEnd(6)} ratio ${fmt(r.ratio).padStart(7)} of ${r.baselineName} ${fmt(r.baseline)}${r.note === undefined ? '' : `  (${r.note})`}`,
    );
  }
}

const fresh: BenchRecord[] = [];
for (const bench of selected) {
  console.log(`# ${bench.name}: ${bench.description}`);
  const records = await bench.run();
  print(records);
  fresh.push(...records);
}
const ranPrefixes = selected.map((b) => b.name);
const baselines = await measuredBaselines();
if (baselines !== undefined) {
  console.log(`# bare: the baselines of this run (regime: ${baselines.regime})`);
  print(baselines.records);
  fresh.push(...baselines.records);
  ranPrefixes.push('bare');
}

const kept = readPrevious().filter(
  (r) => !ranPrefixes.some((p) => r.name === p || r.name.startsWith(`${p}/`)),
);
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(
  resultsFile,
  JSON.stringify(
    [...kept, ...fresh].map(({ name, value, unit, baseline, baselineName, ratio }) => ({
      name,
      value,
      unit,
      baseline,
      baselineName,
      ratio,
    })),
    null,
    2,
  ) + '\n',
);
console.log(`bench: wrote ${resultsFile}`);
