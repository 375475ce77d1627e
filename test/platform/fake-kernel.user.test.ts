// The user-level suite on Linux, with the simulated kernel in memory behind the backend's KernelIo:
// the firmware is installed into the search path and booted by writing sysfs, the channel is
// reached by binding rpmsg_chrdev to it, the crash is seen by re-reading `state`.

import { userSuite } from './user-suite.ts';
import { fakeLinux } from '../fake-kernel/fake-linux.ts';
import { fakeFirmwareImage } from '../fake-kernel/fake-programs.ts';

userSuite({
  label: 'Linux (simulated kernel in memory)',
  make: () => {
    const f = fakeLinux({ processors: [{ name: 'rproc0' }, { name: 'rproc1' }] });
    return Promise.resolve({
      host: f.host,
      processor: 'rproc1',
      firmware: { name: 'crasher.elf', bytes: fakeFirmwareImage('crasher') },
      channel: 'crasher',
      close: () => f.close(),
    });
  },
});
