// The user-level suite on Linux through the real file I/O path: the backend's node:fs KernelIo over
// the simulated kernel laid out on disk (sysfs with its links, ptys for the /dev nodes), the kernel
// answering each write a moment after it lands.

import { userSuite } from './user-suite.ts';
import { FakeTree } from '../fake-kernel/fake-tree.ts';
import { fakeFirmwareImage } from '../fake-kernel/fake-programs.ts';
import { FAST_POLL } from '../fake-kernel/fake-linux.ts';
import { LinuxRemoteProcessors } from '../../src/linux/linux-processors.ts';

userSuite({
  label: 'Linux (simulated kernel on disk, real file I/O)',
  make: () => {
    const tree = new FakeTree({ processors: [{ name: 'rproc0' }, { name: 'rproc1' }] });
    const host = new LinuxRemoteProcessors({
      sysfs: tree.sysfs,
      dev: tree.dev,
      kernelRelease: tree.kernel.flavour.release,
      ...FAST_POLL,
    });
    return Promise.resolve({
      host,
      processor: 'rproc1',
      firmware: { name: 'crasher.elf', bytes: fakeFirmwareImage('crasher') },
      channel: 'crasher',
      close: async () => {
        await host.close();
        await tree.settled();
        tree.close();
      },
    });
  },
});
