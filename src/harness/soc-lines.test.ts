// The line stream: UART chunks cut into lines (CR dropped, an unfinished line kept apart, a line
// without end cut at 4096 characters), channel messages one line per text line, trace lines read
// once each and again from the start after a reboot, the newest lines kept in batches.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualSoc, type SocEvents } from '../soc/virtual-soc.ts';
import { defaultFirmwareStore } from '../soc/default-firmware.ts';
import { hostClock } from './run-clock.ts';
import { SocLines } from './soc-lines.ts';
import { BoardSession } from './board-session.ts';
import '../cpu/core-kinds.ts';

/** The SoC's own emit, for feeding UART text without a core. */
function uart(soc: VirtualSoc, core: string, text: string): void {
  (soc as unknown as { emit(e: 'uart', p: SocEvents['uart']): void }).emit('uart', { core, text });
}

describe('SocLines', () => {
  it('cuts UART chunks into lines per core, without CR, keeping an unfinished line apart', () => {
    const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false });
    const lines = new SocLines(soc, hostClock());
    uart(soc, 'rproc0', 'he');
    uart(soc, 'rproc1', 'other\n');
    uart(soc, 'rproc0', 'llo\r\nwor');
    uart(soc, 'rproc0', 'ld\nprompt> ');
    assert.deepEqual(
      lines.lines.map((l) => `${l.core} ${l.source} ${l.text}`),
      ['rproc1 uart other', 'rproc0 uart hello', 'rproc0 uart world'],
    );
    assert.equal(lines.pendingUart('rproc0'), 'prompt> ');
    assert.deepEqual(
      lines.lines.map((l) => l.seq),
      [1, 2, 3],
    );
    lines.close();
  });

  it('cuts a UART line that never ends at 4096 characters', () => {
    const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false });
    const lines = new SocLines(soc, hostClock());
    uart(soc, 'rproc0', 'x'.repeat(10_000));
    assert.deepEqual(
      lines.lines.map((l) => l.text.length),
      [4096, 4096],
    );
    assert.equal(lines.pendingUart('rproc0').length, 10_000 - 8192);
    lines.close();
  });

  it('makes each text line of a channel message a line', () => {
    const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false });
    const lines = new SocLines(soc, hostClock());
    lines.channelMessage('rproc0', 'rpmsg-echo', new TextEncoder().encode('a\r\nb\n'));
    assert.deepEqual(
      lines.lines.map((l) => `${l.source} ${l.channel ?? ''} ${l.text}`),
      ['channel rpmsg-echo a', 'channel rpmsg-echo b'],
    );
    lines.close();
  });

  it('keeps the newest lines, trimming in batches, and looks back from a cursor', () => {
    const soc = new VirtualSoc({ firmwareStore: defaultFirmwareStore(), autoBoot: false });
    const lines = new SocLines(soc, hostClock(), { keep: 10 });
    for (let i = 1; i <= 2000; i++) lines.channelMessage('rproc0', 'c', new TextEncoder().encode(String(i)));
    assert.ok(lines.lines.length >= 10 && lines.lines.length < 10 + 1024);
    assert.equal(lines.lines.at(-1)?.text, '2000');
    assert.deepEqual(
      lines.since(1998).map((l) => l.text),
      ['1998', '1999', '2000'],
    );
    assert.equal(
      lines.since(1)[0]?.seq,
      lines.lines[0]?.seq,
      'a cursor older than what is kept starts at the oldest',
    );
    lines.close();
  });

  it('reads each trace line once, and the firmware trace again from the start after a reboot', async () => {
    const b = await BoardSession.open({ firmware: { rproc0: 'echo.elf' } });
    try {
      await b.boot('rproc0');
      await b.expect('trace:^echo: host up');
      await b.crash('rproc0');
      await b.expect(['state:^running$', 'trace:^echo: firmware up$', 'trace:^echo: host up']);
      const traces = b.lines.lines.filter((l) => l.source === 'trace').map((l) => l.text);
      assert.equal(traces.filter((t) => t === 'echo: firmware up').length, 2, traces.join(' | '));
    } finally {
      await b.close();
    }
  });
});
