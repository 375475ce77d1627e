// The debugfs files against Linux's remoteproc_debugfs.c: prefix matching and size limits of the
// recovery/coredump writes (TC-C01), the crash trigger (TC-C07), and the exact texts of name,
// resource_table, carveout_memories and trace<N>.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrnoName } from '../../util/errors.ts';
import type { RscEntrySpec } from '../../rsc/index.ts';
import type { CoredumpMode } from '../rproc-state.ts';
import { RprocDebugfs } from './debugfs.ts';
import { attachBench, fixtureBench, settle } from '../../../test/support/control-fixtures.ts';

function rejects(code: ErrnoName, message?: RegExp): { name: string; code: ErrnoName; message?: RegExp } {
  return message === undefined ? { name: 'RprocError', code } : { name: 'RprocError', code, message };
}

/** A carveout the host allocates, a trace in RAM, a trace nowhere, and a vendor entry. */
const ATTACH_TABLE: readonly RscEntrySpec[] = [
  { kind: 'carveout', len: 0x2000, name: 'shm' },
  { kind: 'trace', da: 0x8000_2000, len: 0x100, name: 'log' },
  { kind: 'trace', da: 0x7000_0000, len: 0x100, name: 'gone' },
  { kind: 'vendor', type: 128, body: new Uint8Array(8) },
];

async function crashedFixture(): Promise<Awaited<ReturnType<typeof fixtureBench>>> {
  const bench = await fixtureBench();
  bench.rproc.crash.recoveryDisabled = true;
  await bench.rproc.boot();
  const crashed = bench.rproc.next('crash');
  bench.rproc.reportCrash(1);
  await crashed;
  return bench;
}

describe('debugfs files', () => {
  it('lists the fixed files in creation order, then one trace<N> per trace buffer of the boot', async () => {
    const { rproc } = await attachBench(ATTACH_TABLE);
    const debugfs = new RprocDebugfs(rproc);
    assert.equal(debugfs.path, '/sys/kernel/debug/remoteproc/remoteproc0');
    const fixed = ['name', 'recovery', 'crash', 'resource_table', 'carveout_memories', 'coredump'];
    assert.deepEqual(debugfs.list(), fixed);
    await rproc.boot();
    assert.deepEqual(debugfs.list(), [...fixed, 'trace0', 'trace1']);
    assert.deepEqual(
      debugfs.list().map((f) => debugfs.mode(f).toString(8)),
      ['400', '600', '200', '400', '400', '600', '400', '400'],
    );
    // Trace files are removed at cleanup.
    await rproc.detach();
    assert.deepEqual(debugfs.list(), fixed);
    assert.throws(() => debugfs.read('trace0'), rejects('ENOENT', /trace0 does not exist/));
  });

  it('name prints at most 98 bytes of the name and a newline', async () => {
    const { rproc } = await fixtureBench();
    assert.equal(new RprocDebugfs(rproc).read('name'), 'm0\n');
    const long = await attachBench([]);
    Object.defineProperty(long.rproc, 'name', { value: 'n'.repeat(120) });
    assert.equal(new RprocDebugfs(long.rproc).read('name'), `${'n'.repeat(98)}\n`);
  });

  it('wrong-direction access is EINVAL, as root gets it; unknown files are ENOENT', async () => {
    const { rproc } = await attachBench(ATTACH_TABLE);
    await rproc.boot();
    const debugfs = new RprocDebugfs(rproc);
    assert.throws(() => debugfs.read('crash'), rejects('EINVAL', /write-only/));
    for (const file of ['name', 'resource_table', 'carveout_memories', 'trace0']) {
      await assert.rejects(debugfs.write(file, 'x'), rejects('EINVAL', /read-only/), file);
    }
    assert.throws(() => debugfs.read('state'), rejects('ENOENT'));
    await assert.rejects(debugfs.write('trace9', '1'), rejects('ENOENT'));
  });
});

