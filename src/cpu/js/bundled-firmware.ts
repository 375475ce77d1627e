// The js-core firmware images that ship with the project, built on demand from the bundled
// programs: each has a trace buffer and an rpmsg vdev (two 256-entry vrings, name service), the
// resource table a Linux host expects of OpenAMP-style firmware; console-echo also declares an
// rproc-serial vdev (id 11, two 16-entry vrings), so its image carries two vdevs of different types.

import {
  FW_RSC_ADDR_ANY,
  VIRTIO_ID_RPMSG,
  VIRTIO_ID_RPROC_SERIAL,
  VIRTIO_RPMSG_F_NS,
  VIRTIO_TRANSPORT_F,
} from '../../rsc/rsc-constants.ts';
import type { RscEntrySpec } from '../../rsc/rsc-types.ts';
import type { FirmwareStore } from '../../remoteproc/firmware-store.ts';
import { JS_RAM_DA, buildJsFirmware } from './js-firmware.ts';
import { PROGRAM_NAMES } from './programs/index.ts';

/**
 * The rpmsg vdev's features: the name service, and event indices (VIRTIO_RING_F_EVENT_IDX), which
 * the js remote implements (RPMSG_REMOTE_SUPPORTED_FEATURES) and Linux's virtio ring negotiates
 * when the device offers them (vring_transport_features in drivers/virtio/virtio_ring.c). With
 * them a host streaming into a sleeping core kicks once per wake-up instead of once per message
 * (virtqueue_kick_prepare's vring_need_event). OpenAMP's firmware offers the name service alone.
 */
const RPMSG_DFEATURES = ((1 << VIRTIO_RPMSG_F_NS) | (1 << VIRTIO_TRANSPORT_F.VIRTIO_RING_F_EVENT_IDX)) >>> 0;

const TRACE_DA = JS_RAM_DA + 0x1000;
const TRACE_LEN = 0x1000;

/** Resources beyond the trace buffer and the rpmsg vdev, per program. */
const EXTRA_RESOURCES: Readonly<Record<string, readonly RscEntrySpec[]>> = {
  'console-echo': [
    {
      kind: 'vdev',
      id: VIRTIO_ID_RPROC_SERIAL,
      vrings: [
        { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 16 },
        { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 16 },
      ],
    },
  ],
};

export function bundledJsFirmware(program: string): Uint8Array {
  return buildJsFirmware({
    program,
    resources: [
      { kind: 'trace', da: TRACE_DA, len: TRACE_LEN, name: 'trace0' },
      {
        kind: 'vdev',
        id: VIRTIO_ID_RPMSG,
        dfeatures: RPMSG_DFEATURES,
        vrings: [
          { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256 },
          { da: FW_RSC_ADDR_ANY, align: 0x1000, num: 256 },
        ],
      },
      ...(EXTRA_RESOURCES[program] ?? []),
    ],
    bssSize: TRACE_DA + TRACE_LEN - JS_RAM_DA,
  });
}

/** Put every bundled js firmware into `store` under its program name ("rpmsg-echo", "sensor", ...). */
export function addBundledJsFirmware(store: FirmwareStore): void {
  for (const name of PROGRAM_NAMES) store.add(name, bundledJsFirmware(name));
}
