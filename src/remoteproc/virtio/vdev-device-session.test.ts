// The shared device-side vdev session with a role that only records what it is asked to do: the
// DRIVER_OK wait for every status byte, refused setups and the reset that clears them, host resets,
// restart() and close(), kicks, queue violations, the service() backstop, batches, and the errors
// thrown at construction.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError, type ErrnoName } from '../../util/errors.ts';
import { FW_RSC_ADDR_ANY } from '../../rsc/rsc-constants.ts';
import { findVdev } from './vdev-locate.ts';
import {
  VdevDeviceSession,
  type VdevDeviceOptions,
  type VdevDeviceSessionOptions,
  type VdevSessionCounters,
} from './vdev-device-session.ts';
import type { VdevQueues } from './vdev-rings.ts';
import type { DeviceChain } from '../../virtio/vring-device.ts';
import { VRING_AVAIL_F_NO_INTERRUPT } from '../../virtio/vring-constants.ts';
import { BASE, NUM, V0_DA, V1_DA, VDEV_ID, VdevBench } from '../../../test/support/vdev-fixtures.ts';

type S = VdevQueues;

class Rig {
  readonly b = new VdevBench();
  readonly stats: VdevSessionCounters = {
    handshakes: 0,
    resets: 0,
    configErrors: 0,
    queueErrors: 0,
    callbackErrors: 0,
    kicks: 0,
    kicksSuppressed: 0,
    internalErrors: 0,
  };
  readonly calls: string[] = [];
  readonly errors: string[] = [];
  readonly states: string[] = [];
  readonly notified: number[] = [];
  work: (s: S) => number = () => 0;
  arm: (s: S) => boolean = () => true;
  readonly vdev: VdevDeviceSession<S>;

  constructor(more: Partial<VdevDeviceSessionOptions<S>> = {}, device: Partial<VdevDeviceOptions> = {}) {
    this.vdev = new VdevDeviceSession<S>({
      name: 'dev',
      op: 'test-device',
      device: {
        table: { da: BASE, size: this.b.table.length },
        translate: this.b.translate,
        notify: (id) => this.notified.push(id),
        onError: (e) => this.errors.push(e),
        onStateChange: (st) => this.states.push(st),
        ...device,
      },
      locate: (table) => findVdev(table, { ids: [VDEV_ID] }),
      entryName: 'test vdev entry',
      supported: 0xffff_ffff,
      labels: ['vring0 (a)', 'vring1 (b)'],
      memoryName: 'the test memory',
      stats: this.stats,
      exclusiveBatches: false,
      role: {
        open: (q) => {
          this.calls.push('open');
          return q;
        },
        work: (s) => this.work(s),
        arm: (s) => this.arm(s),
        dropped: (cause) => this.calls.push(`dropped ${cause}`),
        queueStopped: (_s, ring) => this.calls.push(`stopped ${ring.label}`),
        failed: (why) => this.calls.push(`failed ${why}`),
      },
      ...more,
    });
  }

  /** The host's probe: rings placed, then the status it writes last. */
  up(status = 7): void {
    this.b.place();
    this.b.status(status);
  }

