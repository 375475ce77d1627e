// Hostile firmware that floods the host (firmware/hostile, docs/threat-model.md "Floods"): every
// queue the host keeps for a remote stays bounded — a tty nobody reads, a /dev/rpmsgN nobody
// reads, a console port nobody reads, the UART — the documented outcome holds (backpressure, then
// drops with a counter), the healthy core keeps echoing and the host's heap stays under HEAP_BOUND.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RPMSG_CHAR_QUEUE_LIMIT } from '../../src/rpmsg/host/rpmsg-char.ts';
import { RPMSG_CREATE_EPT_IOCTL } from '../../src/rpmsg/host/rpmsg-ctrl.ts';
import { RPMSG_TTY_HIGH_WATER_MARK } from '../../src/rpmsg/host/rpmsg-tty.ts';
import { RPMSG_MTU } from '../../src/rpmsg/rpmsg-wire.ts';
import { CORE_WORD, UART_PENDING_LIMIT } from '../../src/soc/core-block.ts';
import { ATTACK_MS, HostileRig, SC, sleep, until } from './hostile-rig.ts';

describe('hostile firmware: floods', { timeout: 120_000 + 20 * ATTACK_MS }, () => {
  let rig: HostileRig;
  before(async () => {
    rig = await HostileRig.start();
  });
  after(async () => {
    await rig.close();
  });

  /** The /dev/rpmsgN flood: the hostile core floods 0x500, where a file nobody reads is open. */
  async function charFlood() {
    const a = await rig.attack(SC.CHAR_FLOOD);
    await until('the device', () => a.device() !== undefined);
    const dev = a.device();
    assert.ok(dev !== undefined);
    const file = rig.soc.rpmsg
      .ctrl(dev)
      .ioctl(RPMSG_CREATE_EPT_IOCTL, { name: 'raw', src: 0x500, dst: 0x400 })
      .open();
    return { a, dev, file };
  }

  it('a tty flood nobody reads: 16 KiB buffered, a quarter of the RX buffers held, the rest dropped and counted', async () => {
    const a = await rig.attack(SC.TTY_FLOOD);
    const port = await rig.soc.tty.waitForPort(10_000);
    await rig.echoing(() => sleep(ATTACK_MS));
    const dev = a.device();
    assert.ok(dev !== undefined);
    assert.ok(
      port.readableLength <= RPMSG_TTY_HIGH_WATER_MARK + RPMSG_MTU,
      `buffered ${port.readableLength}`,
    );
    assert.equal(port.held, dev.rxHeldPerEndpoint, 'its share of RX buffers held');
    assert.ok(port.dropped > 0, 'dropped, counted');
    assert.equal(dev.stats.rxDropped, port.dropped);
    assert.equal(a.rproc.state, 'running');
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('a /dev/rpmsgN flood nobody reads: 1024 messages copied, RX buffers held, the rest dropped and counted', async () => {
    const { a, dev, file } = await charFlood();
    await rig.echoing(async () => {
      await until('the queue to fill', () => file.dropped > 0);
      await sleep(ATTACK_MS);
    });
    assert.equal(file.queued, RPMSG_CHAR_QUEUE_LIMIT + dev.rxHeldPerEndpoint);
    assert.ok(file.dropped > 0);
    rig.assertHeapBounded(a);
    file.close();
    await rig.end();
  });

  it('a flood that runs vring0 dry while the host is busy goes on once the host posts buffers again (no lost wakeup)', async () => {
    // The SDK's producers use rpmsg_trysendto and sleep in rpmsg_idle when it finds no buffer.
    // vring0 runs with VRING_USED_F_NO_NOTIFY (the host does not kick when it recycles buffers),
    // so that sleep must first ask for a kick, or the remote waits for a doorbell nobody rings.
    const { dev, file } = await charFlood();
    // Hold this thread: the remote's thread fills every buffer the host posted and goes to sleep.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    await rig.echoing(() => until('the queue to fill', () => file.dropped > 0));
    assert.equal(file.queued, RPMSG_CHAR_QUEUE_LIMIT + dev.rxHeldPerEndpoint);
    file.close();
    await rig.end();
  });

  it('a console flood nobody reads: the port stops taking buffers (backpressure), nothing dropped', async () => {
    const a = await rig.attack(SC.CONSOLE_FLOOD);
    const port = await rig.soc.console.waitForPort('rproc0', 10_000);
    await rig.echoing(() => sleep(ATTACK_MS));
    const buffered = port.readableLength;
    assert.ok(buffered > 0 && buffered <= port.readableHighWaterMark + 256, `buffered ${buffered}`);
    const taken = port.stats.rxBytes;
    await sleep(200);
    assert.equal(port.stats.rxBytes, taken, 'the remote waits for buffers while nobody reads');
    // Reading lets it go on.
    const more = new Promise<void>((resolve) =>
      port.on('data', () => port.stats.rxBytes > taken && resolve()),
    );
    await more;
    assert.equal(port.stats.rxDiscarded, 0);
    rig.assertHeapBounded(a);
    await rig.end();
  });

  it('a UART flood: at most 64 Ki characters on their way to the host, the UART reads busy meanwhile', async () => {
    let chars = 0;
    const onUart = (e: { core: string; text: string }): void => {
      if (e.core === 'rproc0') chars += e.text.length;
    };
    rig.soc.on('uart', onUart);
    const a = await rig.attack(SC.UART_FLOOD);
    const block = rig.soc.core('rproc0').block;
    let most = 0;
    await rig.echoing(async () => {
      for (const end = performance.now() + ATTACK_MS; performance.now() < end; await sleep(5)) {
        most = Math.max(most, block.load(CORE_WORD.UART_PENDING));
      }
    });
    rig.soc.off('uart', onUart);
    assert.ok(chars > 0, 'the host printed what came');
    assert.ok(most <= UART_PENDING_LIMIT, `${most} characters pending at most`);
    // The SDK's driver waits for "transmitter empty": it is slowed to the host's pace, never dropped.
    assert.equal(rig.soc.core('rproc0').uartDropped, 0);
    rig.assertHeapBounded(a);
    await rig.end();
  });
});
