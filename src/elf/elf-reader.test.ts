// Reader unit tests: builder → reader round trips for ELF32/ELF64 × LE/BE, header checks and
// warnings, gABI extended numbering, the sanity-check entry point and the name tables.
// Malformed images by test case: elf-malformed.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildElf } from './elf-builder.ts';
import {
  EHDR,
  EM,
  ET,
  PN_XNUM,
  PT,
  SHN,
  SHT,
  machineName,
  programTypeName,
  sectionTypeName,
  type ElfClass,
} from './elf-constants.ts';
import { elfBootAddr, elfSanityCheck, parseElf, readElf } from './elf-reader.ts';
import {
  DATA_DA,
  RSC_DA,
  TEXT_DA,
  ehdrField,
  firmwareSpec,
  imageOf,
  mutated,
  phdrField,
  rprocErrorOf,
  sectionNamed,
  setField,
  shdrField,
} from '../../test/support/elf-fixtures.ts';

const VARIANTS = [
  { elfClass: 32, endian: 'le' },
  { elfClass: 32, endian: 'be' },
  { elfClass: 64, endian: 'le' },
  { elfClass: 64, endian: 'be' },
] as const;

describe('readElf: builder round trip', () => {
  for (const { elfClass, endian } of VARIANTS) {
    it(`reads back an ELF${elfClass} ${endian.toUpperCase()} firmware image exactly`, () => {
      const bytes = buildElf(firmwareSpec(elfClass, endian));
      const { image, problems } = readElf(bytes);
      assert.deepEqual(problems, []);
      assert.ok(image);
      const h = image.header;
      assert.equal(h.class, elfClass);
      assert.equal(h.endian, endian);
      assert.equal(h.type, ET.ET_EXEC);
      assert.equal(h.machine, EM.EM_RISCV);
      assert.equal(h.entry, BigInt(TEXT_DA));
      assert.equal(elfBootAddr(image), BigInt(TEXT_DA));
      assert.equal(h.phnum, 3);
      assert.equal(h.shnum, 9);
      assert.equal(h.shstrndx, 8);

      assert.deepEqual(
        image.programHeaders.map((p) => [p.type, p.paddr, p.vaddr, p.filesz, p.memsz]),
        [
          [PT.PT_LOAD, BigInt(TEXT_DA), BigInt(TEXT_DA), 0x60, 0x60],
          [PT.PT_LOAD, BigInt(DATA_DA), BigInt(DATA_DA), 0x20, 0x120],
          [PT.PT_LOAD, BigInt(RSC_DA), BigInt(RSC_DA), 24, 24],
        ],
      );
      assert.deepEqual(
        image.sections.map((s) => s.name),
        ['', '.text', '.data', '.bss', '.resource_table', '.comment', '.symtab', '.strtab', '.shstrtab'],
      );
      // A segment carrying a section shares its file bytes, as a linker lays them out.
      for (const [i, name] of ['.text', '.data', '.resource_table'].entries()) {
        const s = sectionNamed(image, name);
        assert.equal(s.offset, image.programHeaders[i]?.offset, name);
        assert.equal(s.addr, image.programHeaders[i]?.vaddr, name);
      }
      const bss = sectionNamed(image, '.bss');
      assert.equal(bss.type, SHT.SHT_NOBITS);
      assert.equal(bss.size, 0x100);
      // p_offset ≡ p_vaddr (mod p_align): the text segment asked for 0x10.
      assert.equal((image.programHeaders[0]?.offset ?? 1) % 0x10, TEXT_DA % 0x10);
    });
  }

  it('keeps 64-bit addresses exact and rejects them in ELF32', () => {
    const high = 0x1_2345_6789_abcdn;
    const image = parseElf(
      buildElf({
        class: 64,
        entry: high,
        segments: [{ paddr: high, vaddr: high + 0x10n, data: new Uint8Array(4) }],
      }),
    );
    assert.equal(image.header.entry, high);
    const [segment] = image.programHeaders;
    assert.ok(segment);
    assert.equal(segment.paddr, high);
    assert.equal(segment.vaddr, high + 0x10n);
    const e = rprocErrorOf(() => buildElf({ class: 32, entry: high }));
    assert.equal(e.code, 'EOVERFLOW');
    assert.match(e.message, /0x123456789abcd/);
  });

  it('builds deterministic bytes', () => {
    assert.deepEqual(buildElf(firmwareSpec(64)), buildElf(firmwareSpec(64)));
  });

  it('builds a section-less image', () => {
    const image = parseElf(
      buildElf({
        class: 32,
        entry: 0,
        segments: [{ paddr: 0, data: new Uint8Array(8) }],
        sectionHeaders: false,
      }),
    );
    assert.equal(image.header.shoff, 0);
    assert.equal(image.header.shnum, 0);
    assert.equal(image.header.shentsize, 0);
    assert.deepEqual(image.sections, []);
  });

  it('rejects builder specs it cannot express', () => {
    for (const spec of [
      { class: 32, entry: 0, sections: [{ name: 'a\0b' }] },
      { class: 32, entry: 0, segments: [{ paddr: 0, section: '.missing' }] },
      { class: 32, entry: 0, sections: [{ name: '.x' }], sectionHeaders: false },
      { class: 32, entry: -1 },
    ] as const) {
      assert.equal(rprocErrorOf(() => buildElf(spec)).code, 'EINVAL');
    }
  });
});