  serviceAll(): number {
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const n = this.vdev.service();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  get ready(): S {
    const s = this.vdev.session;
    assert.ok(s !== undefined, `not ready: ${this.vdev.state}`);
    return s;
  }
}

describe('device-side vdev session: the DRIVER_OK wait', () => {
  it('touches nothing before DRIVER_OK, then builds the queues once', () => {
    const r = new Rig();
    r.b.place();
    r.b.memory.fill(0xa5, V0_DA - BASE, V1_DA - BASE + 0x2000);
    const before = r.b.memory.slice();
    assert.equal(r.vdev.service(), 0);
    assert.equal(r.vdev.state, 'wait-driver-ok');
    assert.deepEqual(r.b.memory, before);
    r.b.status(7);
    assert.ok(r.vdev.service() > 0);
    assert.equal(r.vdev.state, 'ready');
    assert.deepEqual(r.calls, ['open']);
    assert.deepEqual(r.states, ['ready']);
    assert.equal(r.stats.handshakes, 1);
    assert.equal(r.vdev.service(), 0);
    assert.equal(r.stats.handshakes, 1);
  });

  // [status byte the host wrote, whether the device takes the host as up]
  const statuses: readonly [number, boolean][] = [
    [0, false],
    [1, false],
    [3, false],
    [0x0b, false],
    [4, true],
    [7, true],
    [0x0f, true],
    [0x4f, true], // NEEDS_RESET is the device's to set; the driver's byte is read for two bits only
    [0x7f, true],
    [0x84, false], // FAILED: the driver gave up
    [0xff, false],
  ];
  for (const [status, up] of statuses) {
    it(`status ${status.toString(16)}: ${up ? 'ready' : 'keeps waiting'}`, () => {
      const r = new Rig();
      r.up(status);
      assert.equal(r.vdev.hostUp(), up);
      r.serviceAll();
      assert.equal(r.vdev.state, up ? 'ready' : 'wait-driver-ok');
    });
  }

  it('a refused setup waits for a reset, even once the host corrects it', () => {
    const r = new Rig();
    r.b.place();
    r.b.poke(0, 'da', FW_RSC_ADDR_ANY);
    r.b.status(7);
    r.serviceAll();
    assert.equal(r.vdev.state, 'invalid');
    assert.equal(r.stats.configErrors, 1);
    assert.deepEqual(r.errors, [
      "dev: DRIVER_OK seen but the host's vring setup is invalid: vring0 da is still FW_RSC_ADDR_ANY: the host did not place it; waiting for a reset",
    ]);
    r.b.poke(0, 'da', V0_DA);
    assert.equal(r.serviceAll(), 0);
    assert.equal(r.vdev.state, 'invalid');
    r.b.status(0);
    r.serviceAll();
    assert.equal(r.vdev.state, 'wait-driver-ok');
    r.b.status(7);
    r.serviceAll();
    assert.equal(r.vdev.state, 'ready');
    assert.deepEqual(r.states, ['invalid', 'wait-driver-ok', 'ready']);
    assert.deepEqual([r.stats.configErrors, r.stats.handshakes, r.stats.resets], [1, 1, 0]);
  });

  it('notify ids: the table’s while waiting, the validated ones while ready', () => {
    const r = new Rig();
    r.b.place();
    assert.deepEqual(r.vdev.notifyIds(), [2, 3]);
    r.b.status(7);
    r.serviceAll();
    r.b.poke(0, 'notifyid', 40);
    assert.deepEqual(r.vdev.notifyIds(), [2, 3]);
    assert.equal(r.vdev.features, 0);
  });
});

describe('device-side vdev session: ends of a session', () => {
  it('a host reset drops the session; the next DRIVER_OK builds a new one', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    const first = r.ready;
    r.b.status(0);
    assert.ok(r.vdev.service() > 0);
    assert.equal(r.vdev.session, undefined);
    r.b.status(7);
    r.serviceAll();
    assert.notEqual(r.ready, first);
    assert.deepEqual(r.calls, ['open', 'dropped host-reset', 'open']);
    assert.deepEqual(r.states, ['ready', 'wait-driver-ok', 'ready']);
    assert.deepEqual([r.stats.handshakes, r.stats.resets], [2, 1]);
  });

  it('FAILED set under a ready session is a reset too', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    r.b.status(0x87);
    r.serviceAll();
    assert.deepEqual(r.calls, ['open', 'dropped host-reset']);
    assert.equal(r.vdev.state, 'wait-driver-ok');
  });

  it('restart() drops the session and handshakes again while DRIVER_OK stays', () => {
    const r = new Rig();
    r.vdev.restart();
    assert.deepEqual(r.calls, []);
    r.up();
    r.serviceAll();
    r.vdev.restart();
    assert.equal(r.vdev.state, 'wait-driver-ok');
    r.serviceAll();
    assert.deepEqual(r.calls, ['open', 'dropped restart', 'open']);
    assert.equal(r.stats.resets, 1);
  });

