// The target description gdb reads with qXfer:features:read (GDB manual, "Target Descriptions",
// "RISC-V Features"): riscv:rv32 with the org.gnu.gdb.riscv.cpu feature (x0..x31 under their ABI
// names, then pc: registers 0..32), org.gnu.gdb.riscv.virtual (priv, 33) and org.gnu.gdb.riscv.csr
// with the machine CSRs the core has, numbered as QEMU numbers them: 34 + the CSR number
// (mstatus = 802), so that register numbers in scripts written against QEMU mean the same here.

import { RV32_GPR_NAMES } from '../soc/debug/debug-protocol.ts';

export const REG_PC = 32;
const REG_PRIV = 33;
/** CSR n is register CSR_BASE + n. */
const CSR_BASE = 34;
/** Registers in a `g` packet: x0..x31 and pc. */
export const G_REGISTERS = 33;

/** The CSRs described to gdb: the machine CSRs of the core (src/cpu/rv32/csr.ts) and the Sdtrig ones. */
const DESCRIBED_CSRS: readonly (readonly [string, number])[] = [
  ['mstatus', 0x300],
  ['misa', 0x301],
  ['mie', 0x304],
  ['mtvec', 0x305],
  ['mcountinhibit', 0x320],
  ['mscratch', 0x340],
  ['mepc', 0x341],
  ['mcause', 0x342],
  ['mtval', 0x343],
  ['mip', 0x344],
  ['tselect', 0x7a0],
  ['tdata1', 0x7a1],
  ['tdata2', 0x7a2],
  ['tdata3', 0x7a3],
  ['tinfo', 0x7a4],
  ['mcycle', 0xb00],
  ['minstret', 0xb02],
  ['mcycleh', 0xb80],
  ['minstreth', 0xb82],
  ['mvendorid', 0xf11],
  ['marchid', 0xf12],
  ['mimpid', 0xf13],
  ['mhartid', 0xf14],
];

const DESCRIBED = new Set(DESCRIBED_CSRS.map(([, n]) => n));

/** What gdb's register number `regnum` is on this target. */
export type RegisterRef =
  | { readonly kind: 'gpr'; readonly index: number }
  | { readonly kind: 'priv' }
  | { readonly kind: 'csr'; readonly csr: number };

export function registerRef(regnum: number): RegisterRef | undefined {
  if (!Number.isInteger(regnum) || regnum < 0) return undefined;
  if (regnum <= REG_PC) return { kind: 'gpr', index: regnum };
  if (regnum === REG_PRIV) return { kind: 'priv' };
  const csr = regnum - CSR_BASE;
  return DESCRIBED.has(csr) ? { kind: 'csr', csr } : undefined;
}

function reg(name: string, regnum: number, type: string, group?: string): string {
  return `<reg name="${name}" bitsize="32" regnum="${regnum}" type="${type}"${group === undefined ? '' : ` group="${group}"`}/>`;
}

/** target.xml, one file (no xi:include). */
export function targetXml(): string {
  const cpu = RV32_GPR_NAMES.map((n, i) =>
    reg(
      n,
      i,
      n === 'ra' || n === 'pc'
        ? 'code_ptr'
        : n === 'sp' || n === 'gp' || n === 'tp' || n === 'fp'
          ? 'data_ptr'
          : 'int',
    ),
  );
  cpu.push(reg('pc', REG_PC, 'code_ptr'));
  const csrs = DESCRIBED_CSRS.map(([name, n]) => reg(name, CSR_BASE + n, 'int', 'csr'));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '<architecture>riscv:rv32</architecture>',
    '<feature name="org.gnu.gdb.riscv.cpu">',
    ...cpu,
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.virtual">',
    reg('priv', REG_PRIV, 'int', 'general'),
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.csr">',
    ...csrs,
    '</feature>',
    '</target>',
    '',
  ].join('\n');
}

/** A register's value as it goes on the wire: 4 bytes little-endian (the target's order), in hex. */
export function regHex(value: number): string {
  const v = value >>> 0;
  let out = '';
  for (let i = 0; i < 4; i++) out += ((v >>> (8 * i)) & 0xff).toString(16).padStart(2, '0');
  return out;
}

/** The inverse of regHex; undefined when `text` is not 8 hex digits. */
export function parseRegHex(text: string): number | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) return undefined;
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return v >>> 0;
}
