// One user-level test suite — boot, echo, crash notification, shutdown — written only against the
// platform interface (src/platform/remote-processors.ts) and run unchanged against the virtual SoC,
// the simulated kernel in memory and the simulated kernel laid out on disk: what passes on one
// passes on the others, which is the point of the interface.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../../src/util/errors.ts';
import type {
  ChannelEndpoint,
  FirmwareSpec,
  ProcessorState,
  RemoteProcessor,
  RemoteProcessors,
} from '../../src/platform/remote-processors.ts';

export interface UserSystem {
  readonly host: RemoteProcessors;
  /** The processor the program drives. */
  readonly processor: string;
  /** Firmware that announces `channel`, echoes what it gets and faults on "mmu". */
  readonly firmware: FirmwareSpec;
  readonly channel: string;
  close(): Promise<void>;
}

export interface UserTarget {
  readonly label: string;
  make(): Promise<UserSystem>;
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** An event the program waits for must come: after `ms` the test fails saying which. */
function within<T>(what: string, promise: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The user program: open the processor's channel, say something, expect it back. */
async function echo(sys: UserSystem, words: string): Promise<string> {
  const ch = await sys.host.waitForChannel(sys.channel, { processor: sys.processor }, { timeoutMs: 10_000 });
  const ep = await sys.host.open(ch);
  try {
    await ep.send(words);
    return text(await ep.receive({ timeoutMs: 5000 }));
  } finally {
    await ep.close();
  }
}

async function booted(sys: UserSystem): Promise<RemoteProcessor> {
  const p = await sys.host.get(sys.processor);
  await p.start({ firmware: sys.firmware });
  return p;
}

export function userSuite(target: UserTarget): void {
  describe(`one user program on ${target.label}`, () => {
    it('boots a processor with a firmware and sees the state change', async () => {
      const sys = await target.make();
      try {
        const listed = (await sys.host.list()).find((p) => p.name === sys.processor);
        assert.equal(listed?.state, 'offline');
        const p = await sys.host.get(sys.processor);
        const running = p.next('state', (e) => e.to === 'running');
        await p.start({ firmware: sys.firmware });
        assert.deepEqual(await within('the state change to running after start()', running), {
          processor: sys.processor,
          from: 'offline',
          to: 'running',
        });
        assert.equal(await p.state(), 'running');
        await assert.rejects(p.start(), (e: unknown) => isRprocError(e, 'EBUSY'));
      } finally {
        await sys.close();
      }
    });

    it('echoes over the channel the firmware announces, scoped to its processor', async () => {
      const sys = await target.make();
      try {
        const p = await booted(sys);
        const ch = await p.waitForChannel(sys.channel, { timeoutMs: 10_000 });
        assert.equal(ch.processor, sys.processor);
        const channels = await sys.host.channels({ processor: sys.processor });
        assert.ok(channels.some((c) => c.id === ch.id && c.name === sys.channel));
        assert.equal(await echo(sys, 'hello'), 'hello');
        assert.equal(await echo(sys, 'again'), 'again');
      } finally {
        await sys.close();
      }
    });

    it('notices a crash, recovers on request and echoes again', async () => {
      const sys = await target.make();
      let ep: ChannelEndpoint | undefined;
      try {
        const p = await sys.host.get(sys.processor);
        await p.setRecovery('disabled');
        await p.start({ firmware: sys.firmware });
        const ch = await p.waitForChannel(sys.channel, { timeoutMs: 10_000 });
        ep = await sys.host.open(ch);
        const crashed = p.next('crash');
        await ep.send('mmu');
        assert.equal((await within('the crash event after "mmu"', crashed)).processor, sys.processor);
        assert.equal(await p.state(), 'crashed');
        await ep.close();
        const back = p.next('state', (e) => e.to === 'running');
        await p.recover();
        await within('the state change to running after recover()', back);
        assert.equal(await echo(sys, 'after the crash'), 'after the crash');
      } finally {
        await ep?.close();
        await sys.close();
      }
    });

    it('shuts down, ending the channel, and refuses a second stop with EINVAL', async () => {
      const sys = await target.make();
      try {
        const p = await booted(sys);
        const ep = await sys.host.open(await p.waitForChannel(sys.channel, { timeoutMs: 10_000 }));
        const states: ProcessorState[] = [];
        p.on('state', (e) => states.push(e.to));
        const offline = p.next('state', (e) => e.to === 'offline');
        await p.stop();
        await within('the state change to offline after stop()', offline);
        assert.equal(await p.state(), 'offline');
        await assert.rejects(ep.receive({ timeoutMs: 5000 }), (e: unknown) => isRprocError(e, 'EPIPE'));
        await ep.close();
        await assert.rejects(p.stop(), (e: unknown) => isRprocError(e, 'EINVAL'));
        assert.deepEqual(states, ['offline']);
      } finally {
        await sys.close();
      }
    });
  });
}
