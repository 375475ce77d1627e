// Structural check of a Chrome / Perfetto trace-event file, the rules its importers apply: every
// event has a known ph, a timestamp in µs and non-zero integer pid/tid; B/E nest per thread; X has
// a duration; counters carry numbers; every flow has exactly one start and one end sharing cat,
// name and id, the end not before the start, each bound to a slice on its own thread.
// Returns the problems found (empty: the file is well formed); used by tests and by users' CI.

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'b', 'e', 'n', 's', 't', 'f', 'M']);
const METADATA = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']);

interface Checked {
  readonly index: number;
  readonly ph: string;
  readonly name: string;
  readonly cat: string;
  readonly ts: number;
  readonly pid: number;
  readonly tid: number;
  readonly dur: number;
  readonly id: unknown;
  readonly bp: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** Problems in `file` (the parsed JSON: object form with traceEvents, or array form). */
export function checkTraceFile(file: unknown): string[] {
  const problems: string[] = [];
  const list = Array.isArray(file) ? file : isRecord(file) ? file['traceEvents'] : undefined;
  if (!Array.isArray(list)) return ['no traceEvents array'];
  const timed: Checked[] = [];
  list.forEach((raw: unknown, index) => {
    const where = `event ${index}`;
    if (!isRecord(raw)) {
      problems.push(`${where} is not an object`);
      return;
    }
    const ph = raw['ph'];
    if (typeof ph !== 'string' || !PHASES.has(ph)) {
      problems.push(`${where} has no known ph (${JSON.stringify(ph)})`);
      return;
    }
    const name = raw['name'];
    if (typeof name !== 'string') problems.push(`${where} (${ph}) has no name`);
    const pid = raw['pid'];
    if (!isId(pid)) problems.push(`${where} (${ph}) pid ${JSON.stringify(pid)} is not a non-zero integer`);
    if (ph === 'M') {
      const kind = typeof name === 'string' ? name : '';
      if (!METADATA.has(kind)) problems.push(`${where}: unknown metadata ${JSON.stringify(name)}`);
      const args = raw['args'];
      if (!isRecord(args)) problems.push(`${where}: metadata without args`);
      else if (kind.endsWith('_name') && typeof args['name'] !== 'string')
        problems.push(`${where}: ${kind} without args.name`);
      if (name === 'thread_name' && !isId(raw['tid'])) problems.push(`${where}: thread_name without tid`);
      return;
    }
    const tid = raw['tid'];
    if (!isId(tid)) problems.push(`${where} (${ph}) tid ${JSON.stringify(tid)} is not a non-zero integer`);
    const ts = raw['ts'];
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)
      problems.push(`${where} (${ph}) ts ${JSON.stringify(ts)} is not a time in µs`);
    const dur = raw['dur'];
    if (ph === 'X' && (typeof dur !== 'number' || !Number.isFinite(dur) || dur < 0))
      problems.push(`${where} (X) has no duration`);
    if (ph === 'C') {
      const args = raw['args'];
      if (!isRecord(args) || Object.keys(args).length === 0) problems.push(`${where} (C) has no series`);
      else
        for (const [k, v] of Object.entries(args))
          if (typeof v !== 'number' || !Number.isFinite(v))
            problems.push(`${where} (C) series ${k} is not a number`);
    }
    if ((ph === 's' || ph === 't' || ph === 'f') && !isId(raw['id']))
      problems.push(`${where} (${ph}) flow without an id`);
    const cat = raw['cat'];
    timed.push({
      index,
      ph,
      name: typeof name === 'string' ? name : '',
      cat: typeof cat === 'string' ? cat : '',
      ts: typeof ts === 'number' ? ts : 0,
      pid: typeof pid === 'number' ? pid : 0,
      tid: typeof tid === 'number' ? tid : 0,
      dur: typeof dur === 'number' ? dur : 0,
      id: raw['id'],
      bp: raw['bp'],
    });
  });
  problems.push(...checkNesting(timed), ...checkFlows(timed));
  return problems;
}

/** B/E per thread in time order (stable): every E closes the innermost open B, none left open. */
function checkNesting(events: readonly Checked[]): string[] {
  const problems: string[] = [];
  const open = new Map<string, Checked[]>();
  const ordered = events.filter((e) => e.ph === 'B' || e.ph === 'E').sort((a, b) => a.ts - b.ts);
  for (const e of ordered) {
    const key = `${e.pid}/${e.tid}`;
    const stack = open.get(key) ?? [];
    open.set(key, stack);
    if (e.ph === 'B') stack.push(e);
    else if (stack.pop() === undefined)
      problems.push(`event ${e.index} (E) at ${e.ts} µs on ${key} closes nothing`);
  }
  for (const [key, stack] of open)
    for (const e of stack) problems.push(`event ${e.index} (B "${e.name}") on ${key} is never closed`);
  return problems;
}

/** Whether a slice on the same thread encloses time `ts`. */
function enclosed(e: Checked, slices: ReadonlyMap<string, Checked[]>): boolean {
  const list = slices.get(`${e.pid}/${e.tid}`) ?? [];
  return list.some((x) => x.ts <= e.ts && e.ts <= x.ts + x.dur);
}

function checkFlows(events: readonly Checked[]): string[] {
  const problems: string[] = [];
  const slices = new Map<string, Checked[]>();
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const key = `${e.pid}/${e.tid}`;
    const list = slices.get(key) ?? [];
    list.push(e);
    slices.set(key, list);
  }
  const flows = new Map<string, { starts: Checked[]; ends: Checked[] }>();
  for (const e of events) {
    if (e.ph !== 's' && e.ph !== 'f') continue;
    const key = `${e.cat}|${e.name}|${String(e.id)}`;
    const f = flows.get(key) ?? { starts: [], ends: [] };
    (e.ph === 's' ? f.starts : f.ends).push(e);
    flows.set(key, f);
    if (!enclosed(e, slices))
      problems.push(
        `event ${e.index} (${e.ph} "${e.name}") at ${e.ts} µs is not inside a slice on its thread`,
      );
    if (e.ph === 'f' && e.bp !== 'e')
      problems.push(`event ${e.index} (f "${e.name}") should bind to its enclosing slice (bp "e")`);
  }
  for (const [key, { starts, ends }] of flows) {
    if (starts.length !== 1 || ends.length !== 1) {
      problems.push(`flow ${key} has ${starts.length} start(s) and ${ends.length} end(s)`);
      continue;
    }
    const [s] = starts;
    const [f] = ends;
    if (s !== undefined && f !== undefined && f.ts < s.ts)
      problems.push(`flow ${key} ends at ${f.ts} µs, before it starts at ${s.ts} µs`);
  }
  return problems;
}
