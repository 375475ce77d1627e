// The worked example on the virtual SoC: the js core rproc1 runs the bundled "crasher" program,
// which echoes on its "crasher" channel. Run: node --import tsx examples/same-program/virtual.ts

import { VirtualSoc } from '../../src/soc/virtual-soc.ts';
import { VirtualSocProcessors } from '../../src/soc/soc-processors.ts';
import { FirmwareStore } from '../../src/remoteproc/firmware-store.ts';
import { addBundledJsFirmware } from '../../src/cpu/js/bundled-firmware.ts';
import '../../src/cpu/core-kinds.ts';
import { ping } from './ping.ts';

const firmwareStore = new FirmwareStore();
addBundledJsFirmware(firmwareStore);
const soc = new VirtualSoc({ firmwareStore, autoBoot: false });
await soc.start();
const host = new VirtualSocProcessors(soc);
try {
  console.log(await ping(host, { processor: 'rproc1', firmware: 'crasher', channel: 'crasher' }));
} finally {
  await host.close();
  await soc.close();
}
