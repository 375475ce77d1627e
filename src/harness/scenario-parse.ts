// From a scenario file's located tree (scenario-source.ts) to the Scenario the runner executes:
// every key checked (unknown keys, wrong types, bad durations, bad regular expressions refused with
// the file, line and key in one line). The format is documented in docs/ci.md and, key by key, in
// docs/scenario.schema.json, which a test holds to agree with this reader.

import { basename, dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RprocError } from '../util/errors.ts';
import { CRASH_TYPES, type CrashTypeName, type Direction } from './faults.ts';
import { parseLinePattern, type LinePattern } from './line-pattern.ts';
import { ScenarioError, readScenarioSource, type SourceEntry, type SourceNode } from './scenario-source.ts';
import type {
  FaultKind,
  Scenario,
  ScenarioCore,
  ScenarioFault,
  ScenarioMode,
  ScenarioStep,
  StepPlace,
} from './scenario-types.ts';

const SCENARIO_DEFAULT_TIMEOUT_MS = 5000;
/** A repeat of more than this many rounds is refused (a typo must not run for days). */
const MAX_REPEAT = 100_000;
const MAX_DURATION_MS = 24 * 3600 * 1000;

const DIRECTIONS: readonly Direction[] = ['to-remote', 'to-host', 'both'];
const FAULT_KINDS: readonly FaultKind[] = [
  'lose-kicks',
  'delay-kicks',
  'exhaust-tx-buffers',
  'stall',
  'crash',
];
const STEP_KINDS = [
  'boot',
  'shutdown',
  'crash',
  'recover',
  'send',
  'expect',
  'wait',
  'coredump',
  'fault',
  'heal',
  'repeat',
] as const;
type StepKind = (typeof STEP_KINDS)[number];

/** Parse the scenario in `text`; `file` names it in errors and anchors relative paths. */
export function parseScenario(file: string, text: string): Scenario {
  return new ScenarioReader(file).scenario(readScenarioSource(file, text));
}

/**
 * A fault from the command line (`rproc run --fault`): `KIND:CORE[,key=value...]` (for stall,
 * `stall:CHANNEL[,core=NAME]`), with the keys of the scenario format and `for=DURATION`; values
 * are read as YAML scalars (`3`, `0.5`, `5ms`). `on-line=PATTERN` takes the rest of the text, commas
 * included, so it comes last. Errors are one line naming the argument.
 */
export function parseFaultArg(text: string): Extract<ScenarioStep, { kind: 'fault' }> {
  const fail = (detail: string): RprocError =>
    new RprocError('EINVAL', 'fault', `--fault "${text}": ${detail}`);
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  if (!(FAULT_KINDS as readonly string[]).includes(kind))
    throw fail(`unknown fault "${kind}" (expected one of ${FAULT_KINDS.join(', ')})`);
  const params: SourceEntry[] = [];
  const outer: SourceEntry[] = [];
  let rest = colon < 0 ? '' : text.slice(colon + 1);
  let first = true;
  while (rest !== '') {
    const online = /^on-line=/.exec(rest);
    const comma = online === null ? rest.indexOf(',') : -1;
    const item = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (!first) throw fail(`"${item}" is not key=value`);
      params.push({
        key: kind === 'stall' ? 'channel' : 'core',
        line: 1,
        value: { kind: 'scalar', line: 1, value: item },
      });
    } else {
      const key = item.slice(0, eq);
      const raw = item.slice(eq + 1);
      let value: unknown = raw;
      if (key !== 'on-line' && key !== 'core' && key !== 'channel') {
        try {
          value = parseYaml(raw);
        } catch {
          value = raw;
        }
      }
      const scalar: SourceNode = {
        kind: 'scalar',
        line: 1,
        value:
          typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string' ? value : raw,
      };
      (key === 'for' ? outer : params).push({ key, line: 1, value: scalar });
    }
    first = false;
  }
  const node: SourceNode = {
    kind: 'map',
    line: 1,
    entries: [{ key: kind, line: 1, value: { kind: 'map', line: 1, entries: params } }, ...outer],
  };
  const reader = new ScenarioReader('--fault', (_line, path, detail) =>
    fail(`${path.replace(/^fault\.[a-z-]+\.?/, '')}${path === `fault.${kind}` ? '' : ': '}${detail}`),
  );
  return reader.faultStep(node);
}

type Map = Extract<SourceNode, { kind: 'map' }>;

