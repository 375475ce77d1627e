// The public `testing` entry, used as docs/testing.md shows it: everything comes from index.ts,
// a fake platform boots an Rproc and records its ops, a loopback pair echoes, a hostile remote's
// oversized message is dropped while the host keeps working.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRscTable } from '../rsc/rsc-build.ts';
import { createLoopback, echoCore, firmwareWithTable, hostileCore, rprocRig } from './index.ts';

describe('the testing entry point', () => {
  it('rprocRig: an Rproc on the fake platform boots an image with an empty table and records the ops in order', async () => {
    const { rproc, platform } = rprocRig({ firmware: firmwareWithTable(buildRscTable([])), subdevs: [] });
    await rproc.boot();
    assert.equal(rproc.state, 'running');
    await rproc.shutdown();
    assert.deepEqual(platform.calls, ['prepare', 'start', 'stop', 'unprepare']);
  });

  it('createLoopback + echoCore: a message sent on the announced channel comes back', async () => {
    const lb = await createLoopback({ core: echoCore('rpmsg-echo') });
    const got: string[] = [];
    const ept = lb.host.channels[0]?.open((data) => got.push(new TextDecoder().decode(data)));
    assert.ok(ept !== undefined, 'the remote announced rpmsg-echo');
    await ept.send(new TextEncoder().encode('ping'));
    await lb.idle();
    assert.deepEqual(got, ['ping']);
    await lb.close();
  });

  it('hostileCore: a header claiming more than the buffer holds is dropped and logged, the host keeps going', async () => {
    const lb = await createLoopback({ core: hostileCore() });
    lb.c.announce('svc', 0x400);
    await lb.idle();
    const got: Uint8Array[] = [];
    const ept = lb.host.channels[0]?.open((data) => got.push(data));
    assert.ok(ept !== undefined);
    lb.c.send(ept.addr, new Uint8Array(8), { src: 0x400, hdrLen: 0x20, usedLen: 0x18 });
    await lb.idle();
    assert.deepEqual(got, []);
    assert.ok(
      lb.logs.some((l) => l.includes('inbound msg too big')),
      lb.logs.join('\n'),
    );
    assert.equal(ept.trySend(new Uint8Array([1])), 0);
    await lb.idle();
    assert.equal(lb.c.received.length, 1);
    await lb.close();
  });
});
