// The js-core firmware images that ship with the project, built on demand from the bundled
// programs: each has a trace buffer and an rpmsg vdev (two 256-entry vrings, name service), the
// resource table a Linux host expects of OpenAMP-style firmware.

import { FW_RSC_ADDR_ANY, VIRTIO_ID_RPMSG, VIRTIO_RPMSG_F_NS } from '../../rsc/rsc-constants.ts';
import type { FirmwareStore } from '../../remoteproc/firmware-store.ts';
import { JS_RAM_DA, buildJsFirmware } from './js-firmware.ts';
import { PROGRAM_NAMES } from './programs/index.ts';

const TRACE_DA = JS_RAM_DA + 0x1000;
const TRACE_LEN = 0x1000;

export function bundledJsFirmware(program: string): Uint8Array {
  return buildJsFirmware({
    program,
    resources: [
      { kind: 'trace', da: TRACE_DA, len: TRACE_LEN, name: 'trace0' },
      {
        kind: 'vdev',
        id: VIRTIO_ID_RPMSG,
        dfeatures: 1 << VIRTIO_RPMSG_F_NS,
        vrings: [
          { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256 },
          { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256 },
        ],
      },
    ],
    bssSize: TRACE_DA + TRACE_LEN - JS_RAM_DA,
  });
}

/** Put every bundled js firmware into `store` under its program name ("rpmsg-echo", "sensor", ...). */
export function addBundledJsFirmware(store: FirmwareStore): void {
  for (const name of PROGRAM_NAMES) store.add(name, bundledJsFirmware(name));
}
