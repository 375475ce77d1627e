// What the simulated remote processors run: a firmware "image" is a small text file naming a
// program, and the program says which channels it announces through the name service, what its
// trace buffer holds, and what it does with a message — echo it, or die the way firmware dies.
// The "crasher" program answers like the virtual SoC's js program of that name (cpu/js/programs/
// crasher.ts): echo, and "mmu" makes an MMU fault, so the same user-level test runs on both.

import { RPROC_FATAL_ERROR, RPROC_MMUFAULT } from '../../src/remoteproc/rproc-state.ts';

export interface ProgramContext {
  /** The channel's name (several channels may run one program). */
  readonly channel: string;
  readonly data: Uint8Array;
  reply(data: Uint8Array): void;
  crash(type: number): void;
  trace(line: string): void;
}

export interface FakeProgram {
  readonly channels: readonly string[];
  readonly trace: string;
  onMessage(ctx: ProgramContext): void;
}

const echo = (ctx: ProgramContext): void => ctx.reply(ctx.data);

const FAKE_PROGRAMS: Readonly<Record<string, FakeProgram>> = {
  crasher: {
    channels: ['crasher'],
    trace: 'crasher: ready\n',
    onMessage: (ctx) => {
      const cmd = new TextDecoder().decode(ctx.data).trim();
      if (cmd === 'mmu') return ctx.crash(RPROC_MMUFAULT);
      if (cmd === 'panic') return ctx.crash(RPROC_FATAL_ERROR);
      echo(ctx);
    },
  },
  'raw-echo': { channels: ['rpmsg-raw'], trace: 'raw-echo: ready\n', onMessage: echo },
  'tty-echo': { channels: ['rpmsg-tty'], trace: 'tty-echo: ready\n', onMessage: echo },
  'all-echo': {
    channels: ['rpmsg-raw', 'rpmsg-tty', 'sensor'],
    trace: 'all-echo: ready\n',
    onMessage: echo,
  },
  silent: { channels: [], trace: '', onMessage: () => undefined },
};

const MAGIC = 'FAKE-FIRMWARE:';

/** The bytes of a firmware file that runs `program` on the simulated kernel. */
export function fakeFirmwareImage(program: string): Uint8Array {
  return new TextEncoder().encode(`${MAGIC}${program}\n`);
}

/** The program an image runs, or undefined for an image the simulated loader rejects. */
export function programOf(image: Uint8Array): FakeProgram | undefined {
  const text = new TextDecoder().decode(image).trim();
  if (!text.startsWith(MAGIC)) return undefined;
  return FAKE_PROGRAMS[text.slice(MAGIC.length)];
}
