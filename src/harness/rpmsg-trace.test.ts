// The rpmsg trace of a real run (C echo firmware on the rv32 core, deterministic mode): a
// well-formed trace-event file with the name-service announcement, the host endpoint, each message
// both ways with its addresses, size and flow arrow, kicks both ways, vring counters and the core's
// states through a crash and recovery; bounded by its capacity; taps off again once closed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { RPROC_FATAL_ERROR } from '../remoteproc/rproc-state.ts';
import type { TimedTraceEvent, TraceFile } from '../util/trace-event.ts';
import { checkTraceFile } from '../util/trace-event-check.ts';
import { RpmsgTraceRecorder } from './rpmsg-trace.ts';
import { SocTaps } from './soc-taps.ts';
import { socClock } from './run-clock.ts';
import '../cpu/core-kinds.ts';

async function tracedEcho(
  capacity?: number,
): Promise<{ file: TraceFile; dropped: number; tapsAfter: boolean }> {
  const soc = new VirtualSoc({
    firmwareStore: defaultFirmwareStore(),
    autoBoot: false,
    firmware: { rproc0: 'echo.elf' },
    scheduler: true,
  });
  const clock = socClock(soc);
  const taps = new SocTaps(soc, clock);
  const recorder = new RpmsgTraceRecorder(soc, clock, capacity === undefined ? {} : { capacity });
  taps.recorder = recorder;
  try {
    await soc.start();
    const rproc = soc.rproc('rproc0');
    await rproc.boot();
    const ch = await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 10_000 });
    let replies = 0;
    let got: () => void = () => undefined;
    const ept = ch.open(() => {
      replies++;
      got();
    });
    for (const text of ['one', 'two!', 'three']) {
      const reply = new Promise<void>((resolve) => (got = resolve));
      await ept.send(new TextEncoder().encode(text));
      await reply;
    }
    assert.equal(replies, 3);
    const recovered = rproc.next('recovery', (e) => e.phase === 'done');
    rproc.reportCrash(RPROC_FATAL_ERROR, { message: 'test crash' });
    await recovered;
    await soc.rpmsg.waitForChannel('rpmsg-echo', { rproc: 'rproc0', timeoutMs: 10_000 });
    const file = recorder.file();
    taps.close();
    recorder.detach();
    return {
      file,
      dropped: recorder.dropped,
      tapsAfter: soc.rpmsg.tap !== undefined || soc.cores.some((c) => c.doorbellTap !== undefined),
    };
  } finally {
    await soc.close();
  }
}

function timed(file: TraceFile): TimedTraceEvent[] {
  return file.traceEvents.filter((e): e is TimedTraceEvent => e.ph !== 'M');
}

describe('rpmsg trace recorder', () => {
  it('records an echo run as a well-formed trace with every kind of event', async () => {
    const { file, tapsAfter } = await tracedEcho();
    assert.deepEqual(checkTraceFile(JSON.parse(JSON.stringify(file))), []);
    const events = timed(file);
    const names = events.map((e) => e.name);
    assert.ok(
      names.some((n) => /^ns announce "rpmsg-echo" at 0x/.test(n)),
      'name-service announcement',
    );
    assert.ok(
      names.some((n) => /^create endpoint 0x400$/.test(n)),
      'host endpoint creation',
    );
    assert.ok(
      names.includes('send 3 B → 0x400') || names.some((n) => /^send 3 B → /.test(n)),
      'host message',
    );
    const sends = events.filter((e) => e.ph === 'X' && e.name.startsWith('send '));
    const recvs = events.filter((e) => e.ph === 'X' && e.name.startsWith('recv '));
    // Three requests and three echoes, plus the name-service announcements (2 boots).
    assert.ok(
      sends.length >= 8 && recvs.length === sends.length,
      `${sends.length} sends, ${recvs.length} receives`,
    );
    const echo = sends.find((e) => e.name === 'send 5 B → 0x400');
    assert.ok(echo !== undefined, 'the echo of "three" from the remote');
    assert.deepEqual({ len: echo.args?.['len'], dst: echo.args?.['dst'] }, { len: 5, dst: '0x400' });
    const starts = events.filter((e) => e.ph === 's').length;
    assert.equal(starts, sends.length, 'one flow per message');
    assert.ok(
      names.some((n) => /^kick vq\d+ → rproc0$/.test(n)),
      'host → core kick',
    );
    assert.ok(
      names.some((n) => /^notify vq\d+ ← rproc0$/.test(n)),
      'core → host notification',
    );
    assert.ok(
      events.some((e) => e.ph === 'C' && e.name === 'virtio0 vring0 rx buffers at remote'),
      'vring0 counter',
    );
    assert.ok(
      events.some((e) => e.ph === 'C' && e.name === 'virtio0 vring1 tx messages in flight'),
      'vring1 counter',
    );
    const states = events.filter((e) => e.ph === 'X' && e.cat === 'state').map((e) => e.name);
    assert.ok(
      states.includes('crashed') && states.filter((s) => s === 'running').length === 2,
      states.join(','),
    );
    assert.ok(names.some((n) => /^crash #1: fatal error/.test(n)));
    assert.ok(names.includes('recovery done'));
    const threads = file.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => (e.ph === 'M' ? e.args.name : ''));
    assert.ok(threads.includes('host ept 0x400 rpmsg-echo (virtio0)'), threads.join(' | '));
    assert.ok(
      threads.some((t) => /^remote ept 0x[0-9a-f]+ rpmsg-echo \(virtio0\)$/.test(t ?? '')),
      threads.join(' | '),
    );
    assert.equal(tapsAfter, false, 'closing the hub takes the taps off');
  });

  it('keeps only the newest events when the capacity is small, still well formed', async () => {
    const { file, dropped } = await tracedEcho(20);
    assert.ok(dropped > 0);
    assert.ok(timed(file).length <= 20 + 2, 'capacity plus the open state slice of each of the 2 cores');
    assert.deepEqual(checkTraceFile(file), []);
  });
});
