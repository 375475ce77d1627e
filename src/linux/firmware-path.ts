// Firmware files for request_firmware(): where the kernel looks (firmware_class.path first, then
// /lib/firmware/updates/<release>, /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware —
// fw_path[] in drivers/base/firmware_loader/main.c) and installing a file there under the name the
// processor's `firmware` attribute will be given. Names are checked first: firmware_store() keeps
// only what comes before the first "\n", so a name with one would silently load another file.

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RprocError } from '../util/errors.ts';
import type { FirmwareSpec } from '../platform/remote-processors.ts';
import { kernelError } from './kernel-errors.ts';
import { errnoCode } from './kernel-io.ts';
import type { LinuxContext } from './linux-context.ts';
import { attrText } from './sysfs-values.ts';
import { defaultFirmwareDirs } from './sysfs-layout.ts';

export interface FirmwareSearchPath {
  /** firmware_class.path when set. */
  readonly custom: string | undefined;
  /** Every directory request_firmware() tries, in order. */
  readonly dirs: readonly string[];
}

/** A firmware name the kernel will look up as given, or EINVAL naming what is wrong with it. */
export function checkFirmwareName(name: string): string {
  const bad =
    name === ''
      ? 'is empty'
      : name.includes('\n')
        ? 'contains a newline (the kernel keeps only what comes before it)'
        : name.includes('\0')
          ? 'contains a NUL byte'
          : name.startsWith('/')
            ? 'is absolute (request_firmware looks names up inside its search path)'
            : name.split('/').includes('..')
              ? 'climbs out of the firmware directory with ".."'
              : undefined;
  if (bad !== undefined) {
    throw new RprocError('EINVAL', 'linux-firmware', `firmware name ${JSON.stringify(name)} ${bad}`);
  }
  return name;
}

export async function firmwareSearchPath(ctx: LinuxContext): Promise<FirmwareSearchPath> {
  const param = ctx.layout.firmwarePathParam;
  let custom: string | undefined;
  try {
    // param_get_string prints "%s\n"; a value written with `echo` (not `echo -n`) keeps its own
    // newline, and then the kernel looks in a directory whose name ends in "\n".
    const text = attrText(await ctx.io.readFile(param));
    if (text.endsWith('\n')) {
      throw new RprocError(
        'EINVAL',
        'linux-firmware',
        `${param} ends in a newline (it was written with echo, not echo -n): the kernel looks in ` +
          `${JSON.stringify(text)}, which cannot be the directory meant`,
      );
    }
    custom = text === '' ? undefined : text;
  } catch (e) {
    if (e instanceof RprocError) throw e;
    // Without the loader's sysfs parameter (firmware loader built without it) only fw_path[] is left.
    if (errnoCode(e) !== 'ENOENT')
      throw kernelError(e, { op: 'linux-firmware', doing: `reading ${param}`, path: param });
  }
  return {
    custom,
    dirs: [...(custom === undefined ? [] : [custom]), ...defaultFirmwareDirs(ctx.kernelRelease)],
  };
}

/** The directory files are installed into: the option, else firmware_class.path, else /lib/firmware. */
async function installDir(ctx: LinuxContext): Promise<string> {
  if (ctx.firmwareDir !== undefined) return ctx.firmwareDir;
  return (await firmwareSearchPath(ctx)).custom ?? '/lib/firmware';
}

export interface ResolvedFirmware {
  readonly name: string;
  /** Where the file was installed, when it was. */
  readonly installed: string | undefined;
}

/** The name to write to `firmware`, installing the file or bytes first when the spec carries them. */
export async function resolveFirmware(ctx: LinuxContext, spec: FirmwareSpec): Promise<ResolvedFirmware> {
  if (typeof spec === 'string') return { name: checkFirmwareName(spec), installed: undefined };
  let name: string;
  let bytes: Uint8Array;
  if ('file' in spec) {
    name = checkFirmwareName(basename(spec.file));
    try {
      bytes = await readFile(spec.file);
    } catch (e) {
      const code = errnoCode(e);
      throw new RprocError(
        code === 'ENOENT' ? 'ENOENT' : code === 'EACCES' ? 'EACCES' : 'EIO',
        'linux-firmware',
        `cannot read firmware file ${spec.file}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  } else {
    name = checkFirmwareName(spec.name);
    bytes = spec.bytes;
  }
  const dir = await installDir(ctx);
  const path = join(dir, name);
  try {
    await ctx.io.installFile(path, bytes);
  } catch (e) {
    throw kernelError(e, {
      op: 'linux-firmware',
      doing: `installing firmware ${name} as ${path}`,
      path,
      reasons: { ENOENT: `the firmware directory ${dir} does not exist` },
    });
  }
  return { name, installed: path };
}
