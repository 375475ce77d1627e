// Model-based test of the life cycle: random sequences of boot, shutdown, crash (with recovery),
// recover, setFirmware, del, detach and recovery on/off, run against a small model of states and
// counters (remoteproc_core.c's transitions plus the deviations in docs/decisions.md), for a
// processor Linux boots and for one found running (with and without attach-on-recovery). After
// every command the real processor must match the model: state, power, firmware name, crash count,
// the error code returned, and whether resources are held.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkAsyncProperty } from '../../test/support/property.ts';
import { buildRscTable } from '../rsc/rsc-build.ts';
import type { RscEntrySpec } from '../rsc/rsc-types.ts';
import { isRprocError, type ErrnoName } from '../util/errors.ts';
import { RPROC_WATCHDOG, type RprocFeature, type RprocState } from './rproc-state.ts';
import {
  TABLE_DA,
  firmwareWithTable,
  installLiveTable,
  rig,
  settle,
  type Rig,
} from '../../test/support/rproc-fixtures.ts';

const SPEC: readonly RscEntrySpec[] = [
  { kind: 'carveout', len: 0x2000, name: 'heap' },
  {
    kind: 'vdev',
    id: 7,
    vrings: [
      { align: 16, num: 16 },
      { align: 16, num: 16 },
    ],
  },
  { kind: 'trace', da: 0x8000_3000, len: 0x100 },
];
/** Allocations a processor holds while up: the carveout and two vrings. */
const HELD = 3;
const FIRMWARE = firmwareWithTable(buildRscTable(SPEC));
const NAMES = ['fw', 'alt', 'missing'] as const;
const LIVE_DA = TABLE_DA + 0x1000;

interface Model {
  state: RprocState;
  power: number;
  firmware: string;
  recoveryDisabled: boolean;
  crashes: number;
  readonly attachOnRecovery: boolean;
}

interface Real {
  readonly r: Rig;
}

type Outcome = ErrnoName | 'ok';

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isRprocError(e)) return e.code;
    throw e;
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const firmwareAvailable = (m: Model): boolean => m.firmware !== 'missing';

/** rproc_trigger_recovery as modelled: what recover() leaves behind and returns. */
function modelRecover(m: Model): Outcome {
  if (m.state !== 'crashed') return 'ok';
  if (m.attachOnRecovery) {
    m.state = 'attached';
    return 'ok';
  }
  if (firmwareAvailable(m)) {
    m.state = 'running';
    return 'ok';
  }
  // Deviation (TC-C08): everything released, power back to 0.
  m.state = 'offline';
  m.power = 0;
  return 'ENOENT';
}

function check(m: Model, real: Real, got: Outcome, expected: Outcome, what: string): void {
  const { rproc, platform } = real.r;
  const where = `after ${what}`;
  assert.equal(got, expected, `${where}: result`);
  assert.equal(rproc.state, m.state, `${where}: state`);
  assert.equal(rproc.power, m.power, `${where}: power`);
  assert.equal(rproc.firmware, m.firmware, `${where}: firmware`);
  assert.equal(rproc.crash.count, m.crashes, `${where}: crash count`);
  const up = m.state === 'running' || m.state === 'attached' || m.state === 'crashed';
  assert.equal(platform.pool.outstanding, up ? HELD : 0, `${where}: allocations`);
  assert.equal(rproc.resources.idle, !up, `${where}: idle`);
}

abstract class Cmd implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  abstract run(m: Model, real: Real): Promise<void>;
  abstract toString(): string;
}

class Boot extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    let expected: Outcome = 'ok';
    if (m.state === 'deleted') expected = 'ENODEV';
    else if (++m.power === 1) {
      if (m.state === 'detached') m.state = 'attached';
      else if (firmwareAvailable(m)) m.state = 'running';
      else {
        m.power--;
        expected = 'ENOENT';
      }
    }
    check(m, real, await outcome(real.r.rproc.boot()), expected, this.toString());
  }
  toString(): string {
    return 'boot';
  }
}

class Shutdown extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    let expected: Outcome = 'ok';
    if (m.state !== 'running' && m.state !== 'attached' && m.state !== 'crashed') expected = 'EINVAL';
    else if (--m.power === 0) m.state = 'offline';
    check(m, real, await outcome(real.r.rproc.shutdown()), expected, this.toString());
  }
  toString(): string {
    return 'shutdown';
  }
}

class Detach extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    let expected: Outcome = 'ok';
    if (m.state !== 'attached') expected = 'EINVAL';
    else if (--m.power === 0) m.state = 'detached';
    check(m, real, await outcome(real.r.rproc.detach()), expected, this.toString());
  }
  toString(): string {
    return 'detach';
  }
}