describe('debugfs recovery and coredump writes', () => {
  it('TC-C01: zero-length or oversize (> 10 / > 20 bytes) writes to recovery and coredump are EINVAL', async () => {
    const { rproc } = await fixtureBench();
    const debugfs = new RprocDebugfs(rproc);
    const cases: readonly [string, string][] = [
      ['recovery', ''],
      ['recovery', 'disabled\0\0\0'],
      ['recovery', 'x'.repeat(64)],
      ['coredump', ''],
      ['coredump', `enabled${'\0'.repeat(14)}`],
      ['coredump', 'x'.repeat(64)],
    ];
    for (const [file, input] of cases) {
      await assert.rejects(
        debugfs.write(file, input),
        rejects('EINVAL', /bytes; 1 to (10|20) are accepted/),
        `${file} ${input.length}`,
      );
    }
    assert.equal(rproc.crash.recoveryDisabled, false);
    assert.equal(rproc.coredump.mode, 'disabled');
    // The limits themselves are accepted: 10 and 20 bytes, NUL-padded words.
    assert.equal(await debugfs.write('recovery', 'disabled\0\0'), 10);
    assert.equal(rproc.crash.recoveryDisabled, true);
    assert.equal(await debugfs.write('coredump', `enabled${'\0'.repeat(13)}`), 20);
    assert.equal(rproc.coredump.mode, 'enabled');
  });

  // [input, outcome]: prefix matching over the written length after one "\n" became NUL.
  const recoveryCases: readonly [string, 'enabled' | 'disabled' | 'recover' | 'EINVAL'][] = [
    ['e', 'enabled'],
    ['en', 'enabled'],
    ['enabled', 'enabled'],
    ['enabled\n', 'enabled'],
    ['d', 'disabled'],
    ['dis', 'disabled'],
    ['disabled\n', 'disabled'],
    ['r', 'recover'],
    ['rec', 'recover'],
    ['recover\n', 'recover'],
    ['en\n', 'EINVAL'],
    ['d\n', 'EINVAL'],
    // A NUL ends the input but not the keyword: strncmp sees them differ.
    ['r\0', 'EINVAL'],
    ['enabled\0', 'enabled'],
    ['enabledx', 'EINVAL'],
    ['recovery', 'EINVAL'],
    ['E', 'EINVAL'],
    ['\n', 'EINVAL'],
    ['x', 'EINVAL'],
  ];
  for (const [input, outcome] of recoveryCases) {
    it(`recovery ${JSON.stringify(input)} → ${outcome}`, async () => {
      const { rproc } = await fixtureBench();
      const debugfs = new RprocDebugfs(rproc);
      rproc.crash.recoveryDisabled = outcome !== 'disabled';
      const before = rproc.crash.recoveryDisabled;
      if (outcome === 'EINVAL') {
        await assert.rejects(debugfs.write('recovery', input), rejects('EINVAL'));
        assert.equal(rproc.crash.recoveryDisabled, before);
        return;
      }
      assert.equal(await debugfs.write('recovery', input), Buffer.byteLength(input));
      const expected = outcome === 'enabled' ? false : outcome === 'disabled' ? true : before;
      assert.equal(rproc.crash.recoveryDisabled, expected);
      assert.equal(debugfs.read('recovery'), expected ? 'disabled\n' : 'enabled\n');
    });
  }

  const coredumpCases: readonly [string, CoredumpMode | 'EINVAL'][] = [
    ['d', 'disabled'],
    ['disabled\n', 'disabled'],
    ['e', 'enabled'],
    ['enab', 'enabled'],
    ['enabled\n', 'enabled'],
    ['i', 'inline'],
    ['inline', 'inline'],
    ['inline\n', 'inline'],
    ['in\n', 'EINVAL'],
    ['default', 'EINVAL'],
    ['inlined', 'EINVAL'],
    ['x', 'EINVAL'],
  ];
  for (const [input, outcome] of coredumpCases) {
    it(`coredump ${JSON.stringify(input)} → ${outcome}`, async () => {
      const { rproc } = await fixtureBench();
      const debugfs = new RprocDebugfs(rproc);
      rproc.coredump.mode = outcome === 'disabled' ? 'inline' : 'disabled';
      const before = rproc.coredump.mode;
      if (outcome === 'EINVAL') {
        await assert.rejects(
          debugfs.write('coredump', input),
          rejects('EINVAL', /Invalid coredump configuration/),
        );
        assert.equal(rproc.coredump.mode, before);
        return;
      }
      assert.equal(await debugfs.write('coredump', input), Buffer.byteLength(input));
      assert.equal(debugfs.read('coredump'), `${outcome}\n`);
    });
  }

  it('coredump is EBUSY while crashed, even for a bad word', async () => {
    const { rproc } = await crashedFixture();
    const debugfs = new RprocDebugfs(rproc);
    await assert.rejects(debugfs.write('coredump', 'inline'), rejects('EBUSY'));
    await assert.rejects(debugfs.write('coredump', 'bogus'), rejects('EBUSY'));
    // The size check comes first.
    await assert.rejects(debugfs.write('coredump', ''), rejects('EINVAL'));
    assert.equal(debugfs.read('coredump'), 'disabled\n');
  });

  it('recovery "e" on a crashed processor enables recovery and recovers it', async () => {
    const { rproc } = await crashedFixture();
    assert.equal(await new RprocDebugfs(rproc).write('recovery', 'e'), 1);
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.crash.recoveryDisabled, false);
  });

  it('recovery "r" recovers a crashed processor without changing the flag', async () => {
    const { rproc } = await crashedFixture();
    assert.equal(await new RprocDebugfs(rproc).write('recovery', 'r'), 1);
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.crash.recoveryDisabled, true);
  });
});

