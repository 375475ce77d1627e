// Coredumps (remoteproc_coredump.c): the ELF core a crash produces — header, one
// PT_LOAD per segment with offsets right after the headers, RWX, contents equal to device memory,
// 0xff where memory does not translate — checked with our reader and with binutils' readelf when
// it is installed; the modes; platform segments replacing the default ones; ELF64 info.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { needTools } from '../../test/support/cross-tools.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElf, type ElfImage } from '../elf/elf-reader.ts';
import { EM, ET, NT, PF, PT } from '../elf/elf-constants.ts';
import { parseNotes, type ElfNote } from '../elf/elf-core-notes.ts';
import { writeCoredumpFile, type DumpSegment, type RprocCoredump } from './coredump.ts';
import { ELF_DEFAULT_OPS } from './elf-defaults.ts';
import { RPROC_WATCHDOG } from './rproc-state.ts';
import { helloElf, rig, settle, type Rig, type RigOptions } from '../../test/support/rproc-fixtures.ts';

const RAM_DA = 0x8000_0000;

interface Crashed {
  readonly dump: RprocCoredump;
  readonly bytes: Uint8Array;
  /** Fake RAM as it was when the dump was taken (before recovery reloads it). */
  readonly ram: Uint8Array;
  readonly image: ElfImage;
}

/** Boot, let the firmware leave a pattern in its .bss, crash, and collect the enabled-mode dump. */
async function crashAndDump(options: RigOptions = {}, arrange?: (r: Rig) => void): Promise<Crashed & Rig> {
  const r = rig(options);
  r.rproc.coredump.mode = 'enabled';
  arrange?.(r);
  await r.rproc.boot();
  r.platform.ram.set(new TextEncoder().encode('live state of the crashed core'), 0x1000);
  let ram: Uint8Array | undefined;
  const dumped = r.rproc.next('coredump');
  r.rproc.on('coredump', () => (ram = r.platform.ram.slice()));
  const done = r.rproc.next('recovery', (e) => e.phase !== 'start');
  r.rproc.reportCrash(RPROC_WATCHDOG);
  const dump = await dumped;
  assert.equal((await done).phase, 'done');
  assert.ok(ram !== undefined);
  const bytes = dump.bytes();
  const { image, problems } = readElf(bytes);
  assert.deepEqual(
    problems.filter((p) => p.severity === 'error'),
    [],
  );
  assert.ok(image !== undefined);
  return { ...r, dump, bytes, ram, image };
}

function ramAt(ram: Uint8Array, da: bigint, size: number): Uint8Array {
  const off = Number(da) - RAM_DA;
  return ram.subarray(off, off + size);
}

// ---- readelf -------------------------------------------------------------------------------------

interface ReadelfLoad {
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
  readonly flags: string;
  readonly align: bigint;
}

interface ReadelfOutput {
  readonly header: ReadonlyMap<string, string>;
  readonly loads: readonly ReadelfLoad[];
}

const readelfTools = needTools({ readelf: ['riscv64-unknown-elf-readelf', 'readelf'] });
const readelfSkip = readelfTools.skip;