class Crash extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    const { rproc } = real.r;
    const handled = m.state === 'running' || m.state === 'attached';
    const recovers = handled && !m.recoveryDisabled;
    const crash = rproc.next('crash');
    const recovery = rproc.next('recovery', (e) => e.phase !== 'start');
    if (handled) {
      m.state = 'crashed';
      m.crashes++;
    }
    if (recovers) modelRecover(m);
    rproc.reportCrash(RPROC_WATCHDOG);
    if (recovers) await within(recovery, 2000, 'recovery');
    else if (handled) await within(crash, 2000, 'crash');
    await settle();
    check(m, real, 'ok', 'ok', this.toString());
  }
  toString(): string {
    return 'crash';
  }
}

class Recover extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    const expected = modelRecover(m);
    check(m, real, await outcome(real.r.rproc.crash.recover()), expected, this.toString());
  }
  toString(): string {
    return 'recover';
  }
}

class SetFirmware extends Cmd {
  readonly name: string;
  constructor(name: string) {
    super();
    this.name = name;
  }
  async run(m: Model, real: Real): Promise<void> {
    let expected: Outcome = 'ok';
    if (m.state !== 'offline') expected = 'EBUSY';
    else m.firmware = this.name;
    check(m, real, await outcome(real.r.rproc.setFirmware(this.name)), expected, this.toString());
  }
  toString(): string {
    return `setFirmware(${this.name})`;
  }
}

class Del extends Cmd {
  async run(m: Model, real: Real): Promise<void> {
    m.state = 'deleted';
    m.power = 0;
    check(m, real, await outcome(real.r.rproc.del()), 'ok', this.toString());
  }
  toString(): string {
    return 'del';
  }
}

class SetRecovery extends Cmd {
  readonly disabled: boolean;
  constructor(disabled: boolean) {
    super();
    this.disabled = disabled;
  }
  run(m: Model, real: Real): Promise<void> {
    m.recoveryDisabled = this.disabled;
    real.r.rproc.crash.recoveryDisabled = this.disabled;
    check(m, real, 'ok', 'ok', this.toString());
    return Promise.resolve();
  }
  toString(): string {
    return `recovery ${this.disabled ? 'disabled' : 'enabled'}`;
  }
}

const commandArbs: fc.Arbitrary<Cmd>[] = [
  fc.constant(new Boot()),
  fc.constant(new Boot()),
  fc.constant(new Shutdown()),
  fc.constant(new Detach()),
  fc.constant(new Crash()),
  fc.constant(new Crash()),
  fc.constant(new Recover()),
  fc.constantFrom(...NAMES).map((n) => new SetFirmware(n)),
  fc.boolean().map((d) => new SetRecovery(d)),
  // Deleting ends the interesting part of a run: keep it rare.
  fc
    .nat(9)
    .filter((n) => n === 0)
    .map(() => new Del()),
];

interface Config {
  readonly title: string;
  readonly detached: boolean;
  readonly features: readonly RprocFeature[];
}

const CONFIGS: readonly Config[] = [
  { title: 'a processor Linux boots from firmware', detached: false, features: [] },
  { title: 'a processor found running (detached at start)', detached: true, features: [] },
  {
    title: 'a processor found running, with attach-on-recovery',
    detached: true,
    features: ['attach-on-recovery'],
  },
];

function setup(config: Config): { model: Model; real: Real } {
  const r = rig({
    firmware: FIRMWARE,
    alloc: { detached: config.detached, features: config.features },
  });
  r.store.add('alt', FIRMWARE);
  // The running core's table: the same layout as the firmware's, so that a boot recovery of the
  // attached core can publish the host copy into the freshly loaded image.
  if (config.detached) installLiveTable(r.platform, buildRscTable(SPEC), LIVE_DA);
  return {
    model: {
      state: config.detached ? 'detached' : 'offline',
      power: 0,
      firmware: 'fw',
      recoveryDisabled: false,
      crashes: 0,
      attachOnRecovery: config.features.includes('attach-on-recovery'),
    },
    real: { r },
  };
}

describe('life cycle model', () => {
  for (const config of CONFIGS) {
    it(`matches the model for ${config.title}`, async () => {
      await checkAsyncProperty(
        `rproc-model-${config.detached ? 'detached' : 'offline'}${config.features.length > 0 ? '-aor' : ''}`,
        fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 30 }), async (cmds) => {
          await fc.asyncModelRun(() => setup(config), cmds);
        }),
        { numRuns: 150 },
      );
    });
  }
});
