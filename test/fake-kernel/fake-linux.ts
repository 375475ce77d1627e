// A Linux backend wired to a simulated kernel in memory: the kernel, the KernelIo serving it and the
// backend over that, with short polling intervals so tests run in milliseconds.

import { LinuxRemoteProcessors } from '../../src/linux/linux-processors.ts';
import type { LinuxOptions } from '../../src/linux/linux-context.ts';
import { FakeKernel, type FakeKernelOptions } from './fake-kernel.ts';
import { FakeKernelIo, type FakeKernelIoOptions } from './fake-kernel-io.ts';

export interface FakeLinux {
  readonly kernel: FakeKernel;
  readonly io: FakeKernelIo;
  readonly host: LinuxRemoteProcessors;
  close(): Promise<void>;
}

export const FAST_POLL = {
  statePoll: { minMs: 2, maxMs: 20 },
  channelPoll: { minMs: 2, maxMs: 20 },
  readPoll: { minMs: 1, maxMs: 10 },
} as const;

export function fakeLinux(
  kernelOptions: FakeKernelOptions,
  ioOptions: FakeKernelIoOptions = {},
  hostOptions: Omit<LinuxOptions, 'io'> = {},
): FakeLinux {
  const kernel = new FakeKernel(kernelOptions);
  const io = new FakeKernelIo(kernel, ioOptions);
  const host = new LinuxRemoteProcessors({
    ...FAST_POLL,
    kernelRelease: kernel.flavour.release,
    ...hostOptions,
    io,
  });
  return {
    kernel,
    io,
    host,
    close: async () => {
      await host.close();
      kernel.dispose();
    },
  };
}