class ScenarioReader {
  private readonly file: string;
  private readonly dir: string;
  private readonly coreRefs: (StepPlace & { core: string })[] = [];

  private readonly makeError: (line: number, path: string, detail: string) => RprocError;

  constructor(file: string, makeError?: (line: number, path: string, detail: string) => RprocError) {
    this.file = file;
    this.makeError = makeError ?? ((line, path, detail) => new ScenarioError(file, line, path, detail));
    this.dir = dirname(resolve(file));
  }

  scenario(root: SourceNode): Scenario {
    const m = this.map(root, '', [
      'name',
      'description',
      'board',
      'mode',
      'timeout',
      'fail-on',
      'cores',
      'steps',
    ]);
    const get = (k: string): SourceEntry | undefined => m.entries.find((e) => e.key === k);
    const name = get('name');
    const description = get('description');
    const board = get('board');
    const mode = get('mode');
    const timeout = get('timeout');
    const failOn = get('fail-on');
    const cores = get('cores');
    const steps = get('steps');
    if (steps === undefined) throw this.error(root.line, '', 'no steps: a scenario needs a "steps" list');
    const stepList = this.steps(steps.value, 'steps');
    return {
      file: this.file,
      name: name === undefined ? basename(this.file, extname(this.file)) : this.string(name.value, 'name'),
      ...(description === undefined ? {} : { description: this.string(description.value, 'description') }),
      ...(board === undefined ? {} : { board: resolve(this.dir, this.string(board.value, 'board')) }),
      boardLine: board?.line ?? root.line,
      mode:
        mode === undefined
          ? 'deterministic'
          : this.oneOf<ScenarioMode>(mode.value, 'mode', ['deterministic', 'threads']),
      timeoutMs:
        timeout === undefined ? SCENARIO_DEFAULT_TIMEOUT_MS : this.duration(timeout.value, 'timeout'),
      failOn: failOn === undefined ? [] : this.patterns(failOn.value, 'fail-on'),
      cores: cores === undefined ? [] : this.cores(cores.value),
      steps: stepList,
      coreRefs: this.coreRefs,
    };
  }

  // ---- cores ----------------------------------------------------------------------------------

  private cores(node: SourceNode): ScenarioCore[] {
    const m = this.map(node, 'cores');
    return m.entries.map((e) => {
      const path = `cores.${e.key}`;
      this.coreRefs.push({ core: e.key, line: e.line, path });
      if (e.value.kind === 'scalar')
        return { name: e.key, firmware: this.firmware(e.value, path), recovery: true, line: e.line };
      const c = this.map(e.value, path, ['firmware', 'recovery']);
      const fw = this.required(c, path, 'firmware');
      const recovery = this.optional(c, 'recovery');
      return {
        name: e.key,
        firmware: this.firmware(fw.value, `${path}.firmware`),
        recovery:
          recovery === undefined
            ? true
            : this.oneOf(recovery.value, `${path}.recovery`, ['auto', 'manual']) === 'auto',
        line: e.line,
      };
    });
  }

  /** A name the firmware store knows (no slash), or a path relative to the scenario file. */
  private firmware(node: SourceNode, path: string): string {
    const s = this.string(node, path);
    return s.includes('/') ? resolve(this.dir, s) : s;
  }

  // ---- steps ----------------------------------------------------------------------------------

  private steps(node: SourceNode, path: string): ScenarioStep[] {
    if (node.kind !== 'seq') throw this.error(node.line, path, `must be a list of steps, not ${what(node)}`);
    if (node.items.length === 0) throw this.error(node.line, path, 'the list of steps is empty');
    return node.items.map((item, i) => this.step(item, `${path}[${i}]`));
  }

