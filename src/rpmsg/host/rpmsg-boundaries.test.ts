// Every check the rpmsg host makes on a value the remote writes (used.len, the message header, the
// name-service message), pinned at its boundary: the last value the check accepts is delivered or
// bound, the first it refuses is dropped and counted with that check's warning, and the buffer goes
// back either way. Far-out values are in rpmsg-hostile.test.ts (TC-M*); these catch a check that is
// off by one, such as `hdr.len > used.len − 15`.

import { describe, it } from 'node:test';
import { ERRNO } from '../../util/errors.ts';
import assert from 'node:assert/strict';
import {
  RPMSG_ADDR_ANY,
  RPMSG_NS_ADDR,
  RPMSG_NS_DESTROY,
  RPMSG_NS_MSG_SIZE,
  decodeNsMsg,
  encodeNsMsg,
} from '../rpmsg-wire.ts';
import { createLoopback, type Loopback } from '../../testing/loopback.ts';
import { hostileCore, type HostileRemote } from '../../testing/hostile-remote.ts';
import type { RpmsgEndpoint } from './rpmsg-endpoint.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

const SVC = 0x400;
const RX_BUF = 512;

interface Rig {
  readonly lb: Loopback<HostileRemote>;
  readonly r: HostileRemote;
  readonly ept: RpmsgEndpoint;
  /** Payload lengths delivered to the endpoint, in order, with their first byte. */
  readonly got: Uint8Array[];
  readonly device: VirtioRpmsgBus;
}

async function setup(maxChannelsPerDevice?: number): Promise<Rig> {
  const lb = await createLoopback({
    core: hostileCore(),
    ...(maxChannelsPerDevice === undefined ? {} : { host: { maxChannelsPerDevice } }),
  });
  const r = lb.c;
  r.announce('svc', SVC);
  await lb.idle();
  const got: Uint8Array[] = [];
  const ept = lb.host.channels[0]?.open((d) => got.push(d.slice()));
  assert.ok(ept !== undefined, 'the channel was announced');
  const device = lb.device;
  assert.ok(device !== undefined);
  return { lb, r, ept, got, device };
}

type Counter = 'rxMalformed' | 'nsMalformed' | 'nsOverLimit';

interface MessageBoundary {
  readonly check: string;
  readonly lastValid: (rig: Rig) => void;
  /** Payload length the endpoint gets for the last valid message. */
  readonly delivered: number;
  readonly firstInvalid: (rig: Rig) => void;
  readonly counter: Counter;
  readonly warning: RegExp;
}

const payload = (n: number): Uint8Array => new Uint8Array(n).fill(0x5a);

const MESSAGES: readonly MessageBoundary[] = [
  {
    check: 'used.len ≥ the 16-byte header',
    lastValid: ({ r, ept }) => r.send(ept.addr, payload(0), { src: SVC, hdrLen: 0, usedLen: 16 }),
    delivered: 0,
    firstInvalid: ({ r, ept }) => r.send(ept.addr, payload(0), { src: SVC, hdrLen: 0, usedLen: 15 }),
    counter: 'rxMalformed',
    warning: /inbound message of 0xf bytes \(used\.len\) is shorter than its 0x10-byte header/,
  },
  {
    check: 'hdr.len ≤ used.len − 16',
    lastValid: ({ r, ept }) => r.send(ept.addr, payload(8), { src: SVC, hdrLen: 8, usedLen: 24 }),
    delivered: 8,
    firstInvalid: ({ r, ept }) => r.send(ept.addr, payload(9), { src: SVC, hdrLen: 9, usedLen: 24 }),
    counter: 'rxMalformed',
    warning: /inbound msg too big: hdr\.len 0x9 in a 0x18-byte buffer/,
  },
  {
    check: 'hdr.len ≤ used.len − 16 with a full buffer',
    lastValid: ({ r, ept }) =>
      r.send(ept.addr, payload(RX_BUF - 16), { src: SVC, hdrLen: RX_BUF - 16, usedLen: RX_BUF }),
    delivered: RX_BUF - 16,
    firstInvalid: ({ r, ept }) =>
      r.send(ept.addr, payload(RX_BUF - 16), { src: SVC, hdrLen: RX_BUF - 15, usedLen: RX_BUF }),
    counter: 'rxMalformed',
    warning: /inbound msg too big: hdr\.len 0x1f1 in a 0x200-byte buffer/,
  },
  {
    check: 'used.len ≤ the RX buffer posted (512)',
    lastValid: ({ r, ept }) => r.send(ept.addr, payload(4), { src: SVC, hdrLen: 4, usedLen: RX_BUF }),
    delivered: 4,
    firstInvalid: ({ r, ept }) => r.send(ept.addr, payload(4), { src: SVC, hdrLen: 4, usedLen: RX_BUF + 1 }),
    counter: 'rxMalformed',
    warning:
      /inbound msg too big: .*reports 0x201 bytes written into chain 0x[0-9a-f]+, whose device-writable length is 0x200; clamped/,
  },
];

