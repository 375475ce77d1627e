// The rpmsg control device (/dev/rpmsg_ctrlN) of one rpmsg (virtio) device as an object: its
// ioctl creates endpoint devices (/dev/rpmsgN, rpmsg-char.ts) from a struct rpmsg_endpoint_info,
// given as the 40 bytes user space passes or as an object. Mirrors drivers/rpmsg/rpmsg_ctrl.c
// (and the uapi of include/uapi/linux/rpmsg.h for the command numbers and the struct layout).

import { ByteView } from '../../util/bytes.ts';
import { RprocError } from '../../util/errors.ts';
import { RPMSG_ADDR_ANY, RPMSG_NAME_SIZE } from '../rpmsg-wire.ts';
import { RpmsgEptDev, type RpmsgEndpointInfo } from './rpmsg-char.ts';
import type { VirtioRpmsgBus } from './virtio-rpmsg-bus.ts';

/** _IOW(0xb5, 0x1, struct rpmsg_endpoint_info): create an endpoint device. */
export const RPMSG_CREATE_EPT_IOCTL = 0x4028b501;
/** _IOW(0xb5, 0x3, ...): create a channel (an rpmsg device) — not offered here, see ioctl(). */
export const RPMSG_CREATE_DEV_IOCTL = 0x4028b503;
/** _IOW(0xb5, 0x4, ...): release a channel made with RPMSG_CREATE_DEV_IOCTL. */
const RPMSG_RELEASE_DEV_IOCTL = 0x4028b504;

/** sizeof(struct rpmsg_endpoint_info): char name[32]; __u32 src; __u32 dst. */
export const RPMSG_ENDPOINT_INFO_SIZE = 40;

const OP = 'rpmsg-ctrl';

/** struct rpmsg_endpoint_info in host byte order (little-endian here), name NUL-padded. */
export function encodeEndpointInfo(info: RpmsgEndpointInfo): Uint8Array {
  const out = new Uint8Array(RPMSG_ENDPOINT_INFO_SIZE);
  const name = new TextEncoder().encode(info.name);
  if (name.length > RPMSG_NAME_SIZE) {
    throw new RprocError(
      'EINVAL',
      OP,
      `endpoint name "${info.name}" is longer than ${RPMSG_NAME_SIZE} bytes`,
    );
  }
  out.set(name);
  const v = new ByteView(out, 'le', { what: 'struct rpmsg_endpoint_info', op: OP });
  v.setU32(32, info.src >>> 0, 'src');
  v.setU32(36, info.dst >>> 0, 'dst');
  return out;
}

/**
 * The struct as rpmsg_ctrl reads it: the name is cut at its first NUL and in any case to 31
 * characters (Linux copies 32 bytes and writes a NUL into the last), src and dst are u32s.
 */
export function decodeEndpointInfo(bytes: Uint8Array): RpmsgEndpointInfo {
  if (bytes.length < RPMSG_ENDPOINT_INFO_SIZE) {
    throw new RprocError(
      'EFAULT',
      OP,
      `struct rpmsg_endpoint_info needs ${RPMSG_ENDPOINT_INFO_SIZE} bytes, got ${bytes.length}`,
    );
  }
  const raw = bytes.subarray(0, RPMSG_NAME_SIZE - 1);
  const nul = raw.indexOf(0);
  const name = new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
  const v = new ByteView(bytes, 'le', { what: 'struct rpmsg_endpoint_info', op: OP });
  return { name, src: v.u32(32, 'src'), dst: v.u32(36, 'dst') };
}

export class RpmsgCtrlDev {
  readonly device: VirtioRpmsgBus;
  private readonly devs = new Set<RpmsgEptDev>();
  private nextMinor = 0;

  constructor(device: VirtioRpmsgBus) {
    this.device = device;
  }

  /** The endpoint devices made here and not destroyed yet. */
  get eptdevs(): readonly RpmsgEptDev[] {
    return [...this.devs];
  }

  /**
   * rpmsg_ctrldev_ioctl. RPMSG_CREATE_EPT_IOCTL returns the new endpoint device (its endpoint is
   * created when it is opened). RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL ask the bus for
   * a local channel that name-service announces itself; this host makes channels only from the
   * remote's announcements, so they fail with EOPNOTSUPP. Any other command: EINVAL.
   */
  ioctl(cmd: number, arg: Uint8Array | RpmsgEndpointInfo): RpmsgEptDev {
    if (cmd === RPMSG_CREATE_DEV_IOCTL || cmd === RPMSG_RELEASE_DEV_IOCTL) {
      throw new RprocError('EOPNOTSUPP', OP, 'local channels (RPMSG_CREATE_DEV_IOCTL) are not supported');
    }
    if (cmd !== RPMSG_CREATE_EPT_IOCTL) {
      throw new RprocError('EINVAL', OP, `unknown ioctl 0x${(cmd >>> 0).toString(16)}`);
    }
    if (this.device.removed) throw new RprocError('ENODEV', OP, `${this.device.deviceName} is gone`);
    const info =
      arg instanceof Uint8Array ? decodeEndpointInfo(arg) : decodeEndpointInfo(encodeEndpointInfo(arg));
    if (info.dst === RPMSG_ADDR_ANY) {
      // rpmsg_char would create it and fail every write with EINVAL; say so where it is made.
      throw new RprocError(
        'EINVAL',
        OP,
        `endpoint "${info.name}": dst 0xffffffff (ANY) cannot be written to`,
      );
    }
    const dev = new RpmsgEptDev(this.device, info, this.nextMinor++, (d) => this.devs.delete(d));
    this.devs.add(dev);
    return dev;
  }

  /** The rpmsg device went away: every endpoint device goes with it (their readers get EPIPE). */
  removeAll(): void {
    for (const d of [...this.devs]) d.destroy();
  }
}
