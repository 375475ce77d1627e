// The remote asks for no kicks while a pass delivers (vhost_disable_notify around vhost's handle
// loop, drivers/vhost/vhost.c): the pass takes what the host adds meanwhile, so those sends ring no
// doorbell. When the pass ends it re-arms, and the host's next send kicks again. Both ways of
// suppressing: VRING_USED_F_NO_NOTIFY, and avail_event with VIRTIO_RING_F_EVENT_IDX.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS_FEATURE, TestHost, TestSoc } from '../../../test/support/rpmsg-test-host.ts';
import { VIRTIO_RING_F_EVENT_IDX } from '../../virtio/vring-constants.ts';

const HOST_ADDR = 1024;
const EVENT_IDX = 1 << VIRTIO_RING_F_EVENT_IDX;

const MODES = [
  { name: 'VRING_USED_F_NO_NOTIFY', features: NS_FEATURE },
  { name: 'EVENT_IDX', features: (NS_FEATURE | EVENT_IDX) >>> 0 },
] as const;

/** Doorbells the host rang for its TX queue (vring1) since the last call. */
function txKicks(soc: TestSoc): number {
  const n = soc.toRemote.filter((q) => q === 1).length;
  soc.toRemote.length = 0;
  return n;
}

for (const mode of MODES) {
  describe(`remote kicks during a pass (${mode.name})`, () => {
    it('sends the host makes while the pass delivers ring no doorbell; the pass takes them all', () => {
      const soc = new TestSoc({ num: 64, dfeatures: mode.features });
      const host = new TestHost(soc);
      const remote = soc.makeRemote();
      const more = 40;
      let delivered = 0;
      let kicksInPass = -1;
      const ept = remote.createEndpoint({
        name: 'rpmsg-raw',
        cb: () => {
          delivered++;
          if (delivered <= more) {
            assert.equal(host.send(HOST_ADDR, ept.addr, new Uint8Array([delivered])), 0);
            host.reclaimTx();
          }
          if (delivered === more + 1) kicksInPass = txKicks(soc);
        },
      });
      host.handshake({ gfeatures: mode.features, ringFeatures: mode.features });
      remote.service();
      assert.equal(remote.features, mode.features);
      host.poll();
      txKicks(soc);

      assert.equal(host.send(HOST_ADDR, ept.addr, new Uint8Array([0])), 0);
      assert.equal(txKicks(soc), 1, 'the first message after the remote armed kicks');
      remote.service();
      assert.equal(
        delivered,
        more + 1,
        'one pass delivered the first message and every one sent from inside it',
      );
      assert.equal(kicksInPass, 0, 'no doorbell while the pass delivered');

      host.reclaimTx();
      assert.equal(host.send(HOST_ADDR, ept.addr, new Uint8Array([1])), 0);
      assert.equal(txKicks(soc), 1, 'the pass re-armed: the next message kicks');
      remote.service();
      assert.equal(delivered, more + 2);
    });
  });
}
