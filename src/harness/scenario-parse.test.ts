// Scenario files: what each form of each step becomes; bad files refused in one line naming the
// file, line and key (never a stack trace), table-driven; docs/scenario.schema.json agreeing with
// the reader on every case of both tables (checked with ajv); any text parsing or raising a
// ScenarioError, nothing else (property).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseFaultArg, parseScenario } from './scenario-parse.ts';
import { RprocError } from '../util/errors.ts';
import { ScenarioError } from './scenario-source.ts';
import type { ScenarioStep } from './scenario-types.ts';

const schema: unknown = JSON.parse(
  readFileSync(new URL('../../docs/scenario.schema.json', import.meta.url), 'utf8'),
);
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(schema as object);

/** What the schema says of `text` (YAML), or undefined when YAML itself refuses it. */
function schemaAccepts(text: string): boolean | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  return validate(doc);
}

const GOOD: readonly { title: string; yaml: string; check: (steps: readonly ScenarioStep[]) => void }[] = [
  {
    title: 'every step in its short form',
    yaml: `name: all short
cores: { rproc0: echo.elf, rproc1: rpmsg-echo }
steps:
  - boot: rproc0
  - expect: "uart:firmware up"
  - expect: ["rproc0/state:running", "trace:host up"]
  - send: { channel: rpmsg-echo, text: hello }
  - send: { channel: rpmsg-echo, hex: "68 69", core: rproc0, timeout: 1s }
  - wait: 250ms
  - crash: rproc0
  - recover: rproc0
  - coredump: rproc0
  - heal: all
  - heal: rproc0
  - shutdown: rproc0
`,
    check: (steps) => {
      assert.deepEqual(
        steps.map((s) => s.kind),
        [
          'boot',
          'expect',
          'expect',
          'send',
          'send',
          'wait',
          'crash',
          'recover',
          'coredump',
          'heal',
          'heal',
          'shutdown',
        ],
      );
      const send = steps[4];
      assert.ok(send?.kind === 'send');
      assert.deepEqual([...send.data], [0x68, 0x69]);
      assert.equal(send.timeoutMs, 1000);
      assert.equal(send.line, 8);
      assert.equal(send.path, 'steps[4].send');
      const wait = steps[5];
      assert.ok(wait?.kind === 'wait' && wait.ms === 250);
      const heal = steps[9];
      assert.ok(heal?.kind === 'heal' && heal.core === undefined);
    },
  },
  {
    title: 'expect in its map forms',
    yaml: `steps:
  - expect: { uart: "^up$", core: rproc0, timeout: 2s }
  - expect: { channel: rpmsg-echo, match: "^hi$" }
  - expect: { state: crashed }
  - expect: { match: ["a", "b"], timeout: 100 }
`,
    check: (steps) => {
      const specs = steps.flatMap((s) => (s.kind === 'expect' ? s.patterns.map((p) => p.spec) : []));
      assert.deepEqual(specs, ['rproc0/uart:^up$', 'rpmsg-echo:^hi$', 'state:crashed', 'a', 'b']);
      const first = steps[0];
      assert.ok(first?.kind === 'expect' && first.timeoutMs === 2000);
    },
  },
  {
    title: 'every fault',
    yaml: `cores:
  rproc0: { firmware: echo.elf, recovery: manual }
steps:
  - fault: { lose-kicks: { core: rproc0, direction: both, every: 3, count: 2 } }
  - fault: { lose-kicks: { core: rproc0, probability: 0.25, seed: 9 }, for: 1s }
  - fault: { delay-kicks: { core: rproc0, by: 5ms } }
  - fault: { exhaust-tx-buffers: rproc0 }
  - fault: { stall: { channel: rpmsg-echo } }
  - fault: { crash: { core: rproc0, after-messages: 10, direction: to-host, type: watchdog } }
  - fault: { crash: { core: rproc0, after: 1.5s } }
  - fault: { crash: { core: rproc0, on-line: "uart:panic" } }
  - heal: { core: rproc0, fault: stall }
  - repeat: { times: 3, steps: [ { crash: { core: rproc0, type: mmu } }, { recover: { core: rproc0, timeout: 1min } } ] }
`,
    check: (steps) => {
      const faults = steps.flatMap((s) => (s.kind === 'fault' ? [s] : []));
      assert.deepEqual(
        faults.map((f) => f.fault.kind),
        ['lose-kicks', 'lose-kicks', 'delay-kicks', 'exhaust-tx-buffers', 'stall', 'crash', 'crash', 'crash'],
      );
      assert.equal(faults[1]?.forMs, 1000);
      const crash = faults[5]?.fault;
      assert.ok(crash?.kind === 'crash');
      assert.deepEqual(crash.trigger, { afterMessages: 10, direction: 'to-host' });
      const repeat = steps.at(-1);
      assert.ok(repeat?.kind === 'repeat' && repeat.times === 3 && repeat.steps.length === 2);
      assert.equal(repeat.steps[1]?.path, 'steps[9].repeat.steps[1].recover');
    },
  },
  {
    title: 'JSON',
    yaml: '{ "name": "json", "mode": "threads", "timeout": 2000, "fail-on": "panic", "steps": [ { "boot": "rproc1" } ] }',
    check: (steps) => assert.equal(steps.length, 1),
  },
];

