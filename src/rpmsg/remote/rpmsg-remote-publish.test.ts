// The remote returns the host's TX buffers while it is still delivering: a pass publishes used.idx
// every 32 messages (as vhost-net returns used buffers in batches), so a host that keeps sending
// reclaims buffers without an interrupt and does not run dry while the remote is busy.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestHost, TestSoc } from '../../../test/support/rpmsg-test-host.ts';

const HOST_ADDR = 1024;

function rig(num: number): { host: TestHost; soc: TestSoc; remote: ReturnType<TestSoc['makeRemote']> } {
  const soc = new TestSoc({ num });
  const host = new TestHost(soc);
  const errors: string[] = [];
  const remote = soc.makeRemote({}, errors);
  host.handshake();
  remote.service();
  return { host, soc, remote };
}

describe('remote: used buffers published during a pass', () => {
  it('the host sees its buffers back in batches of 32 while the pass is still delivering', () => {
    const { host, remote } = rig(128);
    const backAt: number[] = [];
    let back = 0;
    const ept = remote.createEndpoint({
      name: 'rpmsg-raw',
      cb: () => {
        back += host.reclaimTx();
        backAt.push(back);
      },
    });
    host.poll();
    for (let i = 0; i < 100; i++) assert.equal(host.send(HOST_ADDR, ept.addr, new Uint8Array([i])), 0);
    remote.service();
    assert.equal(backAt.length, 100);
    // Message k (from 1) is delivered after 32 * floor((k − 1) / 32) returns were published.
    backAt.forEach((n, k) => assert.equal(n, 32 * Math.floor(k / 32), `returned before message ${k + 1}`));
    back += host.reclaimTx();
    assert.equal(back, 100, 'the pass publishes the rest when it ends');
  });

  it('a host that keeps sending keeps the pass going to its budget (4 × num) without running dry', () => {
    const num = 64;
    const { host, remote } = rig(num);
    let delivered = 0;
    let dry = 0;
    const ept = remote.createEndpoint({
      name: 'rpmsg-raw',
      cb: () => {
        delivered++;
        // One more message for each one delivered, from whatever the remote has returned so far.
        if (host.send(HOST_ADDR, ept.addr, new Uint8Array([delivered & 0xff])) !== 0) dry++;
      },
    });
    host.poll();
    for (let i = 0; i < num; i++) assert.equal(host.send(HOST_ADDR, ept.addr, new Uint8Array([i])), 0);
    remote.service();
    // The first 32 callbacks find nothing returned yet (the ring is full); after that the host
    // always has a buffer: the published batches keep up with it.
    assert.equal(dry, 32);
    assert.ok(delivered >= 4 * num, `one service() delivered ${delivered}, expected the budget ${4 * num}`);
  });
});
