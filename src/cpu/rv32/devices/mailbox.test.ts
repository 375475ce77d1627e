// The rv32 core's mailbox and watchdog registers against the CoreBlock words they stand for: what
// each read and write does, the external interrupt line, and accesses that are not 32-bit.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_BLOCK_WORDS, CORE_WORD, CoreBlock, HOST_EVENT } from '../../../soc/core-block.ts';
import { MAILBOX_REG, MailboxDevice, WATCHDOG_REG } from './mailbox.ts';

function rig(): { block: CoreBlock; mbox: MailboxDevice; changes: () => number } {
  const block = new CoreBlock(new Int32Array(new SharedArrayBuffer(4 * CORE_BLOCK_WORDS)), 0);
  let n = 0;
  const mbox = new MailboxDevice(block, () => n++);
  return { block, mbox, changes: () => n };
}

describe('rv32 mailbox device', () => {
  it('H2C_TAKE returns the kicked ids and clears them', () => {
    const { block, mbox, changes } = rig();
    block.postH2C(0);
    block.postH2C(3);
    block.postH2C(40);
    const r = mbox.region();
    assert.equal(r.read(MAILBOX_REG.H2C_TAKE, 4), (1 | 8 | 0x8000_0000) >>> 0);
    assert.equal(r.read(MAILBOX_REG.H2C_TAKE, 4), 0);
    assert.ok(changes() >= 2, 'taking ids re-evaluates the interrupt line');
  });

  it('C2H_NOTIFY rings the host with the id', () => {
    const { block, mbox } = rig();
    const seq = block.c2hSeq();
    mbox.region().write(MAILBOX_REG.C2H_NOTIFY, 4, 5);
    assert.equal(block.takeC2H(), 1 << 5);
    assert.equal(block.c2hSeq(), seq + 1);
  });

  for (const [name, enabled, ids, events, pending] of [
    ['disabled, ids pending', false, true, false, false],
    ['enabled, nothing pending', true, false, false, false],
    ['enabled, ids pending', true, true, false, true],
    ['enabled, a host event pending', true, false, true, true],
  ] as const) {
    it(`raises the external interrupt only when enabled with something pending: ${name}`, () => {
      const { block, mbox } = rig();
      mbox.region().write(MAILBOX_REG.IRQ_ENABLE, 4, enabled ? 1 : 0);
      if (ids) block.postH2C(1);
      if (events) block.postHostEvent(HOST_EVENT.DETACHED);
      assert.equal(mbox.irqPending, pending);
      assert.equal(mbox.region().read(MAILBOX_REG.IRQ_ENABLE, 4), enabled ? 1 : 0);
    });
  }

  it('EVENTS returns the host events once and lowers the line', () => {
    const { block, mbox } = rig();
    const r = mbox.region();
    r.write(MAILBOX_REG.IRQ_ENABLE, 4, 1);
    block.postHostEvent(HOST_EVENT.DETACHED);
    assert.ok(mbox.irqPending);
    assert.equal(r.read(MAILBOX_REG.EVENTS, 4), HOST_EVENT.DETACHED);
    assert.equal(r.read(MAILBOX_REG.EVENTS, 4), 0);
    assert.equal(mbox.irqPending, false);
    assert.equal(block.load(CORE_WORD.HOST_EVENTS), 0);
  });

  it('publishes the resource table location for a host that attaches', () => {
    const { block, mbox } = rig();
    const r = mbox.region();
    r.write(MAILBOX_REG.RSC_DA, 4, 0x8000_1000);
    r.write(MAILBOX_REG.RSC_SIZE, 4, 0x200);
    assert.equal(block.load(CORE_WORD.RSC_DA) >>> 0, 0x8000_1000);
    assert.equal(r.read(MAILBOX_REG.RSC_DA, 4), 0x8000_1000);
    assert.equal(r.read(MAILBOX_REG.RSC_SIZE, 4), 0x200);
  });

  it('ignores accesses that are not 32-bit (reads as 0, writes dropped)', () => {
    const { block, mbox } = rig();
    block.postH2C(2);
    const r = mbox.region();
    assert.equal(r.read(MAILBOX_REG.H2C_TAKE, 1), 0);
    assert.equal(block.load(CORE_WORD.H2C_PENDING), 4, 'a byte read does not take the ids');
    r.write(MAILBOX_REG.C2H_NOTIFY, 2, 1);
    assert.equal(block.takeC2H(), 0);
  });

  it('arms and feeds the watchdog', () => {
    const { block, mbox } = rig();
    const w = mbox.watchdogRegion();
    w.write(WATCHDOG_REG.PERIOD_MS, 4, 100);
    assert.equal(block.load(CORE_WORD.WDT_PERIOD_MS), 100);
    assert.equal(w.read(WATCHDOG_REG.PERIOD_MS, 4), 100);
    const kicks = block.load(CORE_WORD.WDT_KICKS);
    w.write(WATCHDOG_REG.KICK, 4, 0);
    assert.equal(block.load(CORE_WORD.WDT_KICKS), kicks + 1);
  });
});
