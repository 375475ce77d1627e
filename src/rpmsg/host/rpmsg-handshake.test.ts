// The virtio handshake as the remote sees it in the live resource table: status 0 → 1 → 3 → 7 and
// back to 0, gfeatures = dfeatures ∩ what the host implements, vring da written only by find_vqs,
// every RX buffer posted (device-writable, 512 bytes) before DRIVER_OK, a platform without a kick op
// refused, and the config space bounded by the config_len parsed at boot (TC-L01 style).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RscTableWriter } from '../../rsc/rsc-writer.ts';
import { parseRscTable } from '../../rsc/rsc-parse.ts';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { FW_RSC_VDEV, FW_RSC_VDEV_VRING, vringOffset } from '../../rsc/rsc-layout.ts';
import { RawVring } from '../../virtio/vring-raw.ts';
import { vringSize } from '../../virtio/vring-layout.ts';
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_WRITE,
} from '../../virtio/vring-constants.ts';
import { rejectsWith } from '../../../test/support/rproc-fixtures.ts';
import { findRpmsgVdev } from '../remote/rpmsg-vdev-locate.ts';
import { createLoopback, echoCore, Loopback, passiveCore, type RemoteCore } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { NS_FEATURE } from '../../testing/rpmsg-firmware.ts';

const EVENT_IDX = 1 << VIRTIO_RING_F_EVENT_IDX;
const INDIRECT = 1 << VIRTIO_RING_F_INDIRECT_DESC;

/** The live table's vdev fields, read the way the remote reads them. */
function liveVdev(lb: Loopback<RemoteCore>): {
  status: number;
  gfeatures: number;
  da: (i: number) => number;
  notifyId: (i: number) => number;
} {
  const table = lb.translate(lb.tableDa, lb.tableSize);
  assert.ok(table !== undefined);
  const loc = parseRscTable(table).entries.find((e) => e.kind === 'vdev');
  assert.ok(loc?.kind === 'vdev');
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const vr = (i: number, f: number): number => dv.getUint32(vringOffset(loc.bodyOffset, i) + f, true);
  return {
    status: dv.getUint8(loc.bodyOffset + FW_RSC_VDEV.status),
    gfeatures: dv.getUint32(loc.bodyOffset + FW_RSC_VDEV.gfeatures, true),
    da: (i) => vr(i, FW_RSC_VDEV_VRING.da),
    notifyId: (i) => vr(i, FW_RSC_VDEV_VRING.notifyid),
  };
}

function carveoutDa(lb: Loopback<RemoteCore>, name: string): number {
  const da = lb.rproc.resources.carveouts.findByName(name)?.buffer?.da;
  assert.ok(da !== undefined, `${name} is allocated`);
  return da;
}