const BAD: readonly { title: string; yaml: string; error: RegExp; schema?: 'n/a' }[] = [
  { title: 'empty file', yaml: '', error: /^EINVAL: t\.yaml:1: the file is empty$/, schema: 'n/a' },
  {
    title: 'not YAML',
    yaml: 'steps: [\n  - boot: x\n',
    error: /^EINVAL: t\.yaml:\d+: not valid YAML or JSON: /,
    schema: 'n/a',
  },
  {
    title: 'duplicate key',
    yaml: 'steps: []\nsteps: []\n',
    error: /^EINVAL: t\.yaml:2: not valid YAML or JSON: Map keys must be unique/,
    schema: 'n/a',
  },
  {
    title: 'no steps',
    yaml: 'name: x\n',
    error: /^EINVAL: t\.yaml:1: no steps: a scenario needs a "steps" list$/,
  },
  {
    title: 'unknown top-level key',
    yaml: 'name: x\nstep: []\n',
    error:
      /^EINVAL: t\.yaml:2: unknown key "step" \(expected one of: name, description, board, mode, timeout, fail-on, cores, steps\)$/,
  },
  {
    title: 'unknown step',
    yaml: 'steps:\n  - bot: rproc0\n',
    error: /^EINVAL: t\.yaml:2: steps\[0\]: unknown step "bot" \(expected one of boot, /m,
  },
  {
    title: 'two steps in one item',
    yaml: 'steps:\n  - boot: rproc0\n    wait: 1s\n',
    error: /^EINVAL: t\.yaml:3: steps\[0\]: one step per list item: "wait" follows "boot"/,
  },
  {
    title: 'unknown key in a step',
    yaml: 'steps:\n  - send:\n      chanel: x\n      text: y\n',
    error:
      /^EINVAL: t\.yaml:3: steps\[0\]\.send: unknown key "chanel" \(expected one of: channel, core, text, hex, timeout\)$/,
  },
  {
    title: 'text and hex',
    yaml: 'steps:\n  - send: { channel: c, text: a, hex: "61" }\n',
    error: /steps\[0\]\.send: give exactly one of "text" and "hex"/,
  },
  {
    title: 'bad hex',
    yaml: 'steps:\n  - send: { channel: c, hex: "6g" }\n',
    error: /steps\[0\]\.send\.hex: "6g" is not bytes in hex/,
  },
  {
    title: 'invalid regular expression',
    yaml: 'steps:\n  - wait: 1\n  - expect: "uart:(unclosed"\n',
    error:
      /^EINVAL: t\.yaml:3: steps\[1\]\.expect: pattern "uart:\(unclosed": invalid regular expression: .*Unterminated group$/,
    schema: 'n/a',
  },
  {
    title: 'invalid regular expression in a map',
    yaml: 'steps:\n  - expect: { uart: "[" }\n',
    error: /t\.yaml:2: steps\[0\]\.expect\.uart: invalid regular expression "\[": /,
    schema: 'n/a',
  },
  {
    title: 'bad duration',
    yaml: 'steps:\n  - wait: soon\n',
    error:
      /^EINVAL: t\.yaml:2: steps\[0\]\.wait: must be a duration such as 500ms, 2s or a number of ms \(at most 24 h\), not "soon"$/,
  },
  {
    title: 'negative duration',
    yaml: 'timeout: -5\nsteps: [ { wait: 1 } ]\n',
    error: /t\.yaml:1: timeout: must be a duration/,
  },
  {
    title: 'bad mode',
    yaml: 'mode: fast\nsteps: [ { wait: 1 } ]\n',
    error: /t\.yaml:1: mode: must be one of deterministic, threads, not "fast"$/,
  },
  {
    title: 'core as a number',
    yaml: 'steps:\n  - boot: 0\n',
    error: /t\.yaml:2: steps\[0\]\.boot: must be a non-empty string, not 0$/,
  },
  {
    title: 'firmware missing in a core map',
    yaml: 'cores:\n  rproc0: { recovery: manual }\nsteps: [ { wait: 1 } ]\n',
    error: /t\.yaml:2: cores\.rproc0: "firmware" is required$/,
  },
  {
    title: 'bad recovery',
    yaml: 'cores:\n  rproc0: { firmware: a, recovery: never }\nsteps: [ { wait: 1 } ]\n',
    error: /cores\.rproc0\.recovery: must be one of auto, manual/,
  },
  {
    title: 'steps not a list',
    yaml: 'steps: { boot: rproc0 }\n',
    error: /t\.yaml:1: steps: must be a list of steps, not a map$/,
  },
  { title: 'empty steps', yaml: 'steps: []\n', error: /steps: the list of steps is empty/ },
  {
    title: 'fault without kind',
    yaml: 'steps:\n  - fault: { for: 1s }\n',
    error: /steps\[0\]\.fault: name the fault: one of lose-kicks, /,
  },
  {
    title: 'two faults',
    yaml: 'steps:\n  - fault: { stall: { channel: a }, exhaust-tx-buffers: rproc0 }\n',
    error: /steps\[0\]\.fault\.exhaust-tx-buffers: one fault per step/,
  },
  {
    title: 'unknown fault',
    yaml: 'steps:\n  - fault: { drop: {} }\n',
    error: /steps\[0\]\.fault: unknown key "drop"/,
  },
  {
    title: 'every and probability',
    yaml: 'steps:\n  - fault: { lose-kicks: { core: rproc0, every: 2, probability: 0.5 } }\n',
    error: /lose-kicks\.probability: give "every" or "probability", not both/,
  },
  {
    title: 'probability above 1',
    yaml: 'steps:\n  - fault: { lose-kicks: { core: rproc0, probability: 2 } }\n',
    error: /lose-kicks\.probability: must be a number from 0 to 1, not 2/,
  },
  {
    title: 'crash without trigger',
    yaml: 'steps:\n  - fault: { crash: { core: rproc0 } }\n',
    error: /steps\[0\]\.fault\.crash: say when: after-messages, after or on-line/,
  },
  {
    title: 'crash with two triggers',
    yaml: 'steps:\n  - fault: { crash: { core: rproc0, after: 1s, on-line: x } }\n',
    error: /fault\.crash\.on-line: one trigger per crash/,
  },
  {
    title: 'direction without after-messages',
    yaml: 'steps:\n  - fault: { crash: { core: rproc0, after: 1s, direction: both } }\n',
    error: /fault\.crash\.direction: "direction" goes with "after-messages" only/,
  },
  {
    title: 'fractional count',
    yaml: 'steps:\n  - fault: { lose-kicks: { core: rproc0, count: 1.5 } }\n',
    error: /lose-kicks\.count: must be a whole number, not 1\.5/,
  },
  {
    title: 'repeat too often',
    yaml: 'steps:\n  - repeat: { times: 1000000, steps: [ { wait: 1 } ] }\n',
    error: /repeat\.times: must be a number from 1 to 100000/,
  },
  {
    title: 'expect with two sources',
    yaml: 'steps:\n  - expect: { uart: a, trace: b }\n',
    error: /steps\[0\]\.expect\.trace: one source per expect step/,
  },
  {
    title: 'channel without match',
    yaml: 'steps:\n  - expect: { channel: c }\n',
    error: /steps\[0\]\.expect: with "channel", give the regular expression in "match"/,
  },
  {
    title: 'match with a source',
    yaml: 'steps:\n  - expect: { uart: a, match: b }\n',
    error: /expect\.match: "match" goes with "channel" only/,
  },
  {
    title: 'core with match',
    yaml: 'steps:\n  - expect: { match: a, core: rproc0 }\n',
    error: /expect\.core: with "match", put the core in the pattern/,
  },
  {
    title: 'empty expect',
    yaml: 'steps:\n  - expect: {}\n',
    error: /steps\[0\]\.expect: say what to expect/,
  },
  {
    title: 'core without source in a pattern',
    yaml: 'steps:\n  - expect: "rproc1/ready"\n',
    error: /steps\[0\]\.expect: pattern "rproc1\/ready": after the core "rproc1\/" comes a source/,
    schema: 'n/a',
  },
  {
    title: 'a list of a step',
    yaml: 'steps:\n  - [boot, rproc0]\n',
    error: /steps\[0\]: a step is a map with one of boot, .*, not a list$/,
  },
];

describe('parseScenario', () => {
  for (const g of GOOD) {
    it(`reads ${g.title}, and the schema agrees`, () => {
      const s = parseScenario('t.yaml', g.yaml);
      g.check(s.steps);
      assert.equal(schemaAccepts(g.yaml), true, JSON.stringify(validate.errors));
    });
  }

  it('takes defaults: name from the file, deterministic, 5 s, the embedded board', () => {
    const s = parseScenario('ci/boot-smoke.yaml', 'steps: [ { boot: rproc0 } ]');
    assert.deepEqual(
      { name: s.name, mode: s.mode, timeoutMs: s.timeoutMs, board: s.board, failOn: s.failOn.length },
      { name: 'boot-smoke', mode: 'deterministic', timeoutMs: 5000, board: undefined, failOn: 0 },
    );
    assert.deepEqual(
      s.coreRefs.map((r) => [r.core, r.line, r.path]),
      [['rproc0', 1, 'steps[0].boot']],
    );
  });

  for (const b of BAD) {
    it(`refuses ${b.title} in one line naming file, line and key${b.schema === 'n/a' ? '' : ', as the schema does'}`, () => {
      assert.throws(
        () => parseScenario('t.yaml', b.yaml),
        (e: unknown) => {
          assert.ok(e instanceof ScenarioError, String(e));
          assert.match(e.message, b.error);
          assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
          return true;
        },
      );
      if (b.schema !== 'n/a') assert.equal(schemaAccepts(b.yaml), false, 'the schema refuses it too');
    });
  }

  it('parses any text or raises a ScenarioError, nothing else (property)', () => {
    const pieces = fc.constantFrom(
      'steps:',
      '\n',
      '  - ',
      'boot: rproc0',
      '{',
      '}',
      '[',
      ']',
      ': ',
      'expect: "',
      '(',
      'x',
      '&a ',
      '*a',
      '!!binary',
      ',',
      '"',
      "'",
      '#',
      'wait: 1s',
      'fault:',
      'repeat:',
      'times: 2',
      '- ',
      '\t',
      '%YAML 1.2\n---\n',
      '---\n',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 25 }), (parts) => {
        try {
          parseScenario('p.yaml', parts.join(''));
        } catch (e) {
          assert.ok(e instanceof ScenarioError, `${String(e)} for ${JSON.stringify(parts.join(''))}`);
          assert.ok(!e.message.includes('\n'));
        }
      }),
    );
  });
});

