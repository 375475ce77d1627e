// What the board verbs (ls, start, stop, state, trace, channels, send, console) act on: a Linux
// system through its sysfs and /dev (--sysfs ROOT, --dev ROOT; default /sys and /dev, or a recorded
// or fake tree), or the virtual SoC of a board file (--board FILE, or --board default for the
// embedded board) started with the cores its board auto-boots. Both are the same RemoteProcessors.

import '../cpu/core-kinds.ts';
import { LinuxRemoteProcessors } from '../linux/linux-processors.ts';
import type { RemoteProcessors } from '../platform/remote-processors.ts';
import { loadBoard } from '../soc/fdt/load-board.ts';
import { VirtualSocProcessors } from '../soc/soc-processors.ts';
import { VirtualSoc } from '../soc/virtual-soc.ts';
import { UsageError, type OptionSpec, type OptionValues } from './command.ts';

export const TARGET_OPTIONS: OptionSpec = {
  sysfs: { type: 'string' },
  dev: { type: 'string' },
  board: { type: 'string' },
};

export const TARGET_HELP = [
  '  --sysfs ROOT            where sysfs is (default /sys; debugfs is ROOT/kernel/debug)',
  '  --dev ROOT              where the device nodes are (default /dev)',
  '  --board FILE            act on the virtual SoC of this board (.dtb/.dts, or "default") instead of Linux',
];

/** How long a virtual SoC's auto-booted cores get to announce their channels. */
export const ANNOUNCE_GRACE_MS = 300;

export interface Target {
  readonly host: RemoteProcessors;
  /** The virtual SoC needs its cores' announcements to arrive before channels are listed. */
  readonly virtual: boolean;
  close(): Promise<void>;
}

function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} takes a value`);
  return v;
}

export async function openTarget(values: OptionValues): Promise<Target> {
  const sysfs = stringOption(values, 'sysfs');
  const dev = stringOption(values, 'dev');
  const board = stringOption(values, 'board');
  if (board !== undefined) {
    if (sysfs !== undefined || dev !== undefined) {
      throw new UsageError(
        '--board selects the virtual SoC; --sysfs and --dev select Linux: give one or the other',
      );
    }
    // No store given: the SoC resolves firmware names against the shipped images (default-firmware.ts).
    const soc = new VirtualSoc({ board: await loadBoard(board === 'default' ? undefined : board) });
    await soc.start();
    for (const core of soc.cores) await core.rproc.autoBootDone;
    const host = new VirtualSocProcessors(soc);
    return {
      host,
      virtual: true,
      close: async () => {
        await host.close();
        await soc.close();
      },
    };
  }
  const host = new LinuxRemoteProcessors({
    ...(sysfs === undefined ? {} : { sysfs }),
    ...(dev === undefined ? {} : { dev }),
  });
  return { host, virtual: false, close: () => host.close() };
}
