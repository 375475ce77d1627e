// Node and property name rules (Devicetree Specification v0.4 §2.2.1 table 2.1, §2.2.4 table 2.2)
// shared by the reader (untrusted blobs) and the writer/builder (our own trees), so that whatever
// we write we can read back. Lengths are bounded by FDT_LIMITS.maxNameLength instead of the spec's
// 31 characters, which real device trees routinely exceed (dtc does not enforce it either).

import { FDT_LIMITS } from './fdt-constants.ts';

const NODE_CHARS = /^[0-9A-Za-z,._+-]+$/;
const PROP_CHARS = /^[0-9A-Za-z,._+?#-]+$/;

/**
 * Why `name` is not a valid non-root node name ("node-name@unit-address"), or undefined if it is.
 * The root node's name is the empty string and is checked separately.
 */
export function nodeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty (only the root node has an empty name)';
  if (name.length > FDT_LIMITS.maxNameLength) {
    return `is ${name.length} bytes long, over the limit of ${FDT_LIMITS.maxNameLength}`;
  }
  const at = name.indexOf('@');
  const base = at < 0 ? name : name.slice(0, at);
  if (base.length === 0) return 'has no node-name before "@"';
  if (!NODE_CHARS.test(base)) return 'has a character outside [0-9A-Za-z,._+-] in its node-name';
  if (at >= 0) {
    const unit = name.slice(at + 1);
    if (unit.length === 0) return 'has an empty unit address after "@"';
    if (!NODE_CHARS.test(unit)) return 'has a character outside [0-9A-Za-z,._+-] in its unit address';
  }
  return undefined;
}

/** Why `name` is not a valid property name, or undefined if it is. */
export function propNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > FDT_LIMITS.maxNameLength) {
    return `is ${name.length} bytes long, over the limit of ${FDT_LIMITS.maxNameLength}`;
  }
  if (!PROP_CHARS.test(name)) return 'has a character outside [0-9A-Za-z,._+?#-]';
  return undefined;
}

/** "vdev0vring0@10040000" → "vdev0vring0" (what Linux keeps in device_node.name). */
export function baseNameOf(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/** "vdev0vring0@10040000" → "10040000"; undefined without a unit address. */
export function unitAddressOf(name: string): string | undefined {
  const at = name.indexOf('@');
  return at < 0 ? undefined : name.slice(at + 1);
}