  private step(node: SourceNode, path: string): ScenarioStep {
    if (node.kind !== 'map')
      throw this.error(
        node.line,
        path,
        `a step is a map with one of ${STEP_KINDS.join(', ')}, not ${what(node)}`,
      );
    const [first, second] = node.entries;
    if (first === undefined)
      throw this.error(node.line, path, `an empty step (expected one of ${STEP_KINDS.join(', ')})`);
    if (!(STEP_KINDS as readonly string[]).includes(first.key))
      throw this.error(
        first.line,
        path,
        `unknown step "${first.key}" (expected one of ${STEP_KINDS.join(', ')})`,
      );
    if (second !== undefined)
      throw this.error(
        second.line,
        path,
        `one step per list item: "${second.key}" follows "${first.key}" (start a new item with "-")`,
      );
    const kind = first.key as StepKind;
    const at = { line: first.line, path: `${path}.${kind}` };
    const v = first.value;
    switch (kind) {
      case 'boot':
      case 'shutdown':
        return { kind, ...at, core: this.core(v, at.path) };
      case 'crash': {
        if (v.kind === 'scalar') return { kind, ...at, core: this.core(v, at.path), crashType: 'fatal' };
        const m = this.map(v, at.path, ['core', 'type']);
        const type = this.optional(m, 'type');
        return {
          kind,
          ...at,
          core: this.core(this.required(m, at.path, 'core').value, `${at.path}.core`),
          crashType: type === undefined ? 'fatal' : this.crashType(type.value, `${at.path}.type`),
        };
      }
      case 'recover': {
        if (v.kind === 'scalar') return { kind, ...at, core: this.core(v, at.path) };
        const m = this.map(v, at.path, ['core', 'timeout']);
        const timeout = this.optional(m, 'timeout');
        return {
          kind,
          ...at,
          core: this.core(this.required(m, at.path, 'core').value, `${at.path}.core`),
          ...(timeout === undefined ? {} : { timeoutMs: this.duration(timeout.value, `${at.path}.timeout`) }),
        };
      }
      case 'send':
        return this.send(v, at);
      case 'expect':
        return this.expect(v, at);
      case 'wait':
        return { kind, ...at, ms: this.duration(v, at.path) };
      case 'coredump': {
        if (v.kind === 'scalar') return { kind, ...at, core: this.core(v, at.path) };
        const m = this.map(v, at.path, ['core', 'file']);
        const file = this.optional(m, 'file');
        return {
          kind,
          ...at,
          core: this.core(this.required(m, at.path, 'core').value, `${at.path}.core`),
          ...(file === undefined ? {} : { file: this.string(file.value, `${at.path}.file`) }),
        };
      }
      case 'fault':
        return this.fault(v, at);
      case 'heal': {
        if (v.kind === 'scalar') {
          const s = this.string(v, at.path);
          return s === 'all' ? { kind, ...at } : { kind, ...at, core: this.core(v, at.path) };
        }
        const m = this.map(v, at.path, ['core', 'fault']);
        const core = this.optional(m, 'core');
        const fault = this.optional(m, 'fault');
        return {
          kind,
          ...at,
          ...(core === undefined ? {} : { core: this.core(core.value, `${at.path}.core`) }),
          ...(fault === undefined ? {} : { fault: this.oneOf(fault.value, `${at.path}.fault`, FAULT_KINDS) }),
        };
      }
      case 'repeat': {
        const m = this.map(v, at.path, ['times', 'steps']);
        const times = this.integer(
          this.required(m, at.path, 'times').value,
          `${at.path}.times`,
          1,
          MAX_REPEAT,
        );
        return {
          kind,
          ...at,
          times,
          steps: this.steps(this.required(m, at.path, 'steps').value, `${at.path}.steps`),
        };
      }
    }
  }

  private send(v: SourceNode, at: StepPlace): ScenarioStep {
    const m = this.map(v, at.path, ['channel', 'core', 'text', 'hex', 'timeout']);
    const channel = this.string(this.required(m, at.path, 'channel').value, `${at.path}.channel`);
    const core = this.optional(m, 'core');
    const text = this.optional(m, 'text');
    const hexText = this.optional(m, 'hex');
    const timeout = this.optional(m, 'timeout');
    if ((text === undefined) === (hexText === undefined))
      throw this.error(m.line, at.path, 'give exactly one of "text" and "hex"');
    let data: Uint8Array;
    let shown: string;
    if (text !== undefined) {
      shown = this.scalarText(text.value, `${at.path}.text`);
      data = new TextEncoder().encode(shown);
    } else {
      const raw = this.string((hexText as SourceEntry).value, `${at.path}.hex`);
      if (!/^\s*(?:[0-9a-fA-F]{2}\s*)*$/.test(raw))
        throw this.error(
          (hexText as SourceEntry).line,
          `${at.path}.hex`,
          `"${raw}" is not bytes in hex (pairs of hex digits, spaces between bytes allowed)`,
        );
      const h = raw.replace(/\s+/g, '');
      data = Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
      shown = `hex ${h}`;
    }
    return {
      kind: 'send',
      ...at,
      channel,
      ...(core === undefined ? {} : { core: this.core(core.value, `${at.path}.core`) }),
      data,
      shown,
      ...(timeout === undefined ? {} : { timeoutMs: this.duration(timeout.value, `${at.path}.timeout`) }),
    };
  }