describe('debugfs crash', () => {
  it('TC-C07: type 999 is handled and printed "unknown"', async () => {
    const { rproc, logs } = await fixtureBench();
    rproc.crash.recoveryDisabled = true;
    await rproc.boot();
    const crash = rproc.next('crash');
    assert.equal(await new RprocDebugfs(rproc).write('crash', '999\n'), 4);
    assert.deepEqual(await crash, { type: 999, typeName: 'unknown', count: 1, detail: undefined });
    assert.equal(rproc.state, 'crashed');
    assert.ok(logs.includes('error: crash detected in m0: type unknown'), logs.join('\n'));
    assert.ok(logs.includes('error: handling crash #1 in m0'), logs.join('\n'));
  });

  it('TC-C07: two crashes written in quick succession are handled once (count +1), and recovered once', async () => {
    const { rproc, platform } = await fixtureBench();
    await rproc.boot();
    const debugfs = new RprocDebugfs(rproc);
    const recovered = rproc.next('recovery', (e) => e.phase !== 'start');
    assert.equal(await debugfs.write('crash', '999'), 3);
    assert.equal(await debugfs.write('crash', '1'), 1);
    assert.equal((await recovered).phase, 'done');
    await settle();
    assert.equal(rproc.crash.count, 1);
    assert.equal(rproc.state, 'running');
    assert.equal(platform.calls.filter((c) => c === 'start').length, 2);
  });

  it('TC-C07: with recovery disabled, the second crash finds it crashed and is ignored', async () => {
    const { rproc } = await crashedFixture();
    const debugfs = new RprocDebugfs(rproc);
    assert.equal(await debugfs.write('crash', '2'), 1);
    await settle();
    assert.equal(rproc.crash.count, 1);
    assert.equal(rproc.state, 'crashed');
  });

  it('TC-C07: a crash reported while offline is ignored', async () => {
    const { rproc, logs } = await fixtureBench();
    assert.equal(await new RprocDebugfs(rproc).write('crash', '0'), 1);
    await settle();
    assert.equal(rproc.state, 'offline');
    assert.equal(rproc.crash.count, 0);
    // Reported (the log line) but not handled.
    assert.ok(logs.includes('error: crash detected in m0: type mmufault'));
    assert.ok(!logs.some((l) => l.includes('handling crash')));
  });

  const types: readonly [string, number, string][] = [
    ['0', 0, 'mmufault'],
    ['1\n', 1, 'watchdog'],
    ['0x2', 2, 'fatal error'],
    ['03', 3, 'unknown'],
    ['4294967295', 0xffff_ffff, 'unknown'],
  ];
  for (const [input, type, typeName] of types) {
    it(`crash ${JSON.stringify(input)} reports type ${type} (${typeName}), no range check`, async () => {
      const { rproc } = await fixtureBench();
      rproc.crash.recoveryDisabled = true;
      await rproc.boot();
      const crash = rproc.next('crash');
      assert.equal(await new RprocDebugfs(rproc).write('crash', input), Buffer.byteLength(input));
      assert.deepEqual(await crash, { type, typeName, count: 1, detail: undefined });
    });
  }

  const bad: readonly [string, ErrnoName][] = [
    ['', 'EINVAL'],
    ['watchdog', 'EINVAL'],
    ['-1', 'EINVAL'],
    ['1 2', 'EINVAL'],
    ['4294967296', 'ERANGE'],
  ];
  for (const [input, code] of bad) {
    it(`crash ${JSON.stringify(input)} is ${code} and reports nothing`, async () => {
      const { rproc, logs } = await fixtureBench();
      await rproc.boot();
      await assert.rejects(new RprocDebugfs(rproc).write('crash', input), rejects(code));
      await settle();
      assert.equal(rproc.state, 'running');
      assert.ok(!logs.some((l) => l.includes('crash detected')));
    });
  }
});

