// The GDB stub at packet level, from a bare socket client (ephemeral ports): gdb 13's handshake,
// registers and memory, breakpoints and watch points on the triggers, resume and interrupt, and the
// protocol's bad input — malformed packets, bad checksums, huge lengths, binary data with escapes,
// a client that leaves mid-packet, an oversized packet, a second client — which get error replies or
// a closed connection, never a dead host.

import '../cpu/core-kinds.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { parseElf } from '../elf/elf-reader.ts';
import { readSymbols } from '../elf/elf-symbols.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { prebuiltPath } from '../../test/support/prebuilt.ts';
import { manyCoreBoard } from '../soc/boards/many-cores.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import type { CoreDebugPort } from '../soc/debug/core-debug-port.ts';
import { RspClient } from '../../test/support/rsp-client.ts';
import { escapeBinary, framePacket } from './rsp-framing.ts';
import { GdbServer } from './gdb-server.ts';
import { PACKET_SIZE } from './gdb-session.ts';
import { targetXml } from './target-description.ts';

const ECHO = parseElf(readFileSync(prebuiltPath('echo.elf')));
const MAIN = Number(readSymbols(ECHO).symbols.find((s) => s.name === 'main')?.value ?? 0);
const ENTRY = Number(ECHO.header.entry);
const RAM_SCRATCH = 0x8003_0000;

const GDB13_SUPPORTED =
  'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386';

/** A register as gdb reads it: 8 hex digits, little-endian. */
function le32(v: number): string {
  return Buffer.from(Uint32Array.of(v >>> 0).buffer).toString('hex');
}