  /**
   * expect: PATTERN | [PATTERN, ...] | { uart|trace|state|any: REGEX, core?, timeout? }
   * | { channel: NAME, match: REGEX, core?, timeout? } | { match: PATTERN | [...], timeout? }.
   */
  private expect(v: SourceNode, at: StepPlace): ScenarioStep {
    if (v.kind !== 'map') return { kind: 'expect', ...at, patterns: this.patterns(v, at.path) };
    const m = this.map(v, at.path, ['uart', 'trace', 'state', 'any', 'channel', 'match', 'core', 'timeout']);
    const timeout = this.optional(m, 'timeout');
    const core = this.optional(m, 'core');
    const coreName = core === undefined ? undefined : this.core(core.value, `${at.path}.core`);
    const sources = m.entries.filter((e) => ['uart', 'trace', 'state', 'any', 'channel'].includes(e.key));
    const match = this.optional(m, 'match');
    const [src, extra] = sources;
    if (extra !== undefined)
      throw this.error(
        extra.line,
        `${at.path}.${extra.key}`,
        `one source per expect step ("${src?.key ?? ''}" is already given)`,
      );
    let patterns: LinePattern[];
    if (src === undefined) {
      if (match === undefined)
        throw this.error(
          m.line,
          at.path,
          'say what to expect: uart, trace, state, any, channel (with match) or match',
        );
      if (coreName !== undefined)
        throw this.error(
          core?.line ?? m.line,
          `${at.path}.core`,
          'with "match", put the core in the pattern (CORE/SOURCE:REGEX)',
        );
      patterns = this.patterns(match.value, `${at.path}.match`);
    } else if (src.key === 'channel') {
      const channel = this.string(src.value, `${at.path}.channel`);
      if (match === undefined)
        throw this.error(src.line, at.path, 'with "channel", give the regular expression in "match"');
      patterns = [
        this.pattern(
          this.string(match.value, `${at.path}.match`),
          match.line,
          `${at.path}.match`,
          { kind: 'channel', name: channel },
          coreName,
        ),
      ];
    } else {
      if (match !== undefined)
        throw this.error(
          match.line,
          `${at.path}.match`,
          `"match" goes with "channel" only; "${src.key}" holds the regular expression`,
        );
      const kind = src.key as 'uart' | 'trace' | 'state' | 'any';
      patterns = [
        this.pattern(
          this.scalarText(src.value, `${at.path}.${kind}`),
          src.line,
          `${at.path}.${kind}`,
          { kind },
          coreName,
        ),
      ];
    }
    return {
      kind: 'expect',
      ...at,
      patterns,
      ...(timeout === undefined ? {} : { timeoutMs: this.duration(timeout.value, `${at.path}.timeout`) }),
    };
  }

  private fault(v: SourceNode, at: StepPlace): Extract<ScenarioStep, { kind: 'fault' }> {
    const m = this.map(v, at.path, [...FAULT_KINDS, 'for']);
    const kinds = m.entries.filter((e) => e.key !== 'for');
    const [f, extra] = kinds;
    if (f === undefined)
      throw this.error(m.line, at.path, `name the fault: one of ${FAULT_KINDS.join(', ')}`);
    if (extra !== undefined) throw this.error(extra.line, `${at.path}.${extra.key}`, 'one fault per step');
    const forEntry = this.optional(m, 'for');
    const path = `${at.path}.${f.key}`;
    const kind = f.key as FaultKind;
    const fault = this.faultSpec(kind, f.value, path);
    return {
      kind: 'fault',
      ...at,
      fault,
      ...(forEntry === undefined ? {} : { forMs: this.duration(forEntry.value, `${at.path}.for`) }),
    };
  }