  it('close() drops whatever there is, once; nothing runs afterwards', () => {
    for (const withSession of [false, true]) {
      const r = new Rig();
      if (withSession) {
        r.up();
        r.serviceAll();
      }
      r.vdev.close();
      r.vdev.close();
      r.vdev.restart();
      r.up();
      assert.equal(r.vdev.service(), 0);
      assert.equal(r.vdev.state, 'closed');
      assert.equal(r.vdev.session, undefined);
      assert.deepEqual(r.calls, withSession ? ['open', 'dropped close'] : ['dropped close']);
      assert.equal(r.stats.resets, 0);
    }
  });
});

describe('device-side vdev session: failures', () => {
  it('service() never throws: a failing round stops both queues until a reset', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    r.work = () => {
      throw new Error('boom');
    };
    assert.equal(r.vdev.service(), 1);
    const s = r.ready;
    assert.deepEqual(
      s.rings.map((x) => x.broken?.detail),
      ['internal error: boom', 'internal error: boom'],
    );
    assert.deepEqual(r.calls, ['open', 'failed internal error: boom']);
    assert.equal(r.stats.internalErrors, 1);
    assert.equal(r.vdev.diag.lastError, 'dev: internal error: boom');
  });

  it('a queue violation is recorded once and handed to the role', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    const chain: DeviceChain = { head: 0, buffers: [], readable: 0, writable: 0 };
    r.work = (s) => {
      s.rings[1].vq.getAvail(chain);
      r.vdev.checkRing(s, s.rings[1]);
      r.vdev.checkRing(s, s.rings[1]);
      return 0;
    };
    r.b.raw(V1_DA).availIdx = NUM + 5; // more entries than the ring has
    r.vdev.service();
    assert.equal(r.stats.queueErrors, 1);
    assert.deepEqual(r.calls, ['open', 'stopped vring1 (b)']);
    assert.match(r.errors.at(-1) ?? '', /vring1 \(b\) stopped until the host resets the device$/);
    assert.equal(r.ready.rings[0].broken, undefined);
  });

  it('kicks what was used, as the host’s flags allow; a throwing notify is counted', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    r.work = (s) => {
      s.rings[0].dirty = true;
      return 0;
    };
    r.vdev.service();
    assert.deepEqual(r.notified, [2]);
    r.b.raw(V0_DA).availFlags = VRING_AVAIL_F_NO_INTERRUPT;
    r.vdev.service();
    assert.deepEqual([r.stats.kicks, r.stats.kicksSuppressed], [1, 1]);
    const bad = new Rig(
      {},
      {
        notify: () => {
          throw new Error('bell');
        },
      },
    );
    bad.up();
    bad.serviceAll();
    bad.work = (s) => {
      s.rings[1].dirty = true;
      return 0;
    };
    bad.vdev.service();
    assert.equal(bad.stats.callbackErrors, 1);
    assert.deepEqual(bad.errors, ['dev: notify(3) threw: bell']);
  });

  it('an onStateChange that throws is counted and reported, and the state still changes', () => {
    const r = new Rig(
      {},
      {
        onStateChange: () => {
          throw new Error('hook');
        },
      },
    );
    r.up();
    r.serviceAll();
    assert.equal(r.vdev.state, 'ready');
    assert.equal(r.stats.callbackErrors, 1);
    assert.deepEqual(r.errors, ['dev: onStateChange threw: hook']);
  });
});

