// A blocking send that runs out of TX buffers: txPollMaxUs (how long it polls the used ring before
// it sleeps) is validated, and a send whose own look at the used ring finds the TX queue broken
// fails with EIO at once instead of waiting for buffers that cannot come. The polling itself needs
// a remote on another thread: src/soc/soc-tx-poll.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../util/errors.ts';
import { createLoopback } from '../../testing/loopback.ts';
import { hostileCore } from '../../testing/hostile-remote.ts';
import { RpmsgHost } from './rpmsg-host.ts';

describe('rpmsg host: a blocking send that runs out of TX buffers', () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    it(`refuses txPollMaxUs ${bad} with EINVAL naming it`, () => {
      assert.throws(
        () => new RpmsgHost({ txPollMaxUs: bad }),
        (e) => isRprocError(e, 'EINVAL') && e.message.includes(`txPollMaxUs ${bad} is not a count`),
      );
    });
  }

  it('a send whose own reclaim finds the TX queue broken fails with EIO at once, not at its timeout', async () => {
    const lb = await createLoopback({ core: hostileCore(), firmware: { num: 8 } });
    const r = lb.c;
    r.autoReturn = false;
    r.announce('svc', 0x400);
    await lb.idle();
    const ept = lb.host.channels[0]?.open();
    assert.ok(ept !== undefined);
    lb.rproc.crash.recoveryDisabled = true;
    while (ept.trySend(new Uint8Array(1)) === 0);
    // A used entry naming a descriptor the ring does not have, and no interrupt: the send's own
    // look at the used ring is what finds it.
    r.pushUsed(1, 0x77, 0);
    const t0 = performance.now();
    await assert.rejects(
      ept.send(new Uint8Array(1), { timeoutMs: 5000 }),
      (e) => isRprocError(e, 'EIO') && /names descriptor 0x77/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 2500, 'failed before its timeout');
    await lb.close();
  });
});