describe('readElf: header checks', () => {
  const warnings = [
    { what: 'EI_VERSION 0', field: 'e_ident' as const, at: 6, value: 0, match: /EI_VERSION.*0x0/ },
    { what: 'e_version 2', field: 'e_version' as const, at: undefined, value: 2, match: /e_version is 0x2/ },
    {
      what: 'e_ehsize 0x30',
      field: 'e_ehsize' as const,
      at: undefined,
      value: 0x30,
      match: /e_ehsize is 0x30/,
    },
  ];
  for (const c of warnings) {
    it(`warns, but does not fail, on ${c.what}`, () => {
      const bytes = mutated(firmwareSpec(32), (b) => {
        const f = ehdrField(32, c.field);
        setField(b, 'le', c.at === undefined ? f : { ...f, at: c.at }, c.value);
      });
      const { problems } = readElf(bytes);
      assert.equal(problems.length, 1);
      const [problem] = problems;
      assert.ok(problem);
      assert.equal(problem.severity, 'warning');
      assert.match(problem.message, c.match);
      parseElf(bytes);
    });
  }

  it('collects every problem with its file offset, and parseElf throws the first', () => {
    const bytes = mutated(firmwareSpec(32), (b, img) => {
      setField(b, 'le', ehdrField(32, 'e_shentsize'), 0x20);
      const data = img.programHeaders[1];
      assert.ok(data);
      setField(b, 'le', phdrField(32, data.headerOffset, 'p_memsz'), 0x10);
      setField(b, 'le', ehdrField(32, 'e_version'), 0);
    });
    const { image, problems } = readElf(bytes);
    assert.ok(image);
    assert.deepEqual(
      problems.map((p) => [p.severity, p.code, p.offset]),
      [
        ['warning', 'EINVAL', EHDR[32].e_version],
        ['error', 'EINVAL', (image.programHeaders[1]?.headerOffset ?? 0) + 16],
        ['error', 'EINVAL', EHDR[32].e_shentsize],
      ],
    );
    assert.equal(image.sections.length, 0);
    const e = rprocErrorOf(() => parseElf(bytes));
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.detail, problems[1]?.message);
    assert.match(
      e.message,
      /^EINVAL: program header 1 \(PT_LOAD at 0x54\): p_filesz 0x20 is larger than p_memsz 0x10$/,
    );
  });

  it('reports e_phoff 0 and e_shoff 0 with tables that claim entries', () => {
    const bytes = mutated(firmwareSpec(64), (b) => {
      setField(b, 'le', ehdrField(64, 'e_phoff'), 0);
      setField(b, 'le', ehdrField(64, 'e_shoff'), 0);
    });
    const { image, problems } = readElf(bytes);
    assert.ok(image);
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'e_phnum is 3 but e_phoff is 0 (no program header table)',
        'e_shnum is 9 but e_shoff is 0 (no section header table)',
      ],
    );
  });

  it('warns that e_shstrndx SHN_UNDEF leaves sections unnamed', () => {
    const bytes = mutated(firmwareSpec(32), (b) =>
      setField(b, 'le', ehdrField(32, 'e_shstrndx'), SHN.SHN_UNDEF),
    );
    const { image, problems } = readElf(bytes);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.severity, 'warning');
    assert.ok(image?.sections.every((s) => s.name === ''));
  });
});