describe('device-side vdev session: batches', () => {
  for (const exclusiveBatches of [true, false]) {
    it(`service() inside a batch ${exclusiveBatches ? 'does nothing' : 'runs'} (exclusiveBatches ${String(exclusiveBatches)})`, () => {
      const r = new Rig({ exclusiveBatches });
      r.up();
      r.serviceAll();
      let rounds = 0;
      r.work = () => {
        rounds++;
        return 0;
      };
      // Recorded and asserted outside: batch()'s backstop would swallow a failed assertion.
      let inside: number[] = [];
      r.vdev.batch((s) => {
        s.rings[0].dirty = true;
        r.vdev.kickOutside(s);
        inside = [...r.notified];
        r.vdev.service();
      });
      assert.deepEqual(inside, [], 'kicks wait for the end of the batch');
      assert.equal(rounds, exclusiveBatches ? 0 : 1);
      assert.deepEqual(r.notified, [2]);
      assert.equal(r.stats.internalErrors, 0);
    });
  }

  it('a batch runs only on a ready session with the host up, never nested nor inside service()', () => {
    const r = new Rig();
    let runs = 0;
    const count = (): void => {
      runs++;
    };
    r.vdev.batch(count);
    r.up();
    r.serviceAll();
    r.work = () => {
      r.vdev.batch(count);
      return 0;
    };
    r.vdev.service();
    r.vdev.batch(() => {
      r.vdev.batch(count);
    });
    assert.equal(runs, 0);
    r.vdev.batch(count);
    assert.equal(runs, 1);
    r.b.status(0); // reset not serviced yet: the live status already says no
    r.vdev.batch(count);
    assert.equal(runs, 1);
  });

  it('a batch that throws stops the queues, and the caller sees nothing', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    r.vdev.batch(() => {
      throw new Error('oops');
    });
    assert.equal(r.stats.internalErrors, 1);
    assert.equal(r.ready.rings[1].broken?.detail, 'internal error: oops');
  });
});

describe('device-side vdev session: construction', () => {
  const throwing = (): Uint8Array => {
    throw new Error('no map');
  };
  const cases: readonly [string, Partial<VdevDeviceOptions>, ErrnoName, RegExp][] = [
    [
      'a table size of 0',
      { table: { da: BASE, size: 0 } },
      'EINVAL',
      /resource table size 0 is not a positive integer/,
    ],
    ['a fractional table size', { table: { da: BASE, size: 1.5 } }, 'EINVAL', /size 1.5 is not/],
    [
      'a table outside memory',
      { table: { da: 0x20_0000, size: 64 } },
      'EFAULT',
      /resource table at da 0x200000 \(0x40 bytes\) is outside the test memory map/,
    ],
    [
      'a table at the top of the 64-bit space',
      { table: { da: 0xffff_ffff_ffff_fff0n, size: 64 } },
      'EFAULT',
      /outside/,
    ],
    ['a translator that throws', { translate: throwing }, 'EFAULT', /outside the test memory map/],
    ['no vdev of that id', { table: new Uint8Array(16) }, 'ENODEV', /no entry 0/],
  ];
  for (const [name, device, code, message] of cases) {
    it(`refuses ${name} (${code})`, () => {
      assert.throws(
        () => new Rig({}, device),
        (e) => isRprocError(e, code) && message.test(e.message),
      );
    });
  }

  it('takes a view of the table as well as its address', () => {
    const b = new VdevBench();
    const r = new Rig({}, { table: b.table });
    assert.equal(r.vdev.location.entryIndex, 0);
    assert.equal(r.vdev.table, b.table);
  });
});