describe('GDB stub at packet level', () => {
  let soc: VirtualSoc;
  let port: CoreDebugPort;
  let server: GdbServer;
  const kills: number[] = [];
  const logs: string[] = [];

  before(async () => {
    soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      firmware: { rproc0: 'echo.elf' },
      scheduler: true,
    });
    const p = soc.core('rproc0').debugPort;
    assert.ok(p !== undefined);
    port = p;
    port.holdAtNextStart();
    await soc.start();
    await soc.rproc('rproc0').boot();
    server = await GdbServer.listen({
      cores: soc.cores.flatMap((c) => (c.debugPort === undefined ? [] : [c.debugPort])),
      port: 0,
      monitor: (cmd) => Promise.resolve(cmd === 'help' ? 'commands: help\n' : `unknown command: ${cmd}\n`),
      log: (line) => logs.push(line),
    });
    server.on('kill', () => kills.push(1));
  });

  after(async () => {
    await server.close();
    await soc.close();
  });

  async function session(): Promise<RspClient> {
    const c = await RspClient.connect(server.address().port);
    assert.match(
      await c.request(GDB13_SUPPORTED),
      /PacketSize=4000;.*qXfer:features:read\+.*swbreak\+;hwbreak\+/,
    );
    return c;
  }

  /** A fresh start of the core, held at its entry point (earlier tests let it run). */
  async function restartHeld(): Promise<void> {
    const rproc = soc.rproc('rproc0');
    await rproc.shutdown();
    port.holdAtNextStart();
    await rproc.boot();
  }

  async function done(c: RspClient): Promise<void> {
    assert.equal(await c.request('D'), 'OK');
    await c.closedByPeer();
    // The stub has let go of the cores.
    while (server.connected) await new Promise((r) => setTimeout(r, 10));
  }

  it('listens on loopback only, on the port it was given (0: a free one)', () => {
    const a = server.address();
    assert.equal(a.host, '127.0.0.1');
    assert.ok(a.port > 0);
  });

  it("answers gdb 13's handshake: target description, threads, stop reason, registers", async () => {
    const c = await session();
    try {
      assert.equal(await c.request('vMustReplyEmpty'), '');
      assert.equal(await c.request('Hgp0.0'), 'OK');
      // The description read in small chunks: m…m…l, and it names the architecture.
      let xml = '';
      for (let off = 0; ;) {
        const r = await c.request(`qXfer:features:read:target.xml:${off.toString(16)},100`);
        assert.match(r, /^[ml]/);
        xml += r.slice(1);
        off += r.length - 1;
        if (r.startsWith('l')) break;
      }
      assert.equal(xml, targetXml());
      assert.match(xml, /<architecture>riscv:rv32<\/architecture>/);
      assert.match(xml, /name="mstatus" bitsize="32" regnum="802"/);
      assert.match(xml, /name="tdata1" bitsize="32" regnum="1987"/);
      assert.equal(await c.request('qXfer:features:read:other.xml:0,100'), 'E02');
      assert.equal(await c.request('qTStatus'), '');
      assert.equal(await c.request('?'), 'T05thread:1;');
      assert.equal(await c.request('qfThreadInfo'), 'm1');
      assert.equal(await c.request('qsThreadInfo'), 'l');
      assert.equal(await c.request('qAttached:1'), '1');
      assert.equal(await c.request('Hc-1'), 'OK');
      assert.equal(await c.request('qC'), 'QC1');
      assert.match(await c.request('qXfer:threads:read::0,1000'), /<thread id="1" core="0" name="rproc0"\/>/);
      assert.equal(Buffer.from(await c.request('qThreadExtraInfo,1'), 'hex').toString(), 'rproc0 [halted]');
      const g = await c.request('g');
      assert.equal(g.length, 33 * 8);
      assert.equal(g.slice(32 * 8), le32(ENTRY), 'pc at the entry point');
      assert.equal(await c.request('p20'), le32(ENTRY), 'p of pc');
      assert.equal(await c.request('p21'), le32(3), 'priv: M');
      assert.equal(await c.request(`p${(34 + 0x301).toString(16)}`), le32(0x4000_1105), 'misa');
      assert.equal(await c.request('vCont?'), 'vCont;c;C;s;S');
      assert.equal(await c.request('qOffsets'), '');
      assert.equal(await c.request('qSymbol::'), '');
    } finally {
      await done(c);
    }
  });

  it('reads and writes registers and memory through the core view; binary X data with escapes', async () => {
    const c = await session();
    try {
      assert.equal(await c.request(`P5=${le32(0xdead_beef)}`), 'OK');
      assert.equal(await c.request('p5'), le32(0xdead_beef));
      // x0 stays 0 whatever G says.
      const g = await c.request('g');
      const withX0 = le32(0x1234) + g.slice(8, 5 * 8) + le32(0x55) + g.slice(6 * 8);
      assert.equal(await c.request(`G${withX0}`), 'OK');
      assert.equal((await c.request('g')).slice(0, 8), '00000000');
      assert.equal(await c.request('p5'), le32(0x55));
      const bytes = Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff, 0x03, 0x2b);
      const addr = RAM_SCRATCH.toString(16);
      assert.equal(await c.request(`X${addr},8:${escapeBinary(bytes)}`), 'OK');
      assert.equal(await c.request(`m${addr},8`), Buffer.from(bytes).toString('hex'));
      assert.equal(await c.request(`X${addr},0:`), 'OK', 'the binary-write probe');
      assert.equal(await c.request(`M${addr},4:01020304`), 'OK');
      assert.equal(await c.request(`m${addr},4`), '01020304');
      // The CLINT reads without side effects; an unmapped address is an error.
      assert.match(await c.request('m200bff8,8'), /^[0-9a-f]{16}$/);
      assert.equal(await c.request('m40000000,4'), 'E0e');
      // A read running off the end of readable memory stops there.
      const end = Math.max(...soc.core('rproc0').map.windows.map((w) => w.da + w.size)) - 2;
      const tail = await c.request(`m${end.toString(16)},10`);
      assert.ok(tail.length > 0 && tail.length < 0x20, `read ${tail.length / 2} bytes at the edge`);
    } finally {
      await done(c);
    }
  });

  it('answers malformed packets with errors, unknown ones with an empty reply', async () => {
    const c = await session();
    try {
      const cases: readonly (readonly [string, string])[] = [
        ['mzz,4', 'E16'],
        ['m80000000', 'E16'],
        ['M80000000,4:abc', 'E16'],
        ['M80000000,4:0102', 'E16'],
        ['M80000000,4', 'E16'],
        ['X80000000,4:ab', 'E16'],
        ['X80000000,1:}', 'E16'],
        ['Mffffffff,4:01020304', 'E0e'],
        ['p', 'E16'],
        ['pfffff', 'E16'],
        ['P5=12', 'E16'],
        ['Pzz=00000000', 'E16'],
        [`P21=${le32(0)}`, 'E16'],
        ['Gabc', 'E16'],
        ['Hx1', 'E16'],
        ['Hg99', 'E03'],
        ['Hgzz', 'E16'],
        ['T99', 'E03'],
        ['Tzz', 'E03'],
        ['Z0,zz,2', 'E16'],
        ['Z2,80000000,0', 'E16'],
        ['Z9,80000000,4', ''],
        ['vCont;x', 'E16'],
        ['vCont;c:zz', 'E16'],
        ['vCont', ''],
        ['qXfer:features:read:target.xml:zz,10', 'E16'],
        ['qRcmd,zz', 'E16'],
        ['qThreadExtraInfo,99', 'E03'],
        ['J', ''],
        ['', ''],
        ['!', ''],
      ];
      for (const [packet, reply] of cases) assert.equal(await c.request(packet), reply, packet);
      // And it still works.
      assert.equal(await c.request('?'), 'T05thread:1;');
    } finally {
      await done(c);
    }
  });

  it('clamps huge lengths instead of failing or allocating them', async () => {
    const c = await session();
    try {
      const r = await c.request('m80000000,ffffffffffffffffffff');
      assert.equal(r.length, PACKET_SIZE - 16, 'the most one reply carries');
      const x = await c.request('qXfer:features:read:target.xml:0,fffffffffffffffffff');
      assert.equal(x, `l${targetXml()}`);
      assert.equal(await c.request('m80000000,0'), '');
    } finally {
      await done(c);
    }
  });

  it('asks for a resend on a bad checksum, and resends on a -', async () => {
    const c = await session();
    try {
      c.write('$qAttached#00');
      assert.deepEqual(await c.next(), { kind: 'nack' });
      c.write('$qAttached#zz');
      assert.deepEqual(await c.next(), { kind: 'nack' });
      assert.equal(await c.request('qAttached'), '1');
      c.write('-');
      assert.equal(await c.packet(), '1', 'the last reply again');
      // Line noise between packets is skipped.
      c.write('garbage');
      assert.equal(await c.request('qAttached'), '1');
    } finally {
      await done(c);
    }
  });

  it('stops at a software breakpoint (swbreak) and at a write watch point (watch:addr), and reports an interrupt as SIGINT', async () => {
    await restartHeld();
    const c = await session();
    try {
      assert.equal(await c.request(`Z0,${MAIN.toString(16)},2`), 'OK');
      c.write(framePacket('vCont;c:p1.-1'));
      assert.equal(await c.packet(), 'T05thread:1;swbreak:;');
      assert.equal((await c.request('g')).slice(32 * 8), le32(MAIN));
      // A step with the breakpoint still there leaves it: main's first instruction, addi sp, sp, -16.
      const sp = Buffer.from(await c.request('p2'), 'hex').readUInt32LE(0);
      assert.equal(await c.request('vCont;s:1'), 'T05thread:1;');
      assert.equal(await c.request('p20'), le32(MAIN + 2));
      assert.equal(await c.request(`z0,${MAIN.toString(16)},2`), 'OK');
      // main's prologue then stores ra at the old sp - 4: a write watch point there stops before it.
      const slot = (sp - 4).toString(16);
      assert.equal(await c.request(`Z2,${slot},4`), 'OK');
      c.write(framePacket('vCont;c'));
      assert.equal(await c.packet(), `T05thread:1;watch:${slot};`);
      assert.equal(await c.request('p20'), le32(MAIN + 0x10), 'at the sw ra, 12(sp)');
      assert.equal(await c.request(`z2,${slot},4`), 'OK');
      c.write(framePacket('vCont;c'));
      await new Promise((r) => setTimeout(r, 50));
      c.write('\x03');
      assert.equal(await c.packet(), 'T02thread:1;');
    } finally {
      await done(c);
    }
  });

  it('gives hardware breakpoints and watch points triggers until none is free, all or nothing', async () => {
    const c = await session();
    try {
      assert.equal(await c.request(`Z1,${MAIN.toString(16)},2`), 'OK');
      assert.equal(await c.request(`Z2,${RAM_SCRATCH.toString(16)},4`), 'OK');
      assert.equal(await c.request(`Z3,${(RAM_SCRATCH + 8).toString(16)},4`), 'OK');
      assert.equal(await c.request(`Z4,${(RAM_SCRATCH + 16).toString(16)},8`), 'OK');
      assert.equal(await c.request(`Z2,${(RAM_SCRATCH + 32).toString(16)},4`), 'E1c', 'ENOSPC');
      // Inserting the same point again takes no second trigger.
      assert.equal(await c.request(`Z2,${RAM_SCRATCH.toString(16)},4`), 'OK');
      assert.equal(await c.request(`z4,${(RAM_SCRATCH + 16).toString(16)},8`), 'OK');
      assert.equal(await c.request(`Z2,${(RAM_SCRATCH + 32).toString(16)},4`), 'OK');
      // The firmware sees the debugger's triggers as dmode = 1.
      assert.equal(await c.request(`P${(34 + 0x7a0).toString(16)}=${le32(1)}`), 'OK');
      const tdata1 = Buffer.from(await c.request(`p${(34 + 0x7a1).toString(16)}`), 'hex').readUInt32LE(0);
      assert.equal(tdata1 & (1 << 27), 1 << 27);
      for (const z of [
        `z1,${MAIN.toString(16)},2`,
        `z2,${RAM_SCRATCH.toString(16)},4`,
        `z3,${(RAM_SCRATCH + 8).toString(16)},4`,
        `z2,${(RAM_SCRATCH + 32).toString(16)},4`,
      ])
        assert.equal(await c.request(z), 'OK');
    } finally {
      await done(c);
    }
  });

  it("runs gdb's monitor commands (qRcmd) with their output in O packets", async () => {
    const c = await session();
    try {
      c.write(framePacket(`qRcmd,${Buffer.from('help').toString('hex')}`));
      assert.deepEqual(await c.next(), { kind: 'ack' });
      assert.equal(Buffer.from((await c.packet()).slice(1), 'hex').toString(), 'commands: help\n');
      assert.equal(await c.packet(), 'OK');
    } finally {
      await done(c);
    }
  });

  it('turns acknowledgements off after QStartNoAckMode', async () => {
    const c = await session();
    try {
      assert.equal(await c.request('QStartNoAckMode'), 'OK');
      c.ack = false;
      c.write(framePacket('qAttached'));
      assert.deepEqual(await c.next(), { kind: 'packet', data: '1' }, 'no + before the reply');
    } finally {
      await done(c);
    }
  });

  it('takes one debugger at a time; a second connection is closed at once', async () => {
    const c = await session();
    try {
      const second = await RspClient.connect(server.address().port);
      await second.closedByPeer();
      assert.equal(await c.request('qAttached'), '1');
      assert.ok(logs.some((l) => /refused .* is connected/.test(l)));
    } finally {
      await done(c);
    }
  });

  it('survives a client that leaves in the middle of a packet, and lets the cores run on', async () => {
    const c = await session();
    assert.equal(port.held, true);
    c.write('$m80000000,');
    c.close();
    while (server.connected) await new Promise((r) => setTimeout(r, 10));
    assert.equal(port.held, false, 'released');
    const again = await session();
    try {
      assert.equal(await again.request('qAttached'), '1');
    } finally {
      await done(again);
    }
  });

  it('closes the connection on a packet longer than the limit', async () => {
    const c = await session();
    c.write(`$${'a'.repeat(PACKET_SIZE + 100)}`);
    await c.closedByPeer();
    assert.ok(logs.some((l) => /longer than/.test(l)));
    while (server.connected) await new Promise((r) => setTimeout(r, 10));
    const again = await session();
    await done(again);
  });

  it('k ends the connection and tells the owner (kill)', async () => {
    const c = await session();
    const before = kills.length;
    c.write(framePacket('k'));
    await c.closedByPeer();
    assert.equal(kills.length, before + 1);
    while (server.connected) await new Promise((r) => setTimeout(r, 10));
  });
});