describe('readElf: gABI extended numbering', () => {
  for (const elfClass of [32, 64] as const) {
    it(`ELF${elfClass}: e_shnum 0 and e_shstrndx SHN_XINDEX take their values from section 0`, () => {
      const plain = parseElf(buildElf(firmwareSpec(elfClass)));
      const bytes = mutated(firmwareSpec(elfClass), (b, img) => {
        setField(b, 'le', ehdrField(elfClass, 'e_shnum'), 0);
        setField(b, 'le', ehdrField(elfClass, 'e_shstrndx'), SHN.SHN_XINDEX);
        setField(b, 'le', shdrField(elfClass, img.header.shoff, 'sh_size'), img.header.shnum);
        setField(b, 'le', shdrField(elfClass, img.header.shoff, 'sh_link'), img.header.shstrndx);
      });
      const image = parseElf(bytes);
      assert.equal(image.header.shnum, plain.header.shnum);
      assert.equal(image.header.shstrndx, plain.header.shstrndx);
      assert.deepEqual(
        image.sections.slice(1).map((s) => s.name),
        plain.sections.slice(1).map((s) => s.name),
      );
    });
  }

  it('e_phnum PN_XNUM takes the count from section 0 sh_info', () => {
    const bytes = mutated(firmwareSpec(32), (b, img) => {
      setField(b, 'le', ehdrField(32, 'e_phnum'), PN_XNUM);
      setField(b, 'le', shdrField(32, img.header.shoff, 'sh_info'), 3);
    });
    assert.equal(parseElf(bytes).programHeaders.length, 3);
  });

  it('e_phnum PN_XNUM without a section header table is an error', () => {
    const bytes = mutated(
      {
        ...firmwareSpec(32),
        sections: [],
        symbols: [],
        segments: [{ paddr: 0, data: new Uint8Array(4) }],
        sectionHeaders: false,
      },
      (b) => setField(b, 'le', ehdrField(32, 'e_phnum'), PN_XNUM),
    );
    const e = rprocErrorOf(() => parseElf(bytes));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, /e_phnum at 0x2c is PN_XNUM \(0xffff\) but there is no section header table/);
  });

  it('e_shnum 0 with a non-zero e_shoff and an empty section 0 means no sections (warning)', () => {
    const bytes = mutated(firmwareSpec(32), (b) => setField(b, 'le', ehdrField(32, 'e_shnum'), 0));
    const { image, problems } = readElf(bytes);
    assert.deepEqual(image?.sections, []);
    assert.ok(problems.some((p) => p.severity === 'warning' && /no sections/.test(p.message)));
  });
});

describe('elfSanityCheck', () => {
  it('accepts a good image and returns it', () => {
    const image = elfSanityCheck(buildElf(firmwareSpec(32)));
    assert.equal(image.programHeaders.length, 3);
  });

  it('accepts a big-endian image on a big-endian host', () => {
    elfSanityCheck(buildElf(firmwareSpec(64, 'be')), { hostEndian: 'be' });
  });

  it('reports the machine but does not check it', () => {
    const image = elfSanityCheck(buildElf({ ...firmwareSpec(32), machine: EM.EM_X86_64 }));
    assert.equal(machineName(image.header.machine), 'x86-64');
  });
});

describe('names', () => {
  const machines: [number, string][] = [
    [EM.EM_NONE, 'none'],
    [EM.EM_ARM, 'ARM'],
    [EM.EM_RISCV, 'RISC-V'],
    [EM.EM_AARCH64, 'AArch64'],
    [EM.EM_XTENSA, 'Xtensa'],
    [EM.EM_TI_C6000, 'TI C6000 DSP'],
    [EM.EM_HEXAGON, 'Qualcomm Hexagon (QDSP6)'],
    [EM.EM_KVX, 'Kalray VLIW (KVX)'],
    [0x1234, 'unknown (0x1234)'],
  ];
  for (const [machine, name] of machines) {
    it(`machineName(${machine}) is "${name}"`, () => assert.equal(machineName(machine), name));
  }

  it('names program and section types by spec spelling', () => {
    assert.equal(programTypeName(PT.PT_LOAD), 'PT_LOAD');
    assert.equal(programTypeName(0x70000003), 'PT_RISCV_ATTRIBUTES');
    assert.equal(programTypeName(0x12345), '0x12345');
    assert.equal(sectionTypeName(SHT.SHT_NOBITS), 'SHT_NOBITS');
    assert.equal(sectionTypeName(SHT.SHT_RISCV_ATTRIBUTES), 'SHT_RISCV_ATTRIBUTES');
  });
});

describe('readElf: never throws', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([0x7f])],
    ['52 zero bytes', new Uint8Array(52)],
  ];
  for (const [what, bytes] of inputs) {
    it(`returns problems for ${what}`, () => {
      const { image, problems } = readElf(bytes);
      assert.equal(image, undefined);
      assert.equal(problems[0]?.code, 'EINVAL');
    });
  }
  it('reads both classes from a header-only image', () => {
    for (const elfClass of [32, 64] as ElfClass[]) {
      const image = imageOf(buildElf({ class: elfClass, entry: 0, sectionHeaders: false }));
      assert.equal(image.header.phnum, 0);
    }
  });
});