describe('device-side vdev session: transitions', () => {
  // [name, set-up before the measured service(), what that service() returns, the role calls and
  // state changes it makes, how many rounds of work it runs]
  interface Step {
    readonly name: string;
    readonly setup: (r: Rig) => void;
    readonly returns: number;
    readonly calls: readonly string[];
    readonly states: readonly string[];
    readonly rounds: number;
  }
  const ready = (r: Rig): void => {
    r.up();
    r.serviceAll();
    r.calls.length = 0;
    r.states.length = 0;
  };
  const steps: readonly Step[] = [
    { name: 'waiting, host down', setup: (r) => r.b.place(), returns: 0, calls: [], states: [], rounds: 0 },
    {
      name: 'handshake, no work',
      setup: (r) => r.up(),
      returns: 1,
      calls: ['open'],
      states: ['ready'],
      rounds: 1,
    },
    {
      name: 'handshake, 2 units of work',
      setup: (r) => {
        r.up();
        r.work = () => 2;
      },
      returns: 3,
      calls: ['open'],
      states: ['ready'],
      rounds: 1,
    },
    {
      name: 'ready, host resets',
      setup: (r) => {
        ready(r);
        r.b.status(0);
      },
      returns: 1,
      calls: ['dropped host-reset'],
      states: ['wait-driver-ok'],
      rounds: 0,
    },
    {
      name: 'ready, restart() before the service',
      setup: (r) => {
        ready(r);
        r.vdev.restart();
        r.calls.length = 0;
        r.states.length = 0;
      },
      returns: 1,
      calls: ['open'],
      states: ['ready'],
      rounds: 1,
    },
    {
      name: 'invalid, host resets',
      setup: (r) => {
        r.b.place();
        r.b.poke(1, 'da', FW_RSC_ADDR_ANY);
        r.b.status(7);
        r.serviceAll();
        r.states.length = 0;
        r.b.status(0);
      },
      returns: 1,
      calls: [],
      states: ['wait-driver-ok'],
      rounds: 0,
    },
    {
      name: 'invalid, host still up',
      setup: (r) => {
        r.b.place();
        r.b.poke(1, 'da', FW_RSC_ADDR_ANY);
        r.b.status(7);
        r.serviceAll();
        r.states.length = 0;
      },
      returns: 0,
      calls: [],
      states: [],
      rounds: 0,
    },
    {
      name: 'ready, arm finds work every round',
      setup: (r) => {
        ready(r);
        r.arm = () => false;
      },
      returns: 1, // the last round's pending work, so the caller comes back
      calls: [],
      states: [],
      rounds: 4,
    },
    {
      name: 'ready, arm finds work twice, 1 unit each round',
      setup: (r) => {
        ready(r);
        let left = 2;
        r.arm = () => left-- === 0;
        r.work = () => 1;
      },
      returns: 3,
      calls: [],
      states: [],
      rounds: 3,
    },
    {
      name: 'ready, restart() from inside a round',
      setup: (r) => {
        ready(r);
        r.arm = () => false;
        r.work = () => {
          r.vdev.restart();
          return 1;
        };
      },
      returns: 1,
      calls: ['dropped restart'],
      states: ['wait-driver-ok'],
      rounds: 1,
    },
    {
      name: 'ready, close() from inside a round',
      setup: (r) => {
        ready(r);
        r.arm = () => false;
        r.work = () => {
          r.vdev.close();
          return 1;
        };
      },
      returns: 1,
      calls: ['dropped close'],
      states: ['closed'],
      rounds: 1,
    },
    {
      name: 'ready, service() from inside a round',
      setup: (r) => {
        ready(r);
        r.work = () => 1 + r.vdev.service(); // the nested call adds nothing
      },
      returns: 1,
      calls: [],
      states: [],
      rounds: 1,
    },
    {
      name: 'closed',
      setup: (r) => {
        r.up();
        r.vdev.close();
        r.calls.length = 0;
        r.states.length = 0;
      },
      returns: 0,
      calls: [],
      states: [],
      rounds: 0,
    },
  ];
  for (const step of steps) {
    it(`${step.name}: returns ${step.returns} after ${step.rounds} rounds`, () => {
      const r = new Rig();
      step.setup(r);
      const work = r.work;
      let rounds = 0;
      r.work = (s) => {
        rounds++;
        return work(s);
      };
      assert.equal(r.vdev.service(), step.returns);
      assert.deepEqual(r.calls, step.calls);
      assert.deepEqual(r.states, step.states);
      assert.equal(rounds, step.rounds);
      assert.equal(r.stats.internalErrors, 0);
    });
  }

  it('after a round from inside which the session ended, the next service() handshakes again', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    let restarted = false;
    r.work = () => {
      if (!restarted) {
        restarted = true;
        r.vdev.restart();
      }
      return 0;
    };
    r.vdev.service();
    assert.equal(r.vdev.service(), 1);
    assert.deepEqual(r.calls, ['open', 'dropped restart', 'open']);
    assert.equal(r.vdev.state, 'ready');
  });

  it('restart() from a refused setup tries the handshake again; from waiting it changes nothing', () => {
    const r = new Rig();
    r.vdev.restart();
    assert.deepEqual(r.states, []);
    r.b.place();
    r.b.poke(0, 'da', FW_RSC_ADDR_ANY);
    r.b.status(7);
    r.serviceAll();
    r.b.poke(0, 'da', V0_DA);
    r.vdev.restart();
    assert.equal(r.vdev.state, 'wait-driver-ok');
    r.serviceAll();
    assert.deepEqual(r.states, ['invalid', 'wait-driver-ok', 'ready']);
    assert.deepEqual([r.stats.resets, r.stats.handshakes], [0, 1]);
  });

  it('a kick from inside a round waits for the end of the round', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    // Recorded and asserted outside: service()'s backstop would swallow a failed assertion.
    let inside: number[] = [];
    r.work = (s) => {
      s.rings[0].dirty = true;
      r.vdev.kickOutside(s);
      inside = [...r.notified];
      return 0;
    };
    r.vdev.service();
    assert.deepEqual(inside, [], 'no kick inside service()');
    assert.deepEqual(r.notified, [2]);
    assert.equal(r.stats.kicks, 1);
  });

  it('a round that throws still kicks for what it pushed, and the next service() runs again', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    let rounds = 0;
    r.work = (s) => {
      rounds++;
      s.rings[0].dirty = true;
      throw new Error('late');
    };
    assert.equal(r.vdev.service(), 1);
    assert.deepEqual(r.notified, [2]);
    assert.equal(r.vdev.service(), 1);
    assert.equal(rounds, 2);
    assert.equal(r.stats.internalErrors, 2);
  });

  it('an open() that throws is counted with no session to stop, and the next service() tries again', () => {
    let opens = 0;
    const r = new Rig({
      role: {
        open: () => {
          opens++;
          throw new Error('no open');
        },
        work: () => 0,
        arm: () => true,
        dropped: () => undefined,
        failed: (why) => r.calls.push(`failed ${why}`),
      },
    });
    r.up();
    assert.equal(r.vdev.service(), 1);
    assert.equal(r.vdev.state, 'wait-driver-ok');
    assert.equal(r.vdev.session, undefined);
    assert.deepEqual(r.calls, []);
    assert.equal(r.stats.internalErrors, 1);
    assert.deepEqual(r.errors, ['dev: internal error: no open']);
    r.vdev.service();
    assert.equal(opens, 2);
  });

  it('the first reason a queue stopped is kept when a later internal error stops both', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    r.b.raw(V1_DA).availIdx = NUM + 5;
    r.work = (s) => {
      s.rings[1].vq.getAvail();
      r.vdev.checkRing(s, s.rings[1]);
      throw new Error('then this');
    };
    r.vdev.service();
    const s = r.ready;
    assert.equal(s.rings[0].broken?.detail, 'internal error: then this');
    assert.match(s.rings[1].broken?.detail ?? '', /avail\.idx/);
  });

  it('a role without the optional hooks: a queue violation and an internal error are only counted', () => {
    const r = new Rig({
      role: {
        open: (q) => q,
        work: (s) => {
          s.rings[1].vq.getAvail();
          r.vdev.checkRing(s, s.rings[1]);
          throw new Error('after');
        },
        arm: () => true,
        dropped: () => undefined,
      },
    });
    r.up();
    r.b.raw(V1_DA).availIdx = NUM + 5;
    assert.equal(r.vdev.service(), 1);
    assert.deepEqual([r.stats.queueErrors, r.stats.internalErrors], [1, 1]);
    assert.equal(r.errors.length, 2);
    assert.equal(r.errors[1], 'dev: internal error: after');
  });

  it('a batch whose session ends inside it does not kick the dropped rings', () => {
    for (const end of ['restart', 'close'] as const) {
      const r = new Rig();
      r.up();
      r.serviceAll();
      r.vdev.batch((s) => {
        s.rings[0].dirty = true;
        if (end === 'restart') r.vdev.restart();
        else r.vdev.close();
      });
      assert.deepEqual(r.notified, [], end);
      assert.equal(r.stats.kicks, 0, end);
    }
  });
});

