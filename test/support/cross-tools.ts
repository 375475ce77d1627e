// Finding the cross binutils that some tests compare against. Locally a missing tool skips the
// test with a reason; in CI (RPROC_REQUIRE_CROSS_TOOLS=1, set by .ci/run after installing them)
// a missing tool fails it, so a green CI run really ran the comparison.

import { spawnSync } from 'node:child_process';

export function findTool(...candidates: string[]): string | undefined {
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

/** The tool, or a skip reason (string) when it is absent and CI does not require it. */
export function requireTool(...candidates: string[]): { tool: string } | { skip: string } {
  const tool = findTool(...candidates);
  if (tool !== undefined) return { tool };
  if (process.env['RPROC_REQUIRE_CROSS_TOOLS'] === '1') {
    throw new Error(
      `none of ${candidates.join(', ')} is installed, and RPROC_REQUIRE_CROSS_TOOLS=1 requires it`,
    );
  }
  return { skip: `${candidates.join(' / ')} not installed` };
}
