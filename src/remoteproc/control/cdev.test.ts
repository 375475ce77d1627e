// The /dev/remoteproc<N> character device against Linux's remoteproc_cdev.c: prefix commands with
// no newline stripping (TC-C05), the shutdown-on-release ioctls, and the per-processor flag acted on
// by any opener's close (TC-C06).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrnoName } from '../../util/errors.ts';
import {
  CDEV_WRITE_MAX,
  RPROC_GET_SHUTDOWN_ON_RELEASE,
  RPROC_SET_SHUTDOWN_ON_RELEASE,
  RprocCdev,
} from './cdev.ts';
import { attachBench, fixtureBench } from '../../../test/support/control-fixtures.ts';

function rejects(code: ErrnoName, message?: RegExp): { name: string; code: ErrnoName; message?: RegExp } {
  return message === undefined ? { name: 'RprocError', code } : { name: 'RprocError', code, message };
}

const TRACE_ONLY = [{ kind: 'trace', da: 0x8000_2000, len: 0x100 }] as const;

describe('cdev identity and ioctl numbers', () => {
  it('is /dev/remoteproc<index> with the index as minor', async () => {
    const cdev = new RprocCdev((await fixtureBench()).rproc);
    assert.equal(cdev.path, '/dev/remoteproc0');
    assert.equal(cdev.minor, 0);
  });

  it('RPROC_SET/GET_SHUTDOWN_ON_RELEASE are _IOW/_IOR(0xB7, 1/2, __s32)', () => {
    assert.equal(RPROC_SET_SHUTDOWN_ON_RELEASE, 0x4004_b701);
    assert.equal(RPROC_GET_SHUTDOWN_ON_RELEASE, 0x8004_b702);
    assert.equal(CDEV_WRITE_MAX, 10);
  });
});

describe('cdev write', () => {
  // [written, outcome]: strncmp over the written length, in the order start, stop, detach.
  const cases: readonly [string, 'start' | 'stop' | 'EINVAL'][] = [
    ['start', 'start'],
    ['st', 'start'],
    ['s', 'start'],
    ['star', 'start'],
    ['start\0', 'start'],
    ['start\0\0\0\0\0', 'start'],
    ['start\n', 'EINVAL'],
    ['sto', 'stop'],
    ['stop', 'stop'],
    ['stop\n', 'EINVAL'],
    ['starts', 'EINVAL'],
    ['Start', 'EINVAL'],
    ['', 'EINVAL'],
    ['start\0\0\0\0\0\0', 'EINVAL'],
    ['x', 'EINVAL'],
  ];
  for (const [input, outcome] of cases) {
    it(`${JSON.stringify(input)} (${Buffer.byteLength(input)} bytes) → ${outcome}`, async () => {
      const { rproc } = await fixtureBench();
      const file = new RprocCdev(rproc).open();
      if (outcome === 'stop') await rproc.boot();
      const before = rproc.state;
      if (outcome === 'EINVAL') {
        await assert.rejects(file.write(input), rejects('EINVAL'));
        assert.equal(rproc.state, before);
        return;
      }
      assert.equal(await file.write(input), Buffer.byteLength(input));
      assert.equal(rproc.state, outcome === 'start' ? 'running' : 'offline');
    });
  }

  it('TC-C05: "start\\n" is EINVAL, "st" starts, 11 bytes are EINVAL', async () => {
    const { rproc, platform } = await fixtureBench();
    const file = new RprocCdev(rproc).open();
    await assert.rejects(file.write('start\n'), rejects('EINVAL', /Unrecognized option: "start\\n"/));
    await assert.rejects(file.write('start\0\0\0\0\0\0'), rejects('EINVAL', /write of 11 bytes; 1 to 10/));
    assert.deepEqual(platform.calls, []);
    assert.equal(await file.write('st'), 2);
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
  });

  it('takes raw bytes as write(2) would', async () => {
    const { rproc } = await fixtureBench();
    const file = new RprocCdev(rproc).open();
    assert.equal(await file.write(new Uint8Array([0x73, 0x74, 0x61])), 3);
    assert.equal(rproc.state, 'running');
  });

  it('no state checks: "start" on a running processor takes another reference; "stop" drops one', async () => {
    const { rproc } = await fixtureBench();
    const file = new RprocCdev(rproc).open();
    await file.write('start');
    await file.write('start');
    assert.equal(rproc.power, 2);
    await file.write('stop');
    assert.equal(rproc.state, 'running');
    await file.write('stop');
    assert.equal(rproc.state, 'offline');
    // Now the core refuses: nothing is running.
    await assert.rejects(file.write('stop'), rejects('EINVAL'));
  });

  it('"detach" detaches an attached processor; on a running one it is EINVAL (TC-C12)', async () => {
    const attached = await attachBench(TRACE_ONLY);
    const file = new RprocCdev(attached.rproc).open();
    assert.equal(await file.write('start'), 5);
    assert.equal(attached.rproc.state, 'attached');
    assert.equal(await file.write('detach'), 6);
    assert.equal(attached.rproc.state, 'detached');

    const running = await fixtureBench();
    const other = new RprocCdev(running.rproc).open();
    await other.write('start');
    await assert.rejects(other.write('detach'), rejects('EINVAL'));
    await assert.rejects(other.write('d'), rejects('EINVAL'));
    assert.equal(running.rproc.state, 'running');
  });
});