describe('device-side vdev session: what it reports between handshakes', () => {
  it('features: the negotiated mask while ready, 0 before and after', () => {
    const r = new Rig();
    assert.equal(r.vdev.features, 0);
    r.up();
    r.serviceAll();
    assert.equal(r.vdev.features, 0, 'the fixture offers no features');
    const b = new VdevBench({ dfeatures: 0b0110 });
    const f = new Rig({}, { table: b.table, translate: b.translate });
    assert.equal(f.vdev.features, 0);
    b.place({ gfeatures: 0b1100 });
    b.status(7);
    f.serviceAll();
    assert.equal(f.vdev.features, 0b0100);
    b.status(0);
    f.serviceAll();
    assert.equal(f.vdev.features, 0);
  });

  it('a batch before the first handshake does nothing, even with the host already up', () => {
    const r = new Rig();
    r.up();
    let runs = 0;
    r.vdev.batch(() => runs++);
    assert.equal(runs, 0);
  });

  it('kickOutside from application code kicks at once', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    const s = r.ready;
    s.rings[1].dirty = true;
    r.vdev.kickOutside(s);
    assert.deepEqual(r.notified, [3]);
  });

  it('the error that stops the queues carries what was thrown as its cause', () => {
    const r = new Rig();
    r.up();
    r.serviceAll();
    const thrown = new Error('inner');
    r.work = () => {
      throw thrown;
    };
    r.vdev.service();
    assert.equal(r.ready.rings[0].broken?.cause, thrown);
  });

  it('without an onStateChange hook the state still changes and nothing is counted', () => {
    const b = new VdevBench();
    const stats: VdevSessionCounters = {
      handshakes: 0,
      resets: 0,
      configErrors: 0,
      queueErrors: 0,
      callbackErrors: 0,
      kicks: 0,
      kicksSuppressed: 0,
      internalErrors: 0,
    };
    const vdev = new VdevDeviceSession<S>({
      name: 'dev',
      op: 'test-device',
      device: { table: b.table, translate: b.translate, notify: () => undefined },
      locate: (table) => findVdev(table, { ids: [VDEV_ID] }),
      entryName: 'test vdev entry',
      supported: 0xffff_ffff,
      labels: ['vring0 (a)', 'vring1 (b)'],
      memoryName: 'the test memory',
      stats,
      exclusiveBatches: false,
      role: { open: (q) => q, work: () => 0, arm: () => true, dropped: () => undefined },
    });
    b.place();
    b.status(7);
    vdev.service();
    assert.equal(vdev.state, 'ready');
    assert.deepEqual([stats.handshakes, stats.callbackErrors], [1, 0]);
  });
});

