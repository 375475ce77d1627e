// Core threads start whatever flags the host process has: a host started with per-process V8
// options (--expose-gc, --max-old-space-size, which Node refuses in a worker's execArgv) boots an
// rv32 core and a js core, each in a thread of its own and both in one group thread. Spawned, as a
// user would start it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const socUrl = new URL('./virtual-soc.ts', import.meta.url).href;
const firmwareUrl = new URL('./default-firmware.ts', import.meta.url).href;
const kindsUrl = new URL('../cpu/core-kinds.ts', import.meta.url).href;

/** Boot the default board (rv32 echo.elf + js rpmsg-echo) and echo once on each core. */
function script(coreThreads: number): string {
  return `
const { VirtualSoc } = await import(${JSON.stringify(socUrl)});
await import(${JSON.stringify(kindsUrl)});
const { defaultFirmwareStore } = await import(${JSON.stringify(firmwareUrl)});
const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false,
  firmware: { rproc0: 'echo.elf' }, coreThreads: ${coreThreads} });
try {
  await soc.start();
  for (const core of ['rproc0', 'rproc1']) {
    await soc.rproc(core).boot();
    const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: core, timeoutMs: 20000 });
    const got = new Promise((resolve) => ch.open((d) => resolve(Buffer.from(d).toString())));
    await ch.ept.send(new TextEncoder().encode('hi ' + core));
    console.log(await got);
  }
} finally {
  await soc.close();
}
`;
}

describe('core threads under any host flags', () => {
  for (const [what, coreThreads] of [
    ['a thread per core', 2],
    ['one group thread', 1],
  ] as const) {
    it(`node --expose-gc --max-old-space-size=512: both cores boot and echo (${what})`, () => {
      const r = spawnSync(
        process.execPath,
        [
          '--expose-gc',
          '--max-old-space-size=512',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script(coreThreads),
        ],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
      assert.deepEqual(r.stdout.trim().split('\n'), ['hi rproc0', 'hi rproc1']);
    });
  }
});
