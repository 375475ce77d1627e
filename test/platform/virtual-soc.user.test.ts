// The user-level suite on the virtual SoC: the js core rproc1 runs the bundled "crasher" program
// (echo, MMU fault on "mmu"), reached through VirtualSocProcessors.

import { userSuite } from './user-suite.ts';
import { VirtualSoc } from '../../src/soc/virtual-soc.ts';
import { VirtualSocProcessors } from '../../src/soc/soc-processors.ts';
import { FirmwareStore } from '../../src/remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../../src/cpu/js/bundled-firmware.ts';
import '../../src/cpu/core-kinds.ts';

userSuite({
  label: 'the virtual SoC',
  make: async () => {
    const store = new FirmwareStore();
    addBundledJsFirmware(store);
    const soc = new VirtualSoc({ firmwareStore: store, autoBoot: false });
    await soc.start();
    const host = new VirtualSocProcessors(soc);
    return {
      host,
      processor: 'rproc1',
      firmware: 'crasher',
      channel: 'crasher',
      close: async () => {
        await host.close();
        await soc.close();
      },
    };
  },
});
