// Raw, unvalidated field access to a split vring's memory, by the layout of virtio_ring.h: what a
// test or a deliberately hostile peer uses to read exactly what a side wrote, or to write garbage
// where the other side will look. Bounds-checked through ByteView (a wrong offset is a clear
// RprocError, never a stray write), but no protocol rule is enforced. Not for production paths.

import { ByteView } from '../util/bytes.ts';
import {
  VRING_DESC,
  VRING_DESC_SIZE,
  VRING_USED_ELEM,
  VRING_USED_ELEM_SIZE,
  vringLayout,
  type VringLayout,
} from './vring-layout.ts';

export interface RawDesc {
  readonly addr: bigint;
  readonly len: number;
  readonly flags: number;
  readonly next: number;
}

export interface RawUsedElem {
  readonly id: number;
  readonly len: number;
}

export class RawVring {
  readonly layout: VringLayout;
  private readonly bv: ByteView;

  constructor(memory: Uint8Array, num: number, align: number) {
    this.layout = vringLayout(num, align);
    this.bv = new ByteView(memory, 'le', { what: 'vring', op: 'vring-raw' });
  }

  /** Byte offset of descriptor i (i may exceed num: the accessor is raw). */
  descOffset(i: number): number {
    return this.layout.descOffset + VRING_DESC_SIZE * i;
  }

  desc(i: number): RawDesc {
    const o = this.descOffset(i);
    return {
      addr: this.bv.u64(o + VRING_DESC.addr, 'desc.addr'),
      len: this.bv.u32(o + VRING_DESC.len, 'desc.len'),
      flags: this.bv.u16(o + VRING_DESC.flags, 'desc.flags'),
      next: this.bv.u16(o + VRING_DESC.next, 'desc.next'),
    };
  }

  /** Overwrite some fields of descriptor i. */
  setDesc(i: number, fields: Partial<RawDesc>): void {
    const o = this.descOffset(i);
    if (fields.addr !== undefined) this.bv.setU64(o + VRING_DESC.addr, fields.addr, 'desc.addr');
    if (fields.len !== undefined) this.bv.setU32(o + VRING_DESC.len, fields.len, 'desc.len');
    if (fields.flags !== undefined) this.bv.setU16(o + VRING_DESC.flags, fields.flags, 'desc.flags');
    if (fields.next !== undefined) this.bv.setU16(o + VRING_DESC.next, fields.next, 'desc.next');
  }

  get availFlags(): number {
    return this.bv.u16(this.layout.availFlagsOffset, 'avail.flags');
  }
  set availFlags(v: number) {
    this.bv.setU16(this.layout.availFlagsOffset, v, 'avail.flags');
  }
  get availIdx(): number {
    return this.bv.u16(this.layout.availIdxOffset, 'avail.idx');
  }
  set availIdx(v: number) {
    this.bv.setU16(this.layout.availIdxOffset, v, 'avail.idx');
  }
  get usedEvent(): number {
    return this.bv.u16(this.layout.usedEventOffset, 'used_event');
  }
  set usedEvent(v: number) {
    this.bv.setU16(this.layout.usedEventOffset, v, 'used_event');
  }
  get usedFlags(): number {
    return this.bv.u16(this.layout.usedFlagsOffset, 'used.flags');
  }
  set usedFlags(v: number) {
    this.bv.setU16(this.layout.usedFlagsOffset, v, 'used.flags');
  }
  get usedIdx(): number {
    return this.bv.u16(this.layout.usedIdxOffset, 'used.idx');
  }
  set usedIdx(v: number) {
    this.bv.setU16(this.layout.usedIdxOffset, v, 'used.idx');
  }
  get availEvent(): number {
    return this.bv.u16(this.layout.availEventOffset, 'avail_event');
  }
  set availEvent(v: number) {
    this.bv.setU16(this.layout.availEventOffset, v, 'avail_event');
  }

  /** avail.ring[slot] (slot, not free-running index). */
  availRing(slot: number): number {
    return this.bv.u16(this.layout.availRingOffset + 2 * slot, 'avail.ring');
  }
  setAvailRing(slot: number, head: number): void {
    this.bv.setU16(this.layout.availRingOffset + 2 * slot, head, 'avail.ring');
  }

  /** used.ring[slot]. */
  usedElem(slot: number): RawUsedElem {
    const o = this.layout.usedRingOffset + VRING_USED_ELEM_SIZE * slot;
    return {
      id: this.bv.u32(o + VRING_USED_ELEM.id, 'used.ring.id'),
      len: this.bv.u32(o + VRING_USED_ELEM.len, 'used.ring.len'),
    };
  }
  setUsedElem(slot: number, id: number, len: number): void {
    const o = this.layout.usedRingOffset + VRING_USED_ELEM_SIZE * slot;
    this.bv.setU32(o + VRING_USED_ELEM.id, id, 'used.ring.id');
    this.bv.setU32(o + VRING_USED_ELEM.len, len, 'used.ring.len');
  }

  /** What a device does by hand: put {id, len} in the slot used.idx names (mod num), then bump used.idx. */
  pushUsedRaw(id: number, len: number): void {
    const idx = this.usedIdx;
    this.setUsedElem(idx & (this.layout.num - 1), id, len);
    this.usedIdx = (idx + 1) & 0xffff;
  }

  /** What a driver does by hand: put head in the next avail slot and bump avail.idx. */
  pushAvailRaw(head: number): void {
    const idx = this.availIdx;
    this.setAvailRing(idx & (this.layout.num - 1), head);
    this.availIdx = (idx + 1) & 0xffff;
  }
}