  private faultSpec(kind: FaultKind, node: SourceNode, path: string): ScenarioFault {
    const direction = (m: Map): Direction => {
      const d = this.optional(m, 'direction');
      return d === undefined ? 'to-remote' : this.oneOf(d.value, `${path}.direction`, DIRECTIONS);
    };
    const coreOf = (m: Map): string => this.core(this.required(m, path, 'core').value, `${path}.core`);
    switch (kind) {
      case 'lose-kicks': {
        const m = this.map(node, path, ['core', 'direction', 'every', 'probability', 'seed', 'count']);
        const every = this.optional(m, 'every');
        const probability = this.optional(m, 'probability');
        const seed = this.optional(m, 'seed');
        const count = this.optional(m, 'count');
        if (every !== undefined && probability !== undefined)
          throw this.error(
            probability.line,
            `${path}.probability`,
            'give "every" or "probability", not both',
          );
        return {
          kind,
          core: coreOf(m),
          direction: direction(m),
          ...(every === undefined ? {} : { every: this.integer(every.value, `${path}.every`, 1, 2 ** 31) }),
          ...(probability === undefined
            ? {}
            : { probability: this.number(probability.value, `${path}.probability`, 0, 1) }),
          ...(seed === undefined ? {} : { seed: this.integer(seed.value, `${path}.seed`, 0, 2 ** 32 - 1) }),
          ...(count === undefined ? {} : { count: this.integer(count.value, `${path}.count`, 1, 2 ** 31) }),
        };
      }
      case 'delay-kicks': {
        const m = this.map(node, path, ['core', 'direction', 'by']);
        return {
          kind,
          core: coreOf(m),
          direction: direction(m),
          delayMs: this.duration(this.required(m, path, 'by').value, `${path}.by`),
        };
      }
      case 'exhaust-tx-buffers': {
        if (node.kind === 'scalar') return { kind, core: this.core(node, path) };
        return { kind, core: coreOf(this.map(node, path, ['core'])) };
      }
      case 'stall': {
        const m = this.map(node, path, ['channel', 'core']);
        const core = this.optional(m, 'core');
        return {
          kind,
          channel: this.string(this.required(m, path, 'channel').value, `${path}.channel`),
          ...(core === undefined ? {} : { core: this.core(core.value, `${path}.core`) }),
        };
      }
      case 'crash': {
        const m = this.map(node, path, ['core', 'type', 'after-messages', 'direction', 'after', 'on-line']);
        const type = this.optional(m, 'type');
        const triggers = m.entries.filter((e) => ['after-messages', 'after', 'on-line'].includes(e.key));
        const [t, extra] = triggers;
        if (t === undefined) throw this.error(m.line, path, 'say when: after-messages, after or on-line');
        if (extra !== undefined)
          throw this.error(
            extra.line,
            `${path}.${extra.key}`,
            `one trigger per crash ("${t.key}" is already given)`,
          );
        const dirEntry = this.optional(m, 'direction');
        if (dirEntry !== undefined && t.key !== 'after-messages')
          throw this.error(dirEntry.line, `${path}.direction`, '"direction" goes with "after-messages" only');
        const trigger =
          t.key === 'after-messages'
            ? {
                afterMessages: this.integer(t.value, `${path}.after-messages`, 1, 2 ** 31),
                direction:
                  dirEntry === undefined
                    ? ('both' as const)
                    : this.oneOf(dirEntry.value, `${path}.direction`, DIRECTIONS),
              }
            : t.key === 'after'
              ? { afterMs: this.duration(t.value, `${path}.after`) }
              : {
                  onLine: this.pattern(
                    this.scalarText(t.value, `${path}.on-line`),
                    t.line,
                    `${path}.on-line`,
                  ),
                };
        return {
          kind,
          core: coreOf(m),
          crashType: type === undefined ? 'fatal' : this.crashType(type.value, `${path}.type`),
          trigger,
        };
      }
    }
  }

  // ---- values ---------------------------------------------------------------------------------

  private map(node: SourceNode, path: string, keys?: readonly string[]): Map {
    if (node.kind !== 'map')
      throw this.error(
        node.line,
        path,
        `must be a map${keys === undefined ? '' : ` (keys: ${keys.join(', ')})`}, not ${what(node)}`,
      );
    if (keys !== undefined) {
      for (const e of node.entries) {
        if (!keys.includes(e.key))
          throw this.error(e.line, path, `unknown key "${e.key}" (expected one of: ${keys.join(', ')})`);
      }
    }
    return node;
  }

  private optional(m: Map, key: string): SourceEntry | undefined {
    return m.entries.find((e) => e.key === key);
  }

  private required(m: Map, path: string, key: string): SourceEntry {
    const e = this.optional(m, key);
    if (e === undefined) throw this.error(m.line, path, `"${key}" is required`);
    return e;
  }

