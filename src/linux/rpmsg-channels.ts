// The rpmsg channels the kernel has, read from /sys/bus/rpmsg/devices (rpmsg_core.c): one entry per
// channel, a link named "<parent>.<name>.<src>.<dst>" (rpmsg_register_device_override, decimal,
// ANY as -1) to the device directory, whose `name`, `src`, `dst` ("0x%x") and `announce` are read,
// with the bound driver from its `driver` link. A channel belongs to the processor whose device
// directory holds it: the virtio device sits under remoteprocN (rproc_rvdev_add_device makes
// rproc->dev its parent); kernels before that put it under the processor's parent device instead.
// The name service and control devices (rpmsg_ns, rpmsg_ctrl) are the kernel's own and not listed.

import { basename, dirname } from 'node:path';
import { channelKind, type ChannelInfo } from '../platform/remote-processors.ts';
import { errnoCode } from './kernel-io.ts';
import { kernelError } from './kernel-errors.ts';
import type { LinuxContext } from './linux-context.ts';
import { attrText, parseAnnounce, parseRpmsgAddr } from './sysfs-values.ts';

/** Bus devices that are infrastructure, not channels (rpmsg_ns.c, rpmsg_ctrl.c). */
const INFRASTRUCTURE: ReadonlySet<string> = new Set(['rpmsg_ns', 'rpmsg_ctrl']);

/** A processor's place in /sys/devices, to tell which channels are its own. */
export interface ProcessorPlace {
  readonly name: string;
  /** realpath of /sys/class/remoteproc/remoteprocN. */
  readonly devPath: string;
  /** The device it was registered under (remoteprocN sits in its "remoteproc" glue directory). */
  readonly parentPath: string;
}

export async function processorPlace(
  ctx: LinuxContext,
  device: string,
  name: string,
): Promise<ProcessorPlace> {
  const devPath = await ctx.io.realpath(ctx.layout.rproc(device));
  const glue = dirname(devPath);
  return { name, devPath, parentPath: basename(glue) === 'remoteproc' ? dirname(glue) : glue };
}

/** The processor a channel's device directory lies under, undefined when none does. */
export function ownerOf(channelPath: string, places: readonly ProcessorPlace[]): string | undefined {
  const under = (dir: string): boolean => channelPath.startsWith(`${dir}/`);
  const direct = places.find((p) => under(p.devPath));
  if (direct !== undefined) return direct.name;
  const byParent = places.filter((p) => under(p.parentPath));
  return byParent.length === 1 ? byParent[0]?.name : undefined;
}

async function readAttr(ctx: LinuxContext, path: string): Promise<string> {
  return attrText(await ctx.io.readFile(path));
}

/** One channel, or undefined when it is infrastructure or went away while being read. */
async function readChannel(
  ctx: LinuxContext,
  id: string,
  places: readonly ProcessorPlace[],
): Promise<ChannelInfo | undefined> {
  const { layout } = ctx;
  try {
    const name = await readAttr(ctx, layout.rpmsgAttr(id, 'name'));
    if (INFRASTRUCTURE.has(name)) return undefined;
    const srcPath = layout.rpmsgAttr(id, 'src');
    const dstPath = layout.rpmsgAttr(id, 'dst');
    const announcePath = layout.rpmsgAttr(id, 'announce');
    const [src, dst, announce, driver, realPath] = await Promise.all([
      readAttr(ctx, srcPath).then((t) => parseRpmsgAddr(t, srcPath)),
      readAttr(ctx, dstPath).then((t) => parseRpmsgAddr(t, dstPath)),
      readAttr(ctx, announcePath).then((t) => parseAnnounce(t, announcePath)),
      boundDriver(ctx, id),
      ctx.io.realpath(layout.rpmsgDevice(id)),
    ]);
    return {
      id,
      name,
      processor: ownerOf(realPath, places),
      src,
      dst,
      announce,
      kind: channelKind(name),
      driver,
    };
  } catch (e) {
    // The remote destroyed the channel (or stopped) while we looked: it is simply not there.
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw kernelError(e, {
      op: 'linux-channels',
      doing: `reading channel ${id}`,
      path: layout.rpmsgDevice(id),
    });
  }
}

/** The driver bound to channel `id`, from its `driver` link; undefined while none is. */
export async function boundDriver(ctx: LinuxContext, id: string): Promise<string | undefined> {
  try {
    return basename(await ctx.io.readlink(ctx.layout.rpmsgDriverLink(id)));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** Every channel now on the bus; none when the rpmsg bus does not exist (no CONFIG_RPMSG). */
export async function listChannels(
  ctx: LinuxContext,
  places: readonly ProcessorPlace[],
): Promise<ChannelInfo[]> {
  let ids: string[];
  try {
    ids = await ctx.io.readdir(ctx.layout.rpmsgDevices);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw kernelError(e, {
      op: 'linux-channels',
      doing: `listing ${ctx.layout.rpmsgDevices}`,
      path: ctx.layout.rpmsgDevices,
    });
  }
  const channels = await Promise.all(ids.sort().map((id) => readChannel(ctx, id, places)));
  return channels.filter((c): c is ChannelInfo => c !== undefined);
}