describe('cdev ioctl', () => {
  it('GET reads the flag (0 initially), SET stores !!s32', async () => {
    const { rproc } = await fixtureBench();
    const cdev = new RprocCdev(rproc);
    const file = cdev.open();
    assert.equal(file.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE), 0);
    const sets: readonly [number, number][] = [
      [1, 1],
      [0, 0],
      [42, 1],
      [-1, 1],
      // Only the s32 the pointer designates is read: 2^32 is 0 as an s32.
      [0x1_0000_0000, 0],
    ];
    for (const [value, expected] of sets) {
      assert.equal(file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, value), 0);
      assert.equal(file.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE), expected, `SET ${value}`);
      assert.equal(cdev.shutdownOnRelease, expected === 1);
    }
  });

  it('accepts the request number as a signed int too', async () => {
    const file = new RprocCdev((await fixtureBench()).rproc).open();
    assert.equal(file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE | 0, 1), 0);
    assert.equal(file.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE | 0), 1);
  });

  it('other requests are EINVAL; SET without its argument is EFAULT', async () => {
    const file = new RprocCdev((await fixtureBench()).rproc).open();
    for (const request of [0, 0x4004_b703, 0xc004_b701, 0x4004_b601]) {
      assert.throws(() => file.ioctl(request, 1), rejects('EINVAL', /Unsupported ioctl/));
    }
    assert.throws(() => file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE), rejects('EFAULT'));
    assert.equal(file.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE), 0);
  });
});

describe('cdev release', () => {
  it("TC-C06: the flag set through one opener makes another opener's close shut the processor down", async () => {
    const { rproc, platform } = await fixtureBench();
    // Two processes: each its own device object and file.
    const first = new RprocCdev(rproc).open();
    const second = new RprocCdev(rproc).open();
    await first.write('start');
    assert.equal(first.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1), 0);
    assert.equal(second.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE), 1);
    await second.close();
    assert.equal(rproc.state, 'offline');
    assert.equal(rproc.power, 0);
    assert.equal(platform.running, false);
    // The flag stays with the processor; the first file's close now finds nothing to stop.
    assert.equal(new RprocCdev(rproc).shutdownOnRelease, true);
    await first.close();
    assert.equal(rproc.state, 'offline');
  });

  it('without the flag, close does nothing', async () => {
    const { rproc } = await fixtureBench();
    const file = new RprocCdev(rproc).open();
    await file.write('start');
    await file.close();
    assert.equal(rproc.state, 'running');
    assert.equal(file.closed, true);
  });

  it('close drops one power reference: with two starts the processor keeps running', async () => {
    const { rproc } = await fixtureBench();
    const file = new RprocCdev(rproc).open();
    await file.write('start');
    await file.write('start');
    file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    await file.close();
    assert.equal(rproc.state, 'running');
    assert.equal(rproc.power, 1);
  });

  it('close detaches an attached processor instead of stopping it', async () => {
    const { rproc, platform } = await attachBench(TRACE_ONLY);
    const file = new RprocCdev(rproc).open();
    await file.write('start');
    file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    await file.close();
    assert.equal(rproc.state, 'detached');
    assert.equal(platform.calls.includes('stop'), false);
  });

  it("a failed detach is close's error; a failed shutdown is ignored, as in Linux", async () => {
    const attached = await attachBench(TRACE_ONLY);
    const a = new RprocCdev(attached.rproc).open();
    await a.write('start');
    a.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    attached.platform.failOn({ op: 'detach' });
    await assert.rejects(a.close(), rejects('EIO', /injected failure at detach/));
    assert.equal(a.closed, true);
    assert.equal(attached.rproc.state, 'attached');

    const running = await fixtureBench();
    const r = new RprocCdev(running.rproc).open();
    await r.write('start');
    r.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    running.platform.failOn({ op: 'stop' });
    await r.close();
    assert.equal(running.rproc.state, 'running');
    assert.equal(running.rproc.power, 1);
  });

  it('a crashed processor is left alone by close (only running/attached are acted on)', async () => {
    const { rproc } = await fixtureBench();
    rproc.crash.recoveryDisabled = true;
    const file = new RprocCdev(rproc).open();
    await file.write('start');
    file.ioctl(RPROC_SET_SHUTDOWN_ON_RELEASE, 1);
    const crashed = rproc.next('crash');
    rproc.reportCrash(2);
    await crashed;
    await file.close();
    assert.equal(rproc.state, 'crashed');
  });

  it('a closed file refuses write, ioctl and a second close', async () => {
    const file = new RprocCdev((await fixtureBench()).rproc).open();
    await file.close();
    await assert.rejects(file.write('start'), rejects('EBADF', /closed/));
    assert.throws(() => file.ioctl(RPROC_GET_SHUTDOWN_ON_RELEASE), rejects('EBADF', /closed/));
    await assert.rejects(file.close(), rejects('EBADF', /closed/));
  });
});
