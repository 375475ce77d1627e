// Restart conformance: 100 crash/recover cycles of the C echo firmware with the echo checked after
// each, deterministic (so it takes seconds, not minutes), through the scenario file in examples/
// and through the TypeScript API, where memory must stay flat: the host heap after GC, the DMA
// pool's allocations, the live channels and endpoints, the listeners on the processor.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { openBoard, runScenarioFile } from '../testing/scenario.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/restart-conformance.yaml', import.meta.url));
const CYCLES = 100;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('restart conformance', () => {
  it(`passes ${CYCLES} crash/recover cycles as the example scenario`, async () => {
    const r = await runScenarioFile(EXAMPLE);
    assert.equal(r.status, 'passed', r.failure?.message);
    assert.equal(r.steps, 4 + CYCLES * 5 + 1, 'every step of every cycle ran');
  });

  it(`echoes after each of ${CYCLES} recoveries with memory flat`, async () => {
    const b = await openBoard({ firmware: { rproc0: 'echo.elf' }, recovery: { rproc0: false } });
    try {
      const core = b.soc.core('rproc0');
      await b.boot('rproc0');
      const sample = (): { heap: number; dma: number; channels: number } => ({
        heap: heapAfterGc(),
        dma: core.pool?.outstanding ?? -1,
        channels: b.soc.rpmsg.channels.length,
      });
      let warm: ReturnType<typeof sample> | undefined;
      let middle: ReturnType<typeof sample> | undefined;
      const half = 10 + Math.floor((CYCLES - 10) / 2);
      for (let i = 1; i <= CYCLES; i++) {
        await b.crash('rproc0');
        await b.expect('rproc0/state:^crashed$');
        await b.recover('rproc0');
        await b.send('rpmsg-echo', `ping ${i}`);
        await b.expect(`rpmsg-echo:^ping ${i}$`);
        if (i === 10) warm = sample();
        if (i === half) middle = sample();
      }
      assert.equal(b.rproc('rproc0').crash.count, CYCLES);
      const end = sample();
      assert.ok(warm !== undefined && middle !== undefined);
      assert.equal(end.dma, warm.dma, 'DMA pool allocations flat');
      assert.equal(end.channels, 1, 'one live channel');
      // A leak grows the heap in both halves of the run; bounded buffers that fill up (the line
      // history, the rate limiters) and GC's noise show in one at most. A leak of 5 kB a cycle
      // grows each half by more than the bound.
      const halves = [middle.heap - warm.heap, end.heap - middle.heap];
      const bound = 5_000 * (half - 10);
      assert.ok(
        Math.min(...halves) < bound,
        `heap grew ${halves[0]} then ${halves[1]} bytes over two halves of ${half - 10} cycles (bound ${bound} each)`,
      );
    } finally {
      await b.close();
    }
  });
});