describe('GDB stub, all-stop over two rv32 cores', () => {
  it('lists both cores as threads, stops both when one stops, and reports a stop that happened meanwhile at the next resume', async () => {
    const soc = new VirtualSoc({
      board: manyCoreBoard(2, 'echo.elf', 'rv32'),
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      // Worker threads: under the scheduler a core held by gdb stops the SoC's clock, and the core
      // resumed behind gdb's back below would not run.
    });
    const ports = soc.cores.flatMap((c) => (c.debugPort === undefined ? [] : [c.debugPort]));
    assert.equal(ports.length, 2);
    const [p1, p2] = ports;
    assert.ok(p1 !== undefined && p2 !== undefined);
    for (const p of ports) p.holdAtNextStart();
    await soc.start();
    for (const c of soc.cores) await c.rproc.boot();
    const server = await GdbServer.listen({ cores: ports, port: 0 });
    const c = await RspClient.connect(server.address().port);
    try {
      assert.match(await c.request(GDB13_SUPPORTED), /swbreak\+/);
      assert.equal(await c.request('qfThreadInfo'), 'm1,2');
      assert.equal(await c.request('?'), 'T05thread:1;');
      assert.equal(await c.request(`Z0,${MAIN.toString(16)},2`), 'OK');
      // One core resumed behind gdb's back (the monitor's cont) stops at the breakpoint while gdb
      // has everything stopped: that stop is kept, and the next resume reports it, running nothing.
      const kept = p2.next('stop');
      await p2.resume();
      assert.deepEqual(await kept, { pc: MAIN, reason: { kind: 'breakpoint', hard: false } });
      c.write(framePacket('vCont;c'));
      assert.equal(await c.packet(), 'T05thread:2;swbreak:;');
      assert.equal(await c.request('Hg1'), 'OK');
      assert.equal((await c.request('g')).slice(32 * 8), le32(ENTRY), 'core 1 did not run');
      // Now both run: the first at main stops the other (all-stop), one reply.
      assert.equal(await c.request(`z0,${MAIN.toString(16)},2`), 'OK');
      assert.equal(await c.request(`Z0,${(MAIN + 2).toString(16)},2`), 'OK');
      c.write(framePacket('vCont;c'));
      assert.match(await c.packet(), /^T05thread:[12];swbreak:;$/);
      for (const p of ports) assert.equal(p.held, true, `${p.name} held`);
      assert.equal(await c.request(`z0,${(MAIN + 2).toString(16)},2`), 'OK');
      // Step core 1 only; core 2 stays where it is.
      assert.equal(await c.request('Hg2'), 'OK');
      const pc2 = (await c.request('g')).slice(32 * 8);
      assert.equal(await c.request('vCont;s:1'), 'T05thread:1;');
      // A stop makes its core the current one (as QEMU): look at core 2 again.
      assert.equal(await c.request('Hg2'), 'OK');
      assert.equal((await c.request('g')).slice(32 * 8), pc2, 'core 2 did not move');
      assert.equal(await c.request('T2'), 'OK');
      assert.equal(await c.request('T3'), 'E03');
      c.write(framePacket('vCont;c'));
      await new Promise((r) => setTimeout(r, 50));
      c.write('\x03');
      assert.match(await c.packet(), /^T02thread:[12];$/);
      assert.equal(await c.request('D'), 'OK');
    } finally {
      c.close();
      await server.close();
      await soc.close();
    }
  });
});