describe('rpmsg host: every check on an inbound message at its boundary', () => {
  for (const b of MESSAGES) {
    it(`${b.check}: last valid is delivered, first invalid is dropped and counted`, async () => {
      const rig = await setup();
      const { lb, r, got, device } = rig;
      const posted = r.availCount(0);
      b.lastValid(rig);
      await lb.idle();
      assert.deepEqual(
        got.map((d) => d.length),
        [b.delivered],
      );
      assert.equal(device.stats[b.counter], 0);
      b.firstInvalid(rig);
      await lb.idle();
      assert.equal(got.length, 1, 'the invalid message is not delivered');
      assert.equal(device.stats[b.counter], 1);
      assert.ok(
        lb.logs.some((l) => b.warning.test(l)),
        `warned as ${String(b.warning)}:\n${lb.logs.join('\n')}`,
      );
      assert.equal(r.availCount(0), posted, 'both buffers are back on the ring');
      assert.deepEqual(lb.hostErrors, [], 'the ring is not broken');
      await lb.close();
    });
  }

  it('the payload delivered is exactly hdr.len bytes from after the header', async () => {
    const rig = await setup();
    const bytes = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    rig.r.send(rig.ept.addr, bytes, { src: SVC, hdrLen: 7, usedLen: 36 });
    await rig.lb.idle();
    assert.deepEqual(rig.got, [bytes.subarray(0, 7)]);
    await rig.lb.close();
  });
});

interface NsBoundary {
  readonly check: string;
  /** An announcement that binds a channel: its name as listed. */
  readonly lastValid: (r: HostileRemote) => void;
  readonly bound: string;
  readonly firstInvalid: (r: HostileRemote) => void;
  readonly counter: Counter;
  readonly warning: RegExp;
  readonly maxChannels?: number;
}

function nsRaw(length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(
    encodeNsMsg({ name: 'raw', addr: 0x500, flags: 0 }).subarray(0, Math.min(length, RPMSG_NS_MSG_SIZE)),
  );
  return out;
}

const NS: readonly NsBoundary[] = [
  {
    check: 'an NS message is exactly 40 bytes (longer)',
    lastValid: (r) => r.announce('', 0x500, 0, nsRaw(40)),
    bound: 'raw',
    firstInvalid: (r) => r.announce('', 0x500, 0, nsRaw(41)),
    counter: 'nsMalformed',
    warning: /malformed ns msg \(0x29 bytes from 0x500, expected 0x28\)/,
  },
  {
    check: 'an NS message is exactly 40 bytes (shorter)',
    lastValid: (r) => r.announce('', 0x500, 0, nsRaw(40)),
    bound: 'raw',
    firstInvalid: (r) => r.announce('', 0x500, 0, nsRaw(39)),
    counter: 'nsMalformed',
    warning: /malformed ns msg \(0x27 bytes from 0x500, expected 0x28\)/,
  },
  {
    check: 'an NS address below RPMSG_ADDR_ANY',
    lastValid: (r) => r.announce('top', RPMSG_ADDR_ANY - 1),
    bound: 'top',
    firstInvalid: (r) => r.announce('any', RPMSG_ADDR_ANY),
    counter: 'nsMalformed',
    warning: /ns msg names an impossible channel "any" at 0xffffffff/,
  },
  {
    check: 'an NS address other than the name service’s own (53)',
    lastValid: (r) => r.announce('beside', RPMSG_NS_ADDR + 1),
    bound: 'beside',
    firstInvalid: (r) => r.announce('ns', RPMSG_NS_ADDR),
    counter: 'nsMalformed',
    warning: /ns msg names an impossible channel "ns" at 0x35/,
  },
  {
    check: 'an NS name of at least one character',
    lastValid: (r) => r.announce('x', 0x500),
    bound: 'x',
    firstInvalid: (r) => r.announce('', 0x501),
    counter: 'nsMalformed',
    warning: /ns msg names an impossible channel "" at 0x501/,
  },
  {
    check: 'channels per device up to the cap',
    maxChannels: 3,
    lastValid: (r) => {
      r.announce('two', 0x501);
      r.announce('three', 0x502);
    },
    bound: 'three',
    firstInvalid: (r) => {
      r.announce('two', 0x501);
      r.announce('three', 0x502);
      r.announce('four', 0x503);
    },
    counter: 'nsOverLimit',
    warning: /channel "four" at 0x503 refused: the device has 3 channels, its limit \(1 refused so far\)/,
  },
];

