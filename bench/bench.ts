// What a benchmark is and how it reports: every figure is a ratio against a baseline measured in
// the same run on the same machine (ratio = value / baseline), never an absolute time to assert.

export interface BenchRecord {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  /**
   * What the value is divided by: a record name — a bare limit measured once per run by
   * bench/bare-threads.ts (`bare/...`), another record of the same bench (`soc-scale/echo-1`), or
   * an outside program measured in the run (`qemu-riscv32/...`).
   */
  readonly baselineName: string;
  readonly ratio: number;
  /** What the value and the baseline are, for the printed table and bench/README.md. */
  readonly note?: string;
}

export interface Bench {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchRecord[]>;
}

/** A baseline figure and the name it is reported under. */
export interface Baseline {
  readonly name: string;
  readonly value: number;
}

export function record(
  name: string,
  value: number,
  baseline: Baseline,
  unit: string,
  note?: string,
): BenchRecord {
  return {
    name,
    value,
    unit,
    baseline: baseline.value,
    baselineName: baseline.name,
    ratio: value / baseline.value,
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * Median time in microseconds of `fn` over `iterations` calls, after `warmup` untimed calls.
 * The median (not the mean) keeps a GC pause or a scheduler hiccup from moving the figure.
 */
export function medianMicros(fn: () => void, iterations: number, warmup = Math.min(10, iterations)): number {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}
