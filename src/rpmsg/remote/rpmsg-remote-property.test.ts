// Property: any sequence of messages of 0..496 bytes in both directions, interleaved at random with
// the two sides' polling, arrives byte-exact, in order, with the right addresses and used lengths —
// over small (16/16) and Linux-sized (256/4096) rings, shared or private memory, with TX buffers
// running out on the way.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProperty } from '../../../test/support/property.ts';
import { ERRNO } from '../../util/errors.ts';
import { TestHost, TestSoc, pumpDoorbells } from '../../../test/support/rpmsg-test-host.ts';

const HOST_ADDR = 1024;

interface Op {
  readonly toRemote: boolean;
  readonly payload: Uint8Array;
  /** 0: nothing, 1: the remote polls, 2: the host polls, 3: both run until idle. */
  readonly then: number;
}

const op: fc.Arbitrary<Op> = fc.record({
  toRemote: fc.boolean(),
  payload: fc.uint8Array({ minLength: 0, maxLength: 496 }),
  then: fc.nat(3),
});

describe('property: messages both ways', { timeout: 60_000 }, () => {
  it('arrive byte-exact and in order, whatever the sizes and the interleaving', () => {
    checkProperty(
      'rpmsg-remote-roundtrip',
      fc.property(
        fc.constantFrom({ num: 16, align: 16 }, { num: 256, align: 4096 }),
        fc.boolean(),
        fc.array(op, { minLength: 1, maxLength: 80 }),
        ({ num, align }, shared, ops) => {
          const soc = new TestSoc({ num, align, shared });
          const host = new TestHost(soc);
          const errors: string[] = [];
          const remote = soc.makeRemote({}, errors);
          const atRemote: { src: number; data: Uint8Array }[] = [];
          const ept = remote.createEndpoint({
            name: 'prop',
            cb: (data, src) => atRemote.push({ src, data: data.slice() }),
          });
          host.handshake();
          const atHost = pumpDoorbells(remote, host);
          assert.equal(atHost.length, 1, 'the announcement');
          atHost.length = 0;

          const sentToRemote: Uint8Array[] = [];
          const sentToHost: Uint8Array[] = [];
          for (const o of ops) {
            if (o.toRemote) {
              let rc = host.send(HOST_ADDR, ept.addr, o.payload);
              if (rc === -ERRNO.ENOMEM) {
                // All TX buffers in flight: let the remote return them, then retry.
                remote.service();
                rc = host.send(HOST_ADDR, ept.addr, o.payload);
              }
              assert.equal(rc, 0);
              sentToRemote.push(o.payload);
            } else {
              let rc = ept.trySendTo(HOST_ADDR, o.payload);
              if (rc === -ERRNO.ENOMEM) {
                // No RX buffer of the host's left: the host consumes and re-posts, then retry.
                atHost.push(...host.poll());
                remote.service();
                rc = ept.trySendTo(HOST_ADDR, o.payload);
              }
              assert.equal(rc, 0);
              sentToHost.push(o.payload);
            }
            if (o.then === 1) remote.service();
            if (o.then === 2) atHost.push(...host.poll());
            if (o.then === 3) atHost.push(...pumpDoorbells(remote, host));
          }
          remote.service();
          atHost.push(...pumpDoorbells(remote, host));
          atHost.push(...host.poll());

          assert.equal(atRemote.length, sentToRemote.length);
          atRemote.forEach((m, i) => {
            assert.equal(m.src, HOST_ADDR);
            assert.deepEqual(m.data, sentToRemote[i]);
          });
          assert.equal(atHost.length, sentToHost.length);
          atHost.forEach((m, i) => {
            const sent = sentToHost[i]!;
            assert.equal(m.src, ept.addr);
            assert.equal(m.dst, HOST_ADDR);
            assert.equal(m.len, sent.length);
            assert.equal(m.usedLen, 16 + sent.length);
            assert.equal(m.flags, 0);
            assert.equal(m.reserved, 0);
            assert.deepEqual(m.payload, sent);
          });
          assert.deepEqual(errors, []);
          assert.deepEqual(host.malformed, []);
          assert.equal(remote.stats.rxMessages, sentToRemote.length);
          assert.equal(remote.stats.txMessages, sentToHost.length + 1);
        },
      ),
      { numRuns: 150 },
    );
  });
});