describe('rpmsg host: every check on a name-service message at its boundary', () => {
  for (const b of NS) {
    it(`${b.check}: last valid binds a channel, first invalid is refused and counted`, async () => {
      const ok = await setup(b.maxChannels);
      b.lastValid(ok.r);
      await ok.lb.idle();
      assert.equal(ok.lb.host.channels.at(-1)?.name, b.bound);
      assert.equal(ok.device.stats[b.counter], 0);
      assert.equal(ok.device.stats.nsRefused, 0);
      await ok.lb.close();

      const bad = await setup(b.maxChannels);
      const before = bad.lb.host.channels.length;
      b.firstInvalid(bad.r);
      await bad.lb.idle();
      assert.equal(bad.device.stats[b.counter], 1);
      assert.equal(
        bad.lb.host.channels.length,
        Math.min(before + (b.maxChannels === undefined ? 0 : 2), b.maxChannels ?? before),
      );
      assert.ok(
        bad.lb.logs.some((l) => b.warning.test(l)),
        `warned as ${String(b.warning)}:\n${bad.lb.logs.join('\n')}`,
      );
      await bad.lb.close();
    });
  }

  it('an NS name of 31 bytes is kept whole; a 32nd byte (no NUL) is cut', () => {
    const msg = encodeNsMsg({ name: 'n'.repeat(31), addr: 0x500, flags: 0 });
    assert.equal(decodeNsMsg(msg)?.name, 'n'.repeat(31));
    msg[31] = 0x6e;
    assert.equal(decodeNsMsg(msg)?.name, 'n'.repeat(31));
    assert.deepEqual(decodeNsMsg(msg), { name: 'n'.repeat(31), addr: 0x500, flags: 0 });
  });

  it('NS flags: bit 0 clear creates, bit 0 set destroys, other bits are ignored', async () => {
    const rig = await setup();
    rig.r.announce('f', 0x500, 0xffff_fffe);
    await rig.lb.idle();
    assert.ok(rig.lb.host.channels.some((c) => c.name === 'f'));
    rig.r.announce('f', 0x500, 1);
    await rig.lb.idle();
    assert.ok(!rig.lb.host.channels.some((c) => c.name === 'f'));
    assert.equal(rig.device.stats.nsRefused, 0);
    await rig.lb.close();
  });
});

describe('rpmsg host: the remote creates and destroys channels of one name at several addresses', () => {
  it('a lookup by name finds the oldest live one; destroying one leaves the others; the last gone, none', async () => {
    const { lb, r, device } = await setup();
    r.announce('twin', 0x500);
    r.announce('twin', 0x501);
    r.announce('twin', 0x502);
    await lb.idle();
    assert.equal(device.channel('twin')?.dst, 0x500);
    r.announce('twin', 0x500, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.equal(device.channel('twin')?.dst, 0x501, 'the next oldest, once the oldest is destroyed');
    r.announce('twin', 0x502, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.equal(device.channel('twin')?.dst, 0x501, 'destroying a younger one leaves the oldest');
    r.announce('twin', 0x501, RPMSG_NS_DESTROY);
    await lb.idle();
    assert.equal(device.channel('twin'), undefined);
    assert.equal(device.channel('svc')?.dst, SVC, 'another name is untouched');
    r.announce('twin', 0x503);
    await lb.idle();
    assert.equal(device.channel('twin')?.dst, 0x503, 'the name can be announced again');
    assert.equal(device.stats.nsRefused, 0);
    // None of them was opened: destroying a channel without an endpoint is clean, not an exception
    // the receive path catches and logs.
    assert.deepEqual(
      lb.logs.filter((l) => /threw|error/i.test(l)),
      [],
    );
    await lb.close();
  });
});

describe('rpmsg host: the host’s own send and endpoint addresses at their boundaries', () => {
  it('dst 0 and 0xfffffffe are sent; ANY, −1 and 2^32 are EINVAL; an endpoint at address 0 sends', async () => {
    const { lb, device } = await setup();
    const ept0 = device.createEndpoint(undefined, 0);
    assert.equal(ept0.addr, 0);
    const data = new Uint8Array([1, 2, 3]);
    const sent = device.stats.tx;
    assert.equal(ept0.trySendTo(0, data), 0, 'src 0, dst 0');
    assert.equal(ept0.trySendTo(0xffff_fffe, data), 0, 'dst 0xfffffffe');
    assert.equal(device.stats.tx, sent + 2);
    assert.equal(ept0.trySendTo(RPMSG_ADDR_ANY, data), -ERRNO.EINVAL, 'dst ANY');
    assert.equal(ept0.trySendTo(-1, data), -ERRNO.EINVAL, 'dst −1');
    assert.equal(ept0.trySendTo(2 ** 32, data), -ERRNO.EINVAL, 'dst 2^32');
    assert.equal(device.stats.tx, sent + 2, 'nothing refused was sent');
    assert.throws(() => device.createEndpoint(undefined, -1), /EINVAL: endpoint address -1 is not a u32/);
    assert.throws(
      () => device.createEndpoint(undefined, 2 ** 32),
      /EINVAL: endpoint address 4294967296 is not a u32/,
    );
    await lb.close();
  });
});