describe('parseFaultArg (rproc run --fault)', () => {
  const good: readonly [string, object][] = [
    ['lose-kicks:rproc0', { kind: 'lose-kicks', core: 'rproc0', direction: 'to-remote' }],
    [
      'lose-kicks:rproc0,every=3,direction=both',
      { kind: 'lose-kicks', core: 'rproc0', direction: 'both', every: 3 },
    ],
    [
      'delay-kicks:rproc0,by=5ms',
      { kind: 'delay-kicks', core: 'rproc0', direction: 'to-remote', delayMs: 5 },
    ],
    ['stall:rpmsg-echo,core=rproc1', { kind: 'stall', channel: 'rpmsg-echo', core: 'rproc1' }],
    ['exhaust-tx-buffers:rproc0', { kind: 'exhaust-tx-buffers', core: 'rproc0' }],
    [
      'crash:rproc0,type=watchdog,after=2s',
      { kind: 'crash', core: 'rproc0', crashType: 'watchdog', trigger: { afterMs: 2000 } },
    ],
  ];
  for (const [arg, fault] of good) {
    it(`reads ${arg}`, () => assert.deepEqual(parseFaultArg(arg).fault, fault));
  }

  it('takes for= as the fault duration and on-line= up to the end, commas included', () => {
    assert.equal(parseFaultArg('exhaust-tx-buffers:rproc0,for=250ms').forMs, 250);
    const f = parseFaultArg('crash:rproc0,on-line=uart:a,b').fault;
    assert.ok(f.kind === 'crash' && 'onLine' in f.trigger && f.trigger.onLine.spec === 'uart:a,b');
  });

  const bad: readonly [string, RegExp][] = [
    ['boom:x', /^EINVAL: --fault "boom:x": unknown fault "boom" \(expected one of lose-kicks, /],
    ['lose-kicks', /^EINVAL: --fault "lose-kicks": "core" is required$/],
    ['lose-kicks:rproc0,every=x', /: every: must be a number from 1 to 2147483648, not "x"$/],
    ['lose-kicks:rproc0,bogus=1', /: unknown key "bogus" \(expected one of: core, direction, /],
    ['lose-kicks:rproc0,rproc1', /: "rproc1" is not key=value$/],
    ['crash:rproc0', /: say when: after-messages, after or on-line$/],
    ['crash:rproc0,on-line=uart:(', /: on-line: pattern "uart:\(": invalid regular expression: /],
  ];
  for (const [arg, message] of bad) {
    it(`refuses ${arg} in one line`, () => {
      assert.throws(
        () => parseFaultArg(arg),
        (e: unknown) => e instanceof RprocError && message.test(e.message) && !e.message.includes('\n'),
      );
    });
  }
});
