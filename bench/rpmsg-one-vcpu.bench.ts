// rpmsg throughput in the shared-vCPU regime, on purpose: a child process pinned to one vCPU with
// `taskset` (bench/one-vcpu-child.ts) measures the host → js core sink (200 k × 496 bytes per round)
// and, alternated with it in the same process, the bare SPSC ring it is divided by. Record
// rpmsg/throughput-496B-one-vcpu against bare/ring-512B-one-vcpu (issue 15 asks ≥ 0.5 in both
// regimes; the quiet one is rpmsg/throughput-496B). Without taskset (not Linux, util-linux
// missing) it says so and records nothing.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { record, type Bench, type BenchRecord } from './bench.ts';
import { median, warnIfStale } from './soc-bench-support.ts';

const CHILD = fileURLToPath(new URL('./one-vcpu-child.ts', import.meta.url));
const ROUNDS = Number(process.env['RPMSG_BENCH_ROUNDS'] ?? 5);

/** The first CPU this process may run on (a container may not allow CPU 0). */
function firstCpu(): number {
  try {
    const m = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

function kmsg(xs: readonly number[]): string {
  return `${(Math.min(...xs) / 1000).toFixed(0)}..${(Math.max(...xs) / 1000).toFixed(0)} k`;
}

const bench: Bench = {
  name: 'rpmsg-one-vcpu',
  description: `rpmsg host → js core sink and the bare ring, both pinned to one vCPU (taskset), median of ${ROUNDS} rounds`,
  run(): Promise<BenchRecord[]> {
    warnIfStale();
    if (spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status !== 0) {
      console.warn('  rpmsg-one-vcpu: no taskset here, nothing measured');
      return Promise.resolve([]);
    }
    const child = spawnSync(
      'taskset',
      ['-c', String(firstCpu()), process.execPath, '--import', 'tsx', CHILD],
      {
        encoding: 'utf8',
        timeout: 15 * 60_000,
        env: { ...process.env, RPMSG_BENCH_ROUNDS: String(ROUNDS) },
      },
    );
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !last.startsWith('{')) {
      throw new Error(
        `one-vcpu-child exited ${String(child.status)}: ${child.stderr.trim().split('\n').at(-1) ?? ''}`,
      );
    }
    const got = JSON.parse(last) as { ring: number[]; sink: number[] };
    const ring = { name: 'bare/ring-512B-one-vcpu', value: median(got.ring) };
    return Promise.resolve([
      record(
        ring.name,
        ring.value,
        ring,
        'msg/s',
        `the bare ring pinned to one vCPU with its consumer; ${kmsg(got.ring)}`,
      ),
      record(
        'rpmsg/throughput-496B-one-vcpu',
        median(got.sink),
        ring,
        'msg/s',
        `host and core pinned to one vCPU; ${kmsg(got.sink)}`,
      ),
    ]);
  },
};

export default bench;