describe('device-side vdev session: bus addresses', () => {
  // Descriptors carry bus addresses (the host's DMA view); here bus = device address + BUS_OFFSET,
  // so only the bus translator maps them.
  const BUS_OFFSET = 0x8000_0000;
  const BUF_DA = 0xc000;
  for (const withBus of [true, false]) {
    it(`descriptor addresses resolve through ${withBus ? 'translateBus' : 'translate when there is no translateBus'}`, () => {
      const bus = (addr: bigint | number, len: number): Uint8Array | undefined =>
        Number(addr) >= BUS_OFFSET ? r.b.translate(Number(addr) - BUS_OFFSET, len) : undefined;
      const r: Rig = new Rig({}, withBus ? { translateBus: bus } : {});
      r.up();
      r.serviceAll();
      r.b.memory.set([1, 2, 3, 4], BUF_DA - BASE);
      const raw = r.b.raw(V0_DA);
      raw.setDesc(0, { addr: BigInt((withBus ? BUS_OFFSET : 0) + BUF_DA), len: 4, flags: 0, next: 0 });
      raw.pushAvailRaw(0);
      let got: readonly number[] = [];
      r.work = (s) => {
        const chain = s.rings[0].vq.getAvail();
        got = chain === undefined ? [] : [...(chain.buffers[0]?.view ?? [])];
        r.vdev.checkRing(s, s.rings[0]);
        return 0;
      };
      r.vdev.service();
      assert.deepEqual(got, [1, 2, 3, 4]);
      assert.equal(r.stats.queueErrors, 0);
    });
  }
});
