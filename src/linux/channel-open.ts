// Reaching a channel from user space without a native addon: an "rpmsg-tty" channel through the
// /dev/ttyRPMSGn rpmsg_tty made for it; any other through rpmsg_char's /dev/rpmsgN — already there
// for "rpmsg-raw" channels (rpmsg_char binds those itself since v5.18), and for the rest made by
// binding rpmsg_chrdev to the channel: driver_override, then the driver's `bind` (rpmsg_core.c
// rpmsg_dev_match honours the override; drivers/base/bus.c bind_store). What the backend binds it
// unbinds on close, putting back the driver the user let it take the channel from. The ctrl
// device's RPMSG_CREATE_EPT_IOCTL (extra endpoints on /dev/rpmsg_ctrlN) is an ioctl and is left out.

import { RprocError } from '../util/errors.ts';
import type { ChannelInfo, OpenOptions } from '../platform/remote-processors.ts';
import { sleep, Backoff } from './backoff.ts';
import { errnoCode } from './kernel-io.ts';
import { kernelError } from './kernel-errors.ts';
import type { LinuxContext } from './linux-context.ts';
import { LinuxChannelEndpoint } from './linux-endpoint.ts';
import { boundDriver } from './rpmsg-channels.ts';
import { RPMSG_CHRDEV_DRIVER, RPMSG_TTY_DRIVER } from './sysfs-layout.ts';
import { classDeviceIndex } from './sysfs-values.ts';

/** A binding the backend made, undone on close. */
interface Binding {
  undo(): Promise<void>;
}

/** Bind rpmsg_chrdev to channel `id`, first unbinding `previous` (the user allowed the take-over). */
async function bindChrdev(ctx: LinuxContext, id: string, previous: string | undefined): Promise<Binding> {
  const { layout } = ctx;
  if (!(await ctx.io.exists(layout.rpmsgDriver(RPMSG_CHRDEV_DRIVER)))) {
    throw new RprocError(
      'ENODEV',
      'linux-open',
      `channel ${id} has no /dev/rpmsgN and rpmsg_char is not loaded to make one ` +
        '(CONFIG_RPMSG_CHAR; modprobe rpmsg_char)',
    );
  }
  const override = layout.rpmsgAttr(id, 'driver_override');
  // The override to put back: driver_override_show prints "(null)" when none is set.
  const saved = await ctx.read(override, 'linux-open');
  const previousOverride = saved === '(null)' ? undefined : saved;
  // driver_set_override: "\n" clears the override (an empty write never reaches store()).
  const restoreOverride = (): Promise<void> => ctx.write(override, previousOverride ?? '\n', 'linux-open');
  const rebind = async (): Promise<void> => {
    if (previous !== undefined) await ctx.write(layout.rpmsgBind(previous), id, 'linux-open');
  };
  /** Undo steps fail quietly only when the channel itself has gone (the remote stopped). */
  const unlessGone = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (e) {
      if (await ctx.io.exists(layout.rpmsgDevice(id)).catch(() => true)) throw e;
    }
  };
  if (previous !== undefined) {
    await ctx.write(layout.rpmsgUnbind(previous), id, 'linux-open', {
      ENODEV: `channel ${id} was no longer bound to ${previous}`,
    });
  }
  try {
    await ctx.write(override, RPMSG_CHRDEV_DRIVER, 'linux-open');
    await ctx.write(layout.rpmsgBind(RPMSG_CHRDEV_DRIVER), id, 'linux-open', {
      ENODEV: `the kernel would not match rpmsg_chrdev to ${id} (driver_override not honoured?)`,
      EBUSY: `channel ${id} was bound to another driver meanwhile`,
    });
  } catch (e) {
    await restoreOverride().catch(() => undefined);
    await rebind().catch(() => undefined);
    throw e;
  }
  return {
    undo: async () => {
      await unlessGone(() => ctx.write(layout.rpmsgUnbind(RPMSG_CHRDEV_DRIVER), id, 'linux-close'));
      await unlessGone(restoreOverride);
      await unlessGone(rebind);
    },
  };
}