  private string(node: SourceNode, path: string): string {
    if (node.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '')
      throw this.error(node.line, path, `must be a non-empty string, not ${what(node)}`);
    return node.value;
  }

  /** A string, or a number or boolean taken as its text (YAML reads `text: 42` as a number). */
  private scalarText(node: SourceNode, path: string): string {
    if (node.kind !== 'scalar' || node.value === null)
      throw this.error(node.line, path, `must be text, not ${what(node)}`);
    return String(node.value);
  }

  private core(node: SourceNode, path: string): string {
    const name = this.string(node, path);
    this.coreRefs.push({ core: name, line: node.line, path });
    return name;
  }

  private oneOf<T extends string>(node: SourceNode, path: string, allowed: readonly T[]): T {
    const s = node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
    if (s === undefined || !(allowed as readonly string[]).includes(s))
      throw this.error(node.line, path, `must be one of ${allowed.join(', ')}, not ${what(node)}`);
    return s as T;
  }

  private crashType(node: SourceNode, path: string): CrashTypeName {
    return this.oneOf(node, path, Object.keys(CRASH_TYPES) as CrashTypeName[]);
  }

  private number(node: SourceNode, path: string, min: number, max: number): number {
    if (
      node.kind !== 'scalar' ||
      typeof node.value !== 'number' ||
      !Number.isFinite(node.value) ||
      node.value < min ||
      node.value > max
    )
      throw this.error(node.line, path, `must be a number from ${min} to ${max}, not ${what(node)}`);
    return node.value;
  }

  private integer(node: SourceNode, path: string, min: number, max: number): number {
    const n = this.number(node, path, min, max);
    if (!Number.isInteger(n)) throw this.error(node.line, path, `must be a whole number, not ${n}`);
    return n;
  }

  /** A duration: a number of ms, or a string like "250ms", "2s", "1.5 s", "100us", "1min". */
  private duration(node: SourceNode, path: string): number {
    let ms: number | undefined;
    if (node.kind === 'scalar' && typeof node.value === 'number') ms = node.value;
    else if (node.kind === 'scalar' && typeof node.value === 'string') {
      const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min)\s*$/.exec(node.value);
      if (m !== null)
        ms = Number(m[1]) * { us: 0.001, ms: 1, s: 1000, min: 60_000 }[m[2] as 'us' | 'ms' | 's' | 'min'];
    }
    if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS)
      throw this.error(
        node.line,
        path,
        `must be a duration such as 500ms, 2s or a number of ms (at most 24 h), not ${what(node)}`,
      );
    return ms;
  }

  private patterns(node: SourceNode, path: string): LinePattern[] {
    if (node.kind === 'seq') {
      if (node.items.length === 0) throw this.error(node.line, path, 'the list of patterns is empty');
      return node.items.map((item, i) =>
        this.pattern(this.scalarText(item, `${path}[${i}]`), item.line, `${path}[${i}]`),
      );
    }
    return [this.pattern(this.scalarText(node, path), node.line, path)];
  }

  /** A pattern `[CORE/]SOURCE:REGEX`, or — with `source` — a bare regular expression for that source. */
  private pattern(
    text: string,
    line: number,
    path: string,
    source?: LinePattern['source'],
    core?: string,
  ): LinePattern {
    try {
      if (source === undefined) {
        const p = parseLinePattern(text, 'pattern');
        if (p.core !== undefined) this.coreRefs.push({ core: p.core, line, path });
        return p;
      }
      if (text === '') throw this.error(line, path, 'the regular expression is empty');
      let regex: RegExp;
      try {
        regex = new RegExp(text);
      } catch (e) {
        const why = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
        throw this.error(line, path, `invalid regular expression "${text}": ${why}`);
      }
      const prefix = source.kind === 'channel' ? source.name : source.kind;
      return { spec: `${core === undefined ? '' : `${core}/`}${prefix}:${text}`, core, source, regex };
    } catch (e) {
      if (e instanceof RprocError) throw this.error(line, path, e.detail);
      throw e;
    }
  }

  private error(line: number, path: string, detail: string): RprocError {
    return this.makeError(line, path, detail);
  }

  /** A fault step's value read on its own (the command line's --fault). */
  faultStep(node: SourceNode): Extract<ScenarioStep, { kind: 'fault' }> {
    return this.fault(node, { line: 1, path: 'fault' });
  }
}

function what(node: SourceNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  return node.value === null ? 'nothing' : JSON.stringify(node.value);
}
