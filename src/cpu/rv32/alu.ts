// The M-extension operations that are not one JavaScript operator, shared by the interpreter and
// the translated blocks so that both compute bit-identical results. Semantics from the RISC-V
// unprivileged spec, "M" chapter: division by zero gives quotient -1 (all ones) and remainder =
// dividend; signed overflow (-2^31 / -1) gives quotient -2^31 and remainder 0. No trap either way.

const INT_MIN = -2147483648;

/** High 32 bits of the unsigned 64-bit product of a and b (their bits read as unsigned). */
export function mulhu(a: number, b: number): number {
  // Split into 16-bit halves so that each partial product is exact in a double.
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** High 32 bits of the signed × signed product: unsigned high part corrected for the signs. */
export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** High 32 bits of signed a × unsigned b. */
export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}

/*
 * Division: a double division of two 32-bit integers truncated with `| 0` is exact, because the
 * rounding error of the quotient (< |q|·2^-53) is smaller than the distance (≥ 1/|b|) from a
 * non-integral quotient to the next integer.
 */

export function div(a: number, b: number): number {
  if (b === 0) return -1;
  if (a === INT_MIN && b === -1) return INT_MIN;
  return (a / b) | 0;
}

export function divu(a: number, b: number): number {
  if (b === 0) return -1;
  return ((a >>> 0) / (b >>> 0)) | 0;
}

export function rem(a: number, b: number): number {
  if (b === 0) return a;
  if (a === INT_MIN && b === -1) return 0;
  return (a % b) | 0;
}

export function remu(a: number, b: number): number {
  if (b === 0) return a;
  return ((a >>> 0) % (b >>> 0)) | 0;
}
