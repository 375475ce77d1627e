// The external tools some tests compare against (dtc, the cross binutils, qemu-user, qemu-system,
// the host gcc). Locally a missing tool skips the test, with the reason in node:test's report; in
// CI (RPROC_REQUIRE_CROSS_TOOLS=1, set by .ci/run after installing every one of them) a missing
// tool fails, so a green CI run really ran every comparison.

import { spawnSync } from 'node:child_process';

/** The first of `candidates` that runs (`--version` exits 0), or undefined. */
export function findTool(...candidates: string[]): string | undefined {
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.error === undefined && r.status === 0) return c;
  }
  return undefined;
}

export interface Tools<K extends string> {
  /** node:test's `skip` option: false when every tool is there, else which are missing. */
  readonly skip: string | false;
  /** The command of tool `name` (only called by a test that did not skip). */
  get(name: K): string;
}

/**
 * The tools a test needs, each named by its candidate commands (the first that runs is used).
 * Throws at once when one is missing and RPROC_REQUIRE_CROSS_TOOLS=1.
 */
export function needTools<K extends string>(spec: Readonly<Record<K, readonly string[]>>): Tools<K> {
  const found = new Map<K, string>();
  const missing: string[] = [];
  for (const name of Object.keys(spec) as K[]) {
    const candidates = spec[name];
    const tool = findTool(...candidates);
    if (tool === undefined) missing.push(candidates.join(' / '));
    else found.set(name, tool);
  }
  if (missing.length > 0 && process.env['RPROC_REQUIRE_CROSS_TOOLS'] === '1') {
    throw new Error(`${missing.join(', ')} not installed, and RPROC_REQUIRE_CROSS_TOOLS=1 requires it`);
  }
  return {
    skip: missing.length === 0 ? false : `${missing.join(', ')} not installed`,
    get(name: K): string {
      const tool = found.get(name);
      if (tool === undefined) throw new Error(`${spec[name].join(' / ')} not installed`);
      return tool;
    },
  };
}
