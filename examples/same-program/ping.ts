// The program of docs/linux-boards.md's worked example: boot a remote processor with a firmware,
// talk to the channel it announces, notice a crash, shut it down. It uses only the platform
// interface, so it runs unchanged on the virtual SoC (virtual.ts) and on a board (board.ts).

import type { FirmwareSpec, RemoteProcessors } from '../../src/platform/index.ts';

export interface PingOptions {
  readonly processor: string;
  readonly firmware: FirmwareSpec;
  readonly channel: string;
  readonly words?: readonly string[];
}

export async function ping(host: RemoteProcessors, options: PingOptions): Promise<string[]> {
  const p = await host.get(options.processor);
  const onCrash = (e: { readonly processor: string }): void => console.error(`${e.processor} crashed`);
  p.on('crash', onCrash);
  try {
    await p.start({ firmware: options.firmware });
    const channel = await p.waitForChannel(options.channel);
    const ep = await host.open(channel);
    const replies: string[] = [];
    try {
      for (const words of options.words ?? ['hello', 'world']) {
        await ep.send(words);
        replies.push(new TextDecoder().decode(await ep.receive({ timeoutMs: 5000 })));
      }
    } finally {
      await ep.close();
    }
    await p.stop();
    return replies;
  } finally {
    p.off('crash', onCrash);
  }
}
