// The rv32 core's side of the SoC mailbox and watchdog, as MMIO: H2C_TAKE reads and clears the
// notify ids the host kicked, C2H_NOTIFY rings the host, IRQ_ENABLE routes "host kicked" to the
// machine external interrupt, RSC_DA/RSC_SIZE publish the table for a host that attaches, EVENTS
// reads and clears the host's events (HOST_EVENT: the host detached); the watchdog's PERIOD_MS
// arms it and KICK feeds it. All of it lives in the core's CoreBlock words.

import type { MmioRegion, Width } from '../bus.ts';
import { CORE_WORD, type CoreBlock } from '../../../soc/core-block.ts';
import { RV32_MAP } from './rv32-memory-map.ts';

export const MAILBOX_REG = {
  H2C_TAKE: 0x00,
  C2H_NOTIFY: 0x04,
  IRQ_ENABLE: 0x08,
  RSC_DA: 0x0c,
  RSC_SIZE: 0x10,
  EVENTS: 0x14,
} as const;
export const WATCHDOG_REG = { PERIOD_MS: 0x0, KICK: 0x4 } as const;

export class MailboxDevice {
  irqEnabled = false;
  private readonly block: CoreBlock;
  private readonly onChange: () => void;
  private readonly onHeld: (hold: number) => void;

  /**
   * `onHeld`: the core rang while the host holds its doorbell (a storm backoff): it should stall
   * until the hold (generation `hold`, CORE_WORD.C2H_HOLD) ends or moves on.
   */
  constructor(block: CoreBlock, onChange: () => void, onHeld: (hold: number) => void = () => undefined) {
    this.block = block;
    this.onChange = onChange;
    this.onHeld = onHeld;
  }

  /** Whether the external interrupt line should be high: enabled and the host has kicked or posted an event. */
  get irqPending(): boolean {
    return (
      this.irqEnabled &&
      (this.block.load(CORE_WORD.H2C_PENDING) !== 0 || this.block.load(CORE_WORD.HOST_EVENTS) !== 0)
    );
  }

  region(): MmioRegion {
    return {
      name: 'mailbox',
      base: RV32_MAP.MAILBOX,
      size: 0x1000,
      read: (offset: number, width: Width) => {
        if (width !== 4) return 0;
        switch (offset) {
          case MAILBOX_REG.H2C_TAKE: {
            const ids = this.block.takeH2C() >>> 0;
            this.onChange();
            return ids;
          }
          case MAILBOX_REG.IRQ_ENABLE:
            return this.irqEnabled ? 1 : 0;
          case MAILBOX_REG.RSC_DA:
            return this.block.load(CORE_WORD.RSC_DA) >>> 0;
          case MAILBOX_REG.RSC_SIZE:
            return this.block.load(CORE_WORD.RSC_SIZE) >>> 0;
          case MAILBOX_REG.EVENTS: {
            const events = this.block.takeHostEvents() >>> 0;
            this.onChange();
            return events;
          }
          default:
            return 0;
        }
      },
      // A debugger sees the pending ids and events without taking them.
      peek: (offset: number, width: Width) => {
        if (width !== 4) return 0;
        switch (offset) {
          case MAILBOX_REG.H2C_TAKE:
            return this.block.load(CORE_WORD.H2C_PENDING) >>> 0;
          case MAILBOX_REG.IRQ_ENABLE:
            return this.irqEnabled ? 1 : 0;
          case MAILBOX_REG.RSC_DA:
            return this.block.load(CORE_WORD.RSC_DA) >>> 0;
          case MAILBOX_REG.RSC_SIZE:
            return this.block.load(CORE_WORD.RSC_SIZE) >>> 0;
          case MAILBOX_REG.EVENTS:
            return this.block.load(CORE_WORD.HOST_EVENTS) >>> 0;
          default:
            return 0;
        }
      },
      write: (offset: number, width: Width, value: number) => {
        if (width !== 4) return;
        switch (offset) {
          case MAILBOX_REG.C2H_NOTIFY: {
            this.block.ringC2H(value >>> 0);
            const hold = this.block.c2hHold();
            if (hold !== 0) this.onHeld(hold);
            return;
          }
          case MAILBOX_REG.IRQ_ENABLE:
            this.irqEnabled = (value & 1) !== 0;
            this.onChange();
            return;
          case MAILBOX_REG.RSC_DA:
            this.block.store(CORE_WORD.RSC_DA, value | 0);
            return;
          case MAILBOX_REG.RSC_SIZE:
            this.block.store(CORE_WORD.RSC_SIZE, value | 0);
            return;
          default:
            return;
        }
      },
    };
  }

  watchdogRegion(): MmioRegion {
    return {
      name: 'watchdog',
      base: RV32_MAP.WATCHDOG,
      size: 0x1000,
      read: (offset: number, width: Width) =>
        width === 4 && offset === WATCHDOG_REG.PERIOD_MS ? this.block.load(CORE_WORD.WDT_PERIOD_MS) >>> 0 : 0,
      peek: (offset: number, width: Width) =>
        width === 4 && offset === WATCHDOG_REG.PERIOD_MS ? this.block.load(CORE_WORD.WDT_PERIOD_MS) >>> 0 : 0,
      write: (offset: number, width: Width, value: number) => {
        if (width !== 4) return;
        if (offset === WATCHDOG_REG.PERIOD_MS) this.block.store(CORE_WORD.WDT_PERIOD_MS, value | 0);
        else if (offset === WATCHDOG_REG.KICK)
          Atomics.add(this.block.words, this.block.base + CORE_WORD.WDT_KICKS, 1);
      },
    };
  }
}
