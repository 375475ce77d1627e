// A scenario as the runner executes it (what scenario-parse.ts makes of a file; docs/ci.md and
// docs/scenario.schema.json describe the file): the board, the firmware per core, the run's mode,
// timeout and fail-on patterns, and the steps, each with the line and path it came from.

import type { CrashTypeName, FaultSpec } from './faults.ts';
import type { LinePattern } from './line-pattern.ts';

export type ScenarioMode = 'deterministic' | 'threads';

export interface ScenarioCore {
  readonly name: string;
  /** A firmware name (store: prebuilt ELFs, bundled js programs) or a path resolved against the scenario's folder. */
  readonly firmware: string;
  /** false: a crashed core waits for a recover step. */
  readonly recovery: boolean;
  readonly line: number;
}

export interface StepPlace {
  /** 1-based line in the file. */
  readonly line: number;
  /** Where in the document, e.g. `steps[3].send`. */
  readonly path: string;
}

/** A fault a scenario can arm: the harness's faults, and stalling the host side of a channel. */
export type ScenarioFault =
  FaultSpec | { readonly kind: 'stall'; readonly channel: string; readonly core?: string };

export type FaultKind = ScenarioFault['kind'];

export type ScenarioStep = StepPlace &
  (
    | { readonly kind: 'boot' | 'shutdown'; readonly core: string }
    | { readonly kind: 'crash'; readonly core: string; readonly crashType: CrashTypeName }
    | { readonly kind: 'recover'; readonly core: string; readonly timeoutMs?: number }
    | {
        readonly kind: 'send';
        readonly channel: string;
        readonly core?: string;
        readonly data: Uint8Array;
        /** The text (or hex) as written, for reports. */
        readonly shown: string;
        readonly timeoutMs?: number;
      }
    | { readonly kind: 'expect'; readonly patterns: readonly LinePattern[]; readonly timeoutMs?: number }
    | { readonly kind: 'wait'; readonly ms: number }
    | { readonly kind: 'coredump'; readonly core: string; readonly file?: string }
    | { readonly kind: 'fault'; readonly fault: ScenarioFault; readonly forMs?: number }
    | { readonly kind: 'heal'; readonly core?: string; readonly fault?: FaultKind }
    | { readonly kind: 'repeat'; readonly times: number; readonly steps: readonly ScenarioStep[] }
  );

export interface Scenario {
  /** The file as given (for messages and reports). */
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  /** Board file (absolute), or undefined for the embedded default board. */
  readonly board?: string;
  readonly boardLine: number;
  readonly mode: ScenarioMode;
  /** Default timeout of every step that waits, ms. */
  readonly timeoutMs: number;
  readonly failOn: readonly LinePattern[];
  readonly cores: readonly ScenarioCore[];
  readonly steps: readonly ScenarioStep[];
  /** Every core name the scenario mentions, with where (checked against the board before it runs). */
  readonly coreRefs: readonly (StepPlace & { readonly core: string })[];
}
