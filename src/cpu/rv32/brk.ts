// The `brk` bits of a hart: why an execution engine (interpreter, translated block) must leave its
// hot loop and hand control back to the hart's slice loop (hart.ts). Kept in a file of their own so
// that the engines and the hart share them without importing each other.

/** `brk` bits: why an engine must leave its hot loop. */
export const BRK_TRAP = 1; // the instruction at the exit trapped: pc is the handler, it did not retire
export const BRK_SYSTEM = 2; // the instruction at pc is a system op: Hart.execSystem runs it
export const BRK_EXIT = 4; // leave after this instruction (stop, halt, irq change, code change, fatal)
