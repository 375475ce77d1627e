// The worked example on a Linux board: the same ping() through /sys/class/remoteproc and
// /dev/rpmsgN. Run on the board (as root, or with the udev rules of docs/linux-boards.md):
//   node --import tsx examples/same-program/board.ts m4 build/echo.elf rpmsg-raw
// RPROC_SYSFS and RPROC_DEV point it at another tree (a recorded one, or a test's simulated kernel).

import { LinuxRemoteProcessors } from '../../src/linux/index.ts';
import { ping } from './ping.ts';

const [processor = 'm4', file = 'echo.elf', channel = 'rpmsg-raw'] = process.argv.slice(2);
const host = new LinuxRemoteProcessors({
  sysfs: process.env['RPROC_SYSFS'] ?? '/sys',
  dev: process.env['RPROC_DEV'] ?? '/dev',
});
try {
  console.log(await ping(host, { processor, firmware: { file }, channel }));
} finally {
  await host.close();
}