/** The /dev node of the class device a driver made under channel `id`, waiting for it to appear. */
async function classNode(
  ctx: LinuxContext,
  id: string,
  cls: 'rpmsg' | 'tty',
  prefix: string,
): Promise<string> {
  const dir = ctx.layout.rpmsgClassDir(id, cls);
  const deadline = Date.now() + ctx.devNodeTimeoutMs;
  const backoff = new Backoff(ctx.channelPoll);
  for (;;) {
    const entries = await ctx.io.readdir(dir).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return [];
      throw kernelError(e, { op: 'linux-open', doing: `listing ${dir}`, path: dir });
    });
    const indices = entries
      .map((entry) => classDeviceIndex(entry, prefix))
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    const first = indices[0];
    if (first !== undefined) {
      // devtmpfs names the node after the device (rpmsg%d, ttyRPMSG%d); udev may still be on it.
      const node = ctx.layout.devNode(`${prefix}${first}`);
      if (await ctx.io.exists(node)) return node;
    }
    if (Date.now() >= deadline) {
      throw new RprocError(
        'ENODEV',
        'linux-open',
        first === undefined
          ? `channel ${id} has no ${prefix}N device under ${dir} after ${ctx.devNodeTimeoutMs} ms`
          : `${ctx.layout.devNode(`${prefix}${first}`)} did not appear within ${ctx.devNodeTimeoutMs} ms ` +
              '(is devtmpfs mounted on the /dev root, or udev running?)',
      );
    }
    await sleep(backoff.next());
  }
}

export async function openChannel(
  ctx: LinuxContext,
  channel: ChannelInfo,
  options: OpenOptions,
  onClosed: () => void = () => undefined,
): Promise<LinuxChannelEndpoint> {
  const id = channel.id;
  if (!(await ctx.io.exists(ctx.layout.rpmsgDevice(id)))) {
    throw new RprocError('EPIPE', 'linux-open', `channel ${id} is gone (the remote stopped or destroyed it)`);
  }
  const driver = await boundDriver(ctx, id).catch((e: unknown) => {
    throw kernelError(e, {
      op: 'linux-open',
      doing: `reading the driver of ${id}`,
      path: ctx.layout.rpmsgDriverLink(id),
    });
  });
  let binding: Binding | undefined;
  let path: string;
  const tty = channel.kind === 'tty' && (driver === RPMSG_TTY_DRIVER || driver === undefined);
  if (tty) {
    if (driver === undefined) {
      throw new RprocError(
        'ENODEV',
        'linux-open',
        `channel ${id} has no tty: rpmsg_tty is not loaded (CONFIG_RPMSG_TTY, Linux ≥ 5.16; modprobe rpmsg_tty)`,
      );
    }
    path = await classNode(ctx, id, 'tty', 'ttyRPMSG');
  } else {
    if (driver !== undefined && driver !== RPMSG_CHRDEV_DRIVER && options.takeOver !== true) {
      throw new RprocError(
        'EBUSY',
        'linux-open',
        `channel ${id} is bound to ${driver}: open it with takeOver to unbind ${driver} and bind ` +
          `${RPMSG_CHRDEV_DRIVER} instead (${driver} is bound back on close)`,
      );
    }
    if (driver !== RPMSG_CHRDEV_DRIVER) binding = await bindChrdev(ctx, id, driver);
    try {
      path = await classNode(ctx, id, 'rpmsg', 'rpmsg');
    } catch (e) {
      await binding?.undo().catch(() => undefined);
      throw e;
    }
  }
  try {
    const file = await ctx.io.openDevice(path);
    return new LinuxChannelEndpoint(ctx, channel, path, file, {
      stream: tty,
      ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
      onClose: async () => {
        try {
          await binding?.undo();
        } finally {
          onClosed();
        }
      },
    });
  } catch (e) {
    await binding?.undo().catch(() => undefined);
    throw kernelError(e, {
      op: 'linux-open',
      doing: `opening ${path} for channel ${id}`,
      path,
      reasons: {
        EBUSY: `${path} is open in another program (rpmsg_char allows one opener at a time)`,
        ENETRESET: `channel ${id} went away`,
        EINVAL: `rpmsg_char could not create the endpoint for ${id}`,
      },
    });
  }
}