describe('GDB stub and a faulting core', () => {
  it('stops a core at an unhandled fault (SIGSEGV) before its crash report, which continuing lets go', async () => {
    const soc = new VirtualSoc({
      firmwareStore: defaultFirmwareStore(),
      autoBoot: false,
      firmware: { rproc0: 'crash.elf' },
      scheduler: true,
    });
    await soc.start();
    const rproc = soc.rproc('rproc0');
    rproc.crash.recoveryDisabled = true;
    await rproc.boot();
    const ports = soc.cores.flatMap((c) => (c.debugPort === undefined ? [] : [c.debugPort]));
    const server = await GdbServer.listen({ cores: ports, port: 0 });
    const c = await RspClient.connect(server.address().port);
    const crashes: string[] = [];
    rproc.on('crash', (e) => crashes.push(e.typeName));
    try {
      await c.request(GDB13_SUPPORTED);
      assert.match(await c.request('?'), /^T05thread:1;$/);
      c.write(framePacket('vCont;c'));
      const ch = await soc.rpmsg.waitForChannel('crasher', { rproc: 'rproc0', timeoutMs: 20_000 });
      await ch.open().send(new TextEncoder().encode('store'));
      assert.equal(await c.packet(), 'T0bthread:1;');
      assert.deepEqual(crashes, [], 'not reported yet');
      const crashStore = Number(
        readSymbols(parseElf(readFileSync(prebuiltPath('crash.elf')))).symbols.find(
          (s) => s.name === 'crash_store',
        )?.value,
      );
      const pc = Buffer.from(await c.request('p20'), 'hex').readUInt32LE(0);
      assert.ok(pc >= crashStore && pc < crashStore + 16, `pc ${pc.toString(16)} in crash_store`);
      assert.equal(await c.request(`p${(34 + 0x342).toString(16)}`), le32(7), 'mcause: store access fault');
      const crashed = rproc.next('crash');
      c.write(framePacket('vCont;c'));
      assert.equal((await crashed).typeName, 'mmufault');
    } finally {
      c.close();
      await server.close();
      await soc.close();
    }
  });
});