async function runReadelf(dump: RprocCoredump): Promise<ReadelfOutput> {
  const dir = mkdtempSync(join(tmpdir(), 'rproc-core-'));
  try {
    const path = join(dir, 'remoteproc0.core');
    await writeCoredumpFile(dump, path);
    const out = spawnSync(readelfTools.get('readelf'), ['-W', '-h', '-l', path], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const header = new Map<string, string>();
    for (const m of out.stdout.matchAll(/^\s{2}([A-Za-z][^:]*):\s+(.*)$/gm)) {
      const [, key, value] = m;
      if (key !== undefined && value !== undefined) header.set(key.trim(), value.trim());
    }
    const loads: ReadelfLoad[] = [];
    for (const line of out.stdout.split('\n')) {
      const tokens = line.trim().split(/\s+/);
      if (tokens[0] !== 'LOAD') continue;
      const [offset, vaddr, paddr, filesz, memsz, flags, align] = tokens.slice(1);
      assert.ok(
        offset !== undefined &&
          vaddr !== undefined &&
          paddr !== undefined &&
          filesz !== undefined &&
          memsz !== undefined &&
          flags !== undefined &&
          align !== undefined,
        line,
      );
      loads.push({
        offset: BigInt(offset),
        vaddr: BigInt(vaddr),
        paddr: BigInt(paddr),
        filesz: BigInt(filesz),
        memsz: BigInt(memsz),
        flags,
        align: BigInt(align),
      });
    }
    return { header, loads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- tests ---------------------------------------------------------------------------------------

describe('enabled coredump of hello.elf', () => {
  it('is an ELF32 ET_CORE: entry = boot address, one RWX PT_LOAD per loaded segment', async () => {
    const c = await crashAndDump();
    const h = c.image.header;
    assert.deepEqual(
      [h.class, h.endian, h.type, h.machine, h.entry, h.phoff, h.phentsize, h.shnum],
      [32, 'le', ET.ET_CORE, EM.EM_RISCV, c.rproc.bootAddr, 52, 32, 0],
    );
    assert.equal(h.entry, 0x8000_0000n);
    const fw = readElf(helloElf()).image;
    assert.ok(fw !== undefined);
    const fwLoads = fw.programHeaders.filter((p) => p.type === PT.PT_LOAD);
    let offset = 52 + 32 * fwLoads.length;
    assert.equal(c.image.programHeaders.length, fwLoads.length);
    c.image.programHeaders.forEach((ph, i) => {
      const src = fwLoads[i];
      assert.ok(src !== undefined);
      assert.deepEqual(
        [ph.type, ph.flags, ph.offset, ph.vaddr, ph.paddr, ph.filesz, ph.memsz, ph.align],
        [PT.PT_LOAD, PF.PF_R | PF.PF_W | PF.PF_X, offset, src.paddr, src.paddr, src.memsz, src.memsz, 0n],
        `program header ${i}`,
      );
      assert.deepEqual(c.bytes.subarray(ph.offset, ph.offset + ph.filesz), ramAt(c.ram, ph.paddr, ph.filesz));
      offset += ph.filesz;
    });
    assert.equal(c.bytes.length, offset);
    assert.equal(c.dump.size, offset);
    // The dump holds the crashed core's memory, not the image reloaded by recovery.
    const text = new TextDecoder().decode(c.bytes);
    assert.ok(text.includes('live state of the crashed core'));
  });

  it('read() serves any range of the same bytes', async () => {
    const c = await crashAndDump();
    for (const [o, l] of [
      [0, 52],
      [50, 40],
      [100, 300],
      [c.dump.size - 10, 100],
      [c.dump.size + 5, 10],
    ] as const) {
      assert.deepEqual(c.dump.read(o, l), c.bytes.slice(o, o + l), `read(${o}, ${l})`);
    }
  });

  it('binutils readelf agrees on the header and the program headers', { skip: readelfSkip }, async () => {
    const c = await crashAndDump();
    const out = await runReadelf(c.dump);
    assert.equal(out.header.get('Class'), 'ELF32');
    assert.equal(out.header.get('Type'), 'CORE (Core file)');
    assert.equal(out.header.get('Machine'), 'RISC-V');
    assert.equal(out.header.get('Entry point address'), '0x80000000');
    assert.equal(out.header.get('Number of program headers'), String(c.image.programHeaders.length));
    assert.deepEqual(
      out.loads,
      c.image.programHeaders.map((ph) => ({
        offset: BigInt(ph.offset),
        vaddr: ph.vaddr,
        paddr: ph.paddr,
        filesz: BigInt(ph.filesz),
        memsz: BigInt(ph.memsz),
        flags: 'RWE',
        align: 0n,
      })),
    );
    assert.deepEqual(
      out.loads.map((l) => [l.offset, l.vaddr, l.filesz]),
      [
        [0x74n, 0x8000_0000n, 0x78n],
        [0xecn, 0x8000_0078n, 0x24c8n],
      ],
    );
  });
});

describe('coredump modes and segments', () => {
  it('disabled (the default): no dump, recovery goes on', async () => {
    const r = rig();
    await r.rproc.boot();
    const dumps: unknown[] = [];
    r.rproc.on('coredump', (d) => dumps.push(d));
    const done = r.rproc.next('recovery', (e) => e.phase !== 'start');
    r.rproc.reportCrash(RPROC_WATCHDOG);
    assert.equal((await done).phase, 'done');
    assert.deepEqual(dumps, []);
  });

  const PATTERN = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
  const custom: DumpSegment = {
    da: 0x1000n,
    size: 32,
    priv: 'regs',
    dump: (_segment, offset, dest) => dest.set(PATTERN.subarray(offset, offset + dest.length)),
  };
  const platformSegments: readonly DumpSegment[] = [
    { da: 0x8000_0000n, size: 0x40 },
    { da: 0x7000_0000n, size: 0x20 },
    custom,
  ];

  it('platform segments replace the default ones: memory, 0xff where untranslatable, custom reader', async () => {
    const c = await crashAndDump({}, ({ rproc }) => {
      for (const s of platformSegments) rproc.coredump.addSegment(s);
    });
    assert.deepEqual(
      c.image.programHeaders.map((p) => [p.vaddr, p.filesz]),
      platformSegments.map((s) => [s.da, s.size]),
    );
    const [mem, hole, regs] = c.image.programHeaders;
    assert.ok(mem !== undefined && hole !== undefined && regs !== undefined);
    assert.deepEqual(
      c.bytes.subarray(mem.offset, mem.offset + mem.filesz),
      ramAt(c.ram, mem.vaddr, mem.filesz),
    );
    assert.ok(c.bytes.subarray(hole.offset, hole.offset + hole.filesz).every((b) => b === 0xff));
    assert.deepEqual(c.bytes.subarray(regs.offset, regs.offset + regs.filesz), PATTERN);
  });

  it('inline mode serves the same bytes as enabled mode, read piecewise from the stopped core', async () => {
    const r = rig();
    await r.rproc.boot();
    for (const s of platformSegments) r.rproc.coredump.addSegment(s);
    r.rproc.coredump.mode = 'enabled';
    const enabled = r.rproc.next('coredump');
    await r.rproc.coredump.run();
    const whole = (await enabled).bytes();
    r.rproc.coredump.mode = 'inline';
    const inline = r.rproc.next('coredump');
    const finished = r.rproc.coredump.run();
    const dump = await inline;
    assert.equal(dump.size, whole.length);
    const pieces: Uint8Array[] = [];
    for (let o = 0; o < dump.size; o += 13) pieces.push(dump.read(o, 13));
    assert.deepEqual(Buffer.concat(pieces), Buffer.from(whole));
    dump.release();
    await finished;
  });

  it('segments are freed with the resources: a platform registers them on every boot', async () => {
    const r = rig({
      ops: (p) => ({
        prepare: (rproc) => {
          p.record('prepare');
          rproc.coredump.addSegment({ da: 0x8000_0000n, size: 0x40 });
        },
      }),
    });
    r.rproc.coredump.mode = 'enabled';
    await r.rproc.boot();
    await r.rproc.shutdown();
    await r.rproc.boot();
    const dumped = r.rproc.next('coredump');
    await r.rproc.coredump.run();
    const image = readElf((await dumped).bytes()).image;
    assert.deepEqual(
      image?.programHeaders.map((p) => [p.vaddr, p.filesz]),
      [[0x8000_0000n, 0x40]],
    );
    assert.deepEqual(r.rproc.coredump.segments, [{ da: 0x8000_0000n, size: 0x40 }]);
    await r.rproc.shutdown();
    assert.deepEqual(r.rproc.coredump.segments, []);
  });

  it('ELF64 info from coredump.setElfInfo: an ELF64 core with 64-bit headers', async () => {
    const c = await crashAndDump({}, ({ rproc }) =>
      rproc.coredump.setElfInfo({ class: 64, machine: EM.EM_AARCH64 }),
    );
    const h = c.image.header;
    assert.deepEqual(
      [h.class, h.type, h.machine, h.entry, h.phoff, h.phentsize, h.ehsize],
      [64, ET.ET_CORE, EM.EM_AARCH64, 0x8000_0000n, 64, 56, 64],
    );
    let offset = 64 + 56 * c.image.programHeaders.length;
    for (const ph of c.image.programHeaders) {
      assert.equal(ph.offset, offset);
      assert.deepEqual(c.bytes.subarray(ph.offset, ph.offset + ph.filesz), ramAt(c.ram, ph.paddr, ph.filesz));
      offset += ph.filesz;
    }
    assert.equal(c.bytes.length, offset);
  });

  it('ELF64 dump through readelf', { skip: readelfSkip }, async () => {
    const c = await crashAndDump({}, ({ rproc }) =>
      rproc.coredump.setElfInfo({ class: 64, machine: EM.EM_RISCV }),
    );
    const out = await runReadelf(c.dump);
    assert.equal(out.header.get('Class'), 'ELF64');
    assert.equal(out.header.get('Type'), 'CORE (Core file)');
    assert.equal(out.header.get('Entry point address'), '0x80000000');
    assert.deepEqual(
      out.loads.map((l) => [l.offset, l.vaddr, l.paddr, l.filesz, l.memsz, l.flags]),
      c.image.programHeaders.map((ph) => [
        BigInt(ph.offset),
        ph.vaddr,
        ph.paddr,
        BigInt(ph.filesz),
        BigInt(ph.memsz),
        'RWE',
      ]),
    );
    assert.equal(out.loads[0]?.offset, 64n + 56n * 2n);
  });

  it('without ELF info (own load op, nothing set) the dump is skipped with a warning', async () => {
    const r = rig({ ops: () => ({ ...ELF_DEFAULT_OPS, load: () => undefined }) });
    r.rproc.coredump.mode = 'enabled';
    r.rproc.coredump.addSegment({ da: 0x8000_0000n, size: 0x40 });
    await r.rproc.boot();
    const dumps: unknown[] = [];
    r.rproc.on('coredump', (d) => dumps.push(d));
    await r.rproc.coredump.run();
    await settle();
    assert.deepEqual(dumps, []);
    assert.ok(r.logs.includes('warn: ELF class is not set, coredump skipped'), r.logs.join('\n'));
  });

  for (const mode of ['enabled', 'inline'] as const) {
    it(`${mode}: the platform's coredumpNotes go in a PT_NOTE ahead of the segments, asked once the core stopped`, async () => {
      const notes: ElfNote[] = [
        { name: 'CORE', type: NT.NT_PRSTATUS, desc: new Uint8Array(204).fill(0x5a) },
        { name: 'VENDOR', type: 0x42, desc: new TextEncoder().encode('state') },
      ];
      const asked: string[] = [];
      const r = rig({
        ops: () => ({
          coredumpNotes: (rproc) => {
            asked.push(rproc.state);
            return notes;
          },
        }),
      });
      r.rproc.coredump.mode = mode;
      await r.rproc.boot();
      const dumped = r.rproc.next('coredump');
      const done = r.rproc.next('recovery', (e) => e.phase !== 'start');
      r.rproc.reportCrash(RPROC_WATCHDOG);
      const dump = await dumped;
      const bytes = dump.bytes();
      dump.release();
      await done;
      assert.deepEqual(asked, ['offline']);
      const image = readElf(bytes).image;
      assert.ok(image !== undefined);
      const [note, ...loads] = image.programHeaders;
      assert.equal(note?.type, PT.PT_NOTE);
      assert.ok(loads.length > 0 && loads.every((p) => p.type === PT.PT_LOAD));
      assert.deepEqual(parseNotes(bytes.subarray(note.offset, note.offset + note.filesz)), notes);
      assert.equal(loads[0]?.offset, note.offset + note.filesz);
    });
  }

  it('no notes from the platform: the dump has no PT_NOTE, as Linux writes it', async () => {
    const c = await crashAndDump({ ops: () => ({ coredumpNotes: () => undefined }) });
    assert.ok(c.image.programHeaders.every((p) => p.type === PT.PT_LOAD));
  });

  it('a platform coredump op replaces the default dump', async () => {
    const calls: string[] = [];
    const r = rig({ ops: () => ({ coredump: (rproc) => void calls.push(`coredump ${rproc.state}`) }) });
    r.rproc.coredump.mode = 'enabled';
    await r.rproc.boot();
    const dumps: unknown[] = [];
    r.rproc.on('coredump', (d) => dumps.push(d));
    const done = r.rproc.next('recovery', (e) => e.phase !== 'start');
    r.rproc.reportCrash(RPROC_WATCHDOG);
    await done;
    assert.deepEqual(calls, ['coredump offline']);
    assert.deepEqual(dumps, []);
  });
});