describe('debugfs resource_table', () => {
  it('says "No resource table found" when there is none', async () => {
    const { rproc } = await fixtureBench();
    assert.equal(new RprocDebugfs(rproc).read('resource_table'), 'No resource table found\n');
  });

  it('dumps the live table of an attached processor line for line as Linux, allocated addresses included', async () => {
    const { rproc } = await attachBench(ATTACH_TABLE);
    await rproc.boot();
    assert.equal(
      new RprocDebugfs(rproc).read('resource_table'),
      [
        'Entry 0 is of type carveout',
        '  Device Address 0x90000000',
        '  Physical Address 0x90000000',
        '  Length 0x2000 Bytes',
        '  Flags 0x0',
        '  Reserved (should be zero) [0]',
        '  Name shm',
        '',
        'Entry 1 is of type trace',
        '  Device Address 0x80002000',
        '  Length 0x100 Bytes',
        '  Reserved (should be zero) [0]',
        '  Name log',
        '',
        'Entry 2 is of type trace',
        '  Device Address 0x70000000',
        '  Length 0x100 Bytes',
        '  Reserved (should be zero) [0]',
        '  Name gone',
        '',
        // Linux prints the hdr pointer here; we print its table offset.
        'Unknown resource type found: 128 [hdr: 0xb8]',
        '',
      ].join('\n'),
    );
  });

  it('dumps the fixture table while running and drops it after shutdown', async () => {
    const { rproc } = await fixtureBench();
    const debugfs = new RprocDebugfs(rproc);
    await rproc.boot();
    const text = debugfs.read('resource_table');
    assert.ok(
      text.startsWith(
        'Entry 0 is of type carveout\n  Device Address 0x90000000\n  Physical Address 0x90000000\n  Length 0x8000 Bytes\n',
      ),
      text,
    );
    assert.ok(
      text.includes('\nEntry 1 is of type trace\n  Device Address 0x80000140\n  Length 0x400 Bytes\n'),
      text,
    );
    assert.ok(text.includes('\nEntry 2 is of type vdev\n  ID 7\n'), text);
    assert.ok(!text.includes('Table offset'), 'Linux lines only by default');
    assert.ok(
      new RprocDebugfs(rproc, { extras: true })
        .read('resource_table')
        .includes('  Table offset 0x1c (body at 0x20)'),
    );
    await rproc.shutdown();
    assert.equal(debugfs.read('resource_table'), 'No resource table found\n');
  });
});

describe('debugfs carveout_memories', () => {
  it('prints each carveout as Linux does, without the hashed virtual address', async () => {
    const { rproc } = await attachBench(ATTACH_TABLE);
    const debugfs = new RprocDebugfs(rproc);
    assert.equal(debugfs.read('carveout_memories'), '');
    await rproc.boot();
    assert.equal(
      debugfs.read('carveout_memories'),
      'Carveout memory entry:\n\tName: shm\n\tDMA address: 0x0000000090000000\n\tDevice address: 0x90000000\n\tLength: 0x2000 Bytes\n\n',
    );
  });

  it('lists the fixture heap and both vrings', async () => {
    const { rproc } = await fixtureBench();
    await rproc.boot();
    const text = new RprocDebugfs(rproc).read('carveout_memories');
    assert.deepEqual(
      [
        ...text.matchAll(
          /\tName: (\S+)\n\tDMA address: (0x[0-9a-f]{16})\n\tDevice address: (0x[0-9a-f]+)\n\tLength: (0x[0-9a-f]+) Bytes\n\n/g,
        ),
      ].map((m) => m.slice(1)),
      [
        ['hello-heap', '0x0000000090000000', '0x90000000', '0x8000'],
        ['vdev0vring0', '0x0000000090008000', '0x90008000', '0x2000'],
        ['vdev0vring1', '0x000000009000a000', '0x9000a000', '0x2000'],
      ],
    );
  });
});

describe('debugfs trace<N>', () => {
  it('reads the buffer up to its first NUL, at read time', async () => {
    const { rproc, platform } = await attachBench(ATTACH_TABLE);
    await rproc.boot();
    const debugfs = new RprocDebugfs(rproc);
    const at = 0x8000_2000 - platform.map.ramDa;
    assert.equal(debugfs.read('trace0'), '');
    platform.ram.set(new TextEncoder().encode('hello\nworld\n\0stale'), at);
    assert.equal(debugfs.read('trace0'), 'hello\nworld\n');
  });

  it('stops at the buffer length when the remote wrote no NUL', async () => {
    const { rproc, platform } = await attachBench([{ kind: 'trace', da: 0x8000_2000, len: 4 }]);
    await rproc.boot();
    platform.ram.set(new TextEncoder().encode('abcdefgh'), 0x8000_2000 - platform.map.ramDa);
    assert.equal(new RprocDebugfs(rproc).read('trace0'), 'abcd');
  });

  it('says "Trace  not available" (two spaces, as Linux prints the unset trace name) when the da does not translate', async () => {
    const { rproc } = await attachBench(ATTACH_TABLE);
    await rproc.boot();
    assert.equal(new RprocDebugfs(rproc).read('trace1'), 'Trace  not available\n');
  });

  it('reads the fixture trace buffer once the firmware has written to it', async () => {
    const { rproc } = await fixtureBench();
    await rproc.boot();
    const trace = rproc.resources.traces[0];
    assert.ok(trace !== undefined);
    rproc.daToVa(BigInt(trace.da), 8)?.set(new TextEncoder().encode('booted\n\0'));
    assert.equal(new RprocDebugfs(rproc).read('trace0'), 'booted\n');
  });
});