describe('rpmsg handshake in the live table', () => {
  it('status goes 0 → 1 → 3 → 7 as the remote sees it, and back to 0 at stop', async (t) => {
    const seen: number[] = [];
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its own `this` below
    const original = RscTableWriter.prototype.setVdevStatus;
    t.mock.method(
      RscTableWriter.prototype,
      'setVdevStatus',
      function (this: RscTableWriter, off: number, status: number) {
        original.call(this, off, status);
        // What the remote reads from its table right after the host's write.
        // Only called from boot(), once `lb` below exists.
        if (lb.rproc.resources.table !== undefined) seen.push(liveVdev(lb).status);
      },
    );
    let atStart = -1;
    const lb: Loopback<RemoteCore> = new Loopback({
      core: (ctx) => {
        atStart = ctx.table[findRpmsgVdev(ctx.table).bodyOffset + FW_RSC_VDEV.status] ?? -1;
        return passiveCore()(ctx);
      },
    });
    await lb.boot();
    assert.equal(atStart, 0, 'the firmware runs before the host touches the status');
    assert.deepEqual(seen, [0, 1, 3, 7]);
    await lb.rproc.shutdown();
    assert.deepEqual(seen, [0, 1, 3, 7, 0]);
    await lb.close();
  });

  it('a failing rpmsg probe leaves FAILED (0x80) set, and a vdev without a driver stays at ACKNOWLEDGE', async () => {
    const one = await createLoopback({ core: passiveCore(), firmware: { vrings: 1 } });
    assert.equal(one.rproc.state, 'running', 'the processor stays up without its rpmsg device');
    assert.equal(liveVdev(one).status, 0x83);
    assert.ok(one.logs.some((l) => /virtio_rpmsg_bus probe failed: ENOMEM: .*vring 1/.test(l)));
    assert.equal(one.host.buses.length, 0);
    await one.rproc.shutdown();
    assert.equal(one.platform.pool.outstanding, 0, 'nothing the probe allocated is left');
    await one.close();

    const console = await createLoopback({ core: passiveCore(), firmware: { deviceId: 3 } });
    assert.equal(liveVdev(console).status, 0x01);
    assert.ok(console.logs.some((l) => l.includes('no driver for virtio device id 3')));
    await console.close();
  });

  const negotiation: readonly [string, number, number][] = [
    ['nothing offered', 0, 0],
    ['NS', NS_FEATURE, NS_FEATURE],
    ['NS + EVENT_IDX', NS_FEATURE | EVENT_IDX, NS_FEATURE | EVENT_IDX],
    ['NS + INDIRECT_DESC', NS_FEATURE | INDIRECT, NS_FEATURE | INDIRECT],
    ['EVENT_IDX without NS', EVENT_IDX, EVENT_IDX],
    ['every bit of the u32 word', 0xffff_ffff, (NS_FEATURE | EVENT_IDX | INDIRECT) >>> 0],
    ['unknown device bits only', 0x0fff_fffe, 0],
  ];
  for (const [what, dfeatures, gfeatures] of negotiation) {
    it(`gfeatures = dfeatures ∩ {NS, EVENT_IDX, INDIRECT}: ${what}`, async () => {
      const lb = await createLoopback({ core: echoCore(), firmware: { dfeatures } });
      const live = liveVdev(lb);
      assert.equal(live.gfeatures >>> 0, gfeatures >>> 0);
      assert.equal(Number(lb.vdev?.features ?? -1) >>> 0, gfeatures >>> 0);
      // With NS the echo service is announced and works whatever the ring features.
      const ns = (gfeatures & NS_FEATURE) !== 0;
      assert.equal(lb.host.channels.length, ns ? 1 : 0);
      if (ns) {
        const got: number[] = [];
        const ept = lb.host.channels[0]?.open((d) => got.push(d.length));
        assert.ok(ept !== undefined);
        for (let i = 0; i < 600; i++) await ept.send(new Uint8Array(i % 497));
        await lb.idle();
        assert.equal(got.length, 600);
        assert.deepEqual(
          got.slice(0, 3).concat(got.slice(-2)),
          [0, 1, 2, 598 % 497, 599 % 497],
          'echoed in order',
        );
      }
      await lb.close();
    });
  }

  it('vring da is written only by find_vqs (ANY before the rpmsg probe asks for queues)', async () => {
    const probeView: { status: number; gfeatures: number; da0: number; da1: number }[] = [];
    let atCoreStart: number[] = [];
    const lb: Loopback<RemoteCore> = new Loopback({
      core: (ctx) => {
        const loc = findRpmsgVdev(ctx.table);
        atCoreStart = loc.vrings.map((v) => v.da);
        return passiveCore()(ctx);
      },
      firmware: { dfeatures: NS_FEATURE | EVENT_IDX },
      wrapDriver: (driver) => ({
        ...driver,
        probe: (dev) => {
          const live = liveVdev(lb);
          probeView.push({
            status: live.status,
            gfeatures: live.gfeatures,
            da0: live.da(0),
            da1: live.da(1),
          });
          return driver.probe(dev);
        },
      }),
    });
    await lb.boot();
    assert.deepEqual(atCoreStart, [FW_RSC_ADDR_ANY, FW_RSC_ADDR_ANY]);
    // At probe: ACKNOWLEDGE | DRIVER, features final, rings not placed yet.
    assert.deepEqual(probeView, [
      { status: 3, gfeatures: NS_FEATURE | EVENT_IDX, da0: FW_RSC_ADDR_ANY, da1: FW_RSC_ADDR_ANY },
    ]);
    const live = liveVdev(lb);
    assert.equal(live.status, 7);
    assert.equal(live.da(0), carveoutDa(lb, 'vdev0vring0'));
    assert.equal(live.da(1), carveoutDa(lb, 'vdev0vring1'));
    assert.deepEqual([live.notifyId(0), live.notifyId(1)], [0, 1]);
    await lb.close();
  });

  const pools: readonly [number, number][] = [
    [256, 256],
    [8, 8],
    [512, 256],
  ];
  for (const [num, posted] of pools) {
    it(`every RX buffer is posted device-writable, 512 bytes, before DRIVER_OK (vring num ${num} → ${posted})`, async (t) => {
      let checked = false;
      let failure: unknown;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its own `this` below
      const original = RscTableWriter.prototype.setVdevStatus;
      t.mock.method(
        RscTableWriter.prototype,
        'setVdevStatus',
        function (this: RscTableWriter, off: number, status: number) {
          if (status === 7) {
            // The moment before DRIVER_OK: the remote may look at the rings as soon as it sees it.
            const l = lb;
            try {
              const ring = (i: number): RawVring => {
                const mem = l.translate(liveVdev(l).da(i), vringSize(num, 4096));
                assert.ok(mem !== undefined);
                return new RawVring(mem, num, 4096);
              };
              const rx = ring(0);
              assert.equal(rx.availIdx, posted, 'avail.idx published');
              const addrs = new Set<bigint>();
              for (let slot = 0; slot < posted; slot++) {
                const d = rx.desc(rx.availRing(slot));
                assert.equal(d.len, 512);
                assert.equal(d.flags, VRING_DESC_F_WRITE);
                assert.ok(l.translate(d.addr, 512) !== undefined, 'the remote can reach the buffer');
                addrs.add(d.addr);
              }
              assert.equal(addrs.size, posted, 'distinct buffers');
              assert.equal(ring(1).availIdx, 0, 'nothing sent yet');
              assert.equal(ring(1).availFlags & VRING_AVAIL_F_NO_INTERRUPT, VRING_AVAIL_F_NO_INTERRUPT);
              checked = true;
            } catch (e) {
              failure = e;
            }
          }
          original.call(this, off, status);
        },
      );
      const lb: Loopback<RemoteCore> = new Loopback({ core: echoCore(), firmware: { num } });
      await lb.boot();
      assert.ifError(failure);
      assert.ok(checked);
      assert.ok((lb.kicks.get(0) ?? 0) >= 1, 'vring0 kicked after DRIVER_OK');
      // The pool is split as Linux splits it: as many TX buffers as RX buffers.
      const ept = lb.host.channels[0]?.open();
      assert.ok(ept !== undefined);
      lb.pause();
      let sent = 0;
      while (ept.trySend(new Uint8Array(1)) === 0) sent++;
      assert.equal(sent, Math.min(posted, num));
      lb.resume();
      await lb.close();
    });
  }

  it('a platform without a kick op: the vdev is refused with EINVAL naming the problem, nothing leaks', async () => {
    const lb = new Loopback({ core: hostileCore(), withoutKick: true });
    const e = await rejectsWith(lb.rproc.boot(), 'EINVAL');
    assert.match(e.message, /\.kick method not defined for m0: vdev0/);
    assert.equal(lb.rproc.state, 'offline');
    assert.ok(lb.rproc.resources.idle);
    assert.equal(lb.platform.pool.outstanding, 0);
    assert.equal(lb.host.buses.length, 0);
    await lb.close();
  });

  it('config space: reads and writes within config_len only, whatever the remote rewrites', async () => {
    const config = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const lb = await createLoopback({ core: hostileCore(), firmware: { config } });
    const vdev = lb.vdev;
    assert.ok(vdev !== undefined);
    assert.deepEqual(vdev.configGet(0, 8), config);
    assert.deepEqual(vdev.configGet(6, 2), Uint8Array.from([7, 8]));
    assert.equal(vdev.configGet(6, 3), undefined);
    assert.ok(vdev.configSet(2, Uint8Array.from([0xaa, 0xbb])));
    assert.equal(vdev.configSet(7, Uint8Array.from([0xcc, 0xdd])), false);
    // The write landed in the live table, where the remote reads it; the refused one did not.
    const remote = lb.c;
    const cfgOff = vringOffset(remote.loc.bodyOffset, 2);
    assert.deepEqual([...remote.ctx.table.subarray(cfgOff, cfgOff + 8)], [1, 2, 0xaa, 0xbb, 5, 6, 7, 8]);
    assert.equal(remote.ctx.table.length, cfgOff + 8, 'config space ends the table');
    // The remote widens config_len and shrinks num_of_vrings: the host keeps the parsed layout.
    remote.configLen = 0xffff;
    remote.numOfVrings = 0;
    assert.equal(vdev.configGet(0, 9), undefined);
    assert.equal(vdev.configSet(0, new Uint8Array(16)), false);
    assert.deepEqual(vdev.configGet(0, 8), Uint8Array.from([1, 2, 0xaa, 0xbb, 5, 6, 7, 8]));
    assert.ok(
      lb.logs.some((l) => /config read of 9 bytes at 0x0 is outside the 0x8-byte config space/.test(l)),
    );
    await lb.close();
  });
});
