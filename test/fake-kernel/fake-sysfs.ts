// The files the simulated kernel shows, built from its state: /sys/class/remoteproc links to each
// processor's device directory with its attributes (remoteproc_sysfs.c) and /dev/remoteprocN
// (remoteproc_cdev.c), debugfs (remoteproc_debugfs.c), the rpmsg bus with its devices, drivers and
// the class devices rpmsg_char and rpmsg_tty put under a channel (rpmsg_core.c, rpmsg_char.c,
// rpmsg_tty.c), and the firmware loader's path parameter. Writes go to the kernel's handlers.

import { posix } from 'node:path';
import { errnoError } from '../../src/linux/kernel-io.ts';
import type { FakeKernel, FakeRproc, FakeVirtio } from './fake-kernel.ts';
import { VTree } from './fake-vfs.ts';

const ANY = -1;
const RPMSG_ADDR_ANY = 0xffff_ffff;

/** sysfs_streq: equal, allowing one trailing newline on the written value. */
function sysfsStreq(data: Uint8Array, word: string): boolean {
  const text = new TextDecoder().decode(data);
  return text === word || text === `${word}\n`;
}

/** Where a processor's device sits in /sys/devices (its class link points there). */
function rprocDir(r: FakeRproc): string {
  return `/sys/devices/platform/soc/${r.node}/remoteproc/${r.device}`;
}

/** The virtio device under the processor: rproc_rvdev_add_device makes rproc->dev its parent. */
function virtioDir(v: FakeVirtio): string {
  return `${rprocDir(v.rproc)}/${v.rproc.device}#vdev0buffer/virtio${v.index}`;
}

type Link = (at: string, to: string) => void;

/** Everything the kernel shows now. */
export function kernelFiles(k: FakeKernel): VTree {
  const t = new VTree();
  const rel = (from: string, to: string): string => posix.relative(posix.dirname(from), to);
  const link = (at: string, to: string): void => t.link(at, rel(at, to));
  t.dir('/sys/class/remoteproc');
  t.dir('/sys/bus/rpmsg/devices');
  t.dir('/sys/kernel/debug', 0o700);
  t.dir('/dev');
  t.dir('/lib/firmware');
  for (const r of k.processors) rprocFiles(k, t, r, link);
  for (const driver of k.drivers()) {
    const dir = `/sys/bus/rpmsg/drivers/${driver}`;
    t.dir(dir);
    t.file(`${dir}/bind`, {
      mode: 0o200,
      write: (d) => k.store(`${dir}/bind`, d, () => k.bind(driver, d, `${dir}/bind`)),
    });
    t.file(`${dir}/unbind`, {
      mode: 0o200,
      write: (d) => k.store(`${dir}/unbind`, d, () => k.unbind(driver, d, `${dir}/unbind`)),
    });
  }
  for (const v of k.virtioDevices()) virtioFiles(k, t, v, link);
  t.file('/sys/module/firmware_class/parameters/path', {
    mode: 0o644,
    read: () => `${k.firmwarePath}\n`,
    write: (d) =>
      k.store('/sys/module/firmware_class/parameters/path', d, () => {
        // param_set_copystring keeps the string as written, newline included (maxlen 256).
        if (d.length + 1 > 256) throw errnoError('ENOSPC', 'write', 'firmware_class.path');
        k.firmwarePath = new TextDecoder().decode(d);
      }),
  });
  return t;
}

function rprocFiles(k: FakeKernel, t: VTree, r: FakeRproc, link: Link): void {
  const dir = rprocDir(r);
  const rw = r.sysfsReadOnly ? 0o444 : 0o644;
  const attr = (name: string, read: () => string, write?: (d: Uint8Array, path: string) => void): void => {
    const path = `${dir}/${name}`;
    t.file(path, {
      mode: write === undefined ? 0o444 : rw,
      read: () => `${read()}\n`,
      ...(write === undefined || r.sysfsReadOnly
        ? {}
        : { write: (d: Uint8Array) => k.store(path, d, () => write(d, path)) }),
    });
  };
  attr('name', () => r.name);
  attr(
    'state',
    () => r.state,
    (d, path) => {
      if (sysfsStreq(d, 'start')) k.rprocBoot(r, path);
      else if (sysfsStreq(d, 'stop')) k.rprocShutdown(r, path);
      else if (sysfsStreq(d, 'detach')) k.rprocDetach(r, path);
      else {
        k.log.push(`${r.device}: Unrecognised option: ${new TextDecoder().decode(d)}`);
        throw errnoError('EINVAL', 'write', path);
      }
    },
  );
  attr(
    'firmware',
    () => (r.state === 'attached' ? 'unknown' : r.firmware),
    (d, path) => {
      if (r.state !== 'offline') throw errnoError('EBUSY', 'write', path);
      const name = new TextDecoder().decode(d).split('\n')[0] ?? '';
      if (name === '') throw errnoError('EINVAL', 'write', path);
      r.firmware = name;
    },
  );
  attr(
    'recovery',
    () => (r.recoveryDisabled ? 'disabled' : 'enabled'),
    (d, path) => {
      if (sysfsStreq(d, 'enabled')) {
        r.recoveryDisabled = false;
        k.triggerRecovery(r);
      } else if (sysfsStreq(d, 'disabled')) r.recoveryDisabled = true;
      else if (sysfsStreq(d, 'recover')) k.triggerRecovery(r);
      else throw errnoError('EINVAL', 'write', path);
    },
  );
  attr(
    'coredump',
    () => r.dumpConf,
    (d, path) => {
      if (r.state === 'crashed') throw errnoError('EBUSY', 'write', path);
      const word = (['disabled', 'enabled', 'inline'] as const).find((w) => sysfsStreq(d, w));
      if (word === undefined) throw errnoError('EINVAL', 'write', path);
      r.dumpConf = word;
    },
  );
  link(`/sys/class/remoteproc/${r.device}`, dir);
  if (r.cdev) {
    t.text(`${dir}/dev`, `245:${r.index}\n`);
    t.chardev(`/dev/${r.device}`, 0o600, () => k.cdevOpen(r, `/dev/${r.device}`));
  }
  if (k.debugfs) {
    const dbg = `/sys/kernel/debug/remoteproc/${r.device}`;
    t.dir(dbg);
    t.file(`${dbg}/name`, { mode: 0o400, read: () => `${r.name}\n` });
    // rproc_recovery_write / rproc_coredump_write: at most 10 / 20 bytes, one trailing newline
    // dropped, then compared by prefix over the written length (so "e" means "enabled").
    const debugWord = (d: Uint8Array, max: number, path: string, words: readonly string[]): string => {
      if (d.length === 0 || d.length > max) throw errnoError('EINVAL', 'write', path);
      const text = new TextDecoder().decode(d).replace(/\n$/, '');
      const word = words.find((w) => text !== '' && w.startsWith(text));
      if (word === undefined) throw errnoError('EINVAL', 'write', path);
      return word;
    };
    t.file(`${dbg}/recovery`, {
      mode: 0o600,
      read: () => (r.recoveryDisabled ? 'disabled\n' : 'enabled\n'),
      write: (d) =>
        k.store(`${dbg}/recovery`, d, () => {
          const word = debugWord(d, 10, `${dbg}/recovery`, ['enabled', 'disabled', 'recover']);
          if (word !== 'recover') r.recoveryDisabled = word === 'disabled';
          if (word !== 'disabled') k.triggerRecovery(r);
        }),
    });
    t.file(`${dbg}/coredump`, {
      mode: 0o600,
      read: () => `${r.dumpConf}\n`,
      write: (d) =>
        k.store(`${dbg}/coredump`, d, () => {
          if (r.state === 'crashed') throw errnoError('EBUSY', 'write', `${dbg}/coredump`);
          r.dumpConf = debugWord(d, 20, `${dbg}/coredump`, [
            'disabled',
            'enabled',
            'inline',
          ]) as typeof r.dumpConf;
        }),
    });
    t.file(`${dbg}/crash`, {
      mode: 0o200,
      write: (d) =>
        k.store(`${dbg}/crash`, d, () => {
          // kstrtouint_from_user: decimal, 0x or 0 prefix, one trailing newline.
          const text = new TextDecoder().decode(d).replace(/\n$/, '');
          if (!/^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(text))
            throw errnoError('EINVAL', 'write', `${dbg}/crash`);
          const type = Number(
            text.startsWith('0') && !text.startsWith('0x') ? Number.parseInt(text, 8) : text,
          );
          if (type > 0xffff_ffff) throw errnoError('ERANGE', 'write', `${dbg}/crash`);
          if (r.state === 'offline') k.log.push(`${r.device}: crash reported while offline`);
          k.reportCrash(r, type);
        }),
    });
    if (r.state === 'running' && r.program !== undefined && r.program.trace !== '') {
      // rproc_trace_read: the buffer up to its first NUL.
      t.file(`${dbg}/trace0`, { mode: 0o400, read: () => r.trace });
    }
  }
}

function virtioFiles(k: FakeKernel, t: VTree, v: FakeVirtio, link: Link): void {
  const vdir = virtioDir(v);
  const hex = (n: number): string => `0x${(n === ANY ? RPMSG_ADDR_ANY : n).toString(16)}\n`;
  const infra = (name: string, src: number, dst: number, driver: string): void => {
    const id = `virtio${v.index}.${name}.${src}.${dst}`;
    const dir = `${vdir}/${id}`;
    t.text(`${dir}/name`, `${name}\n`);
    t.text(`${dir}/src`, hex(src));
    t.text(`${dir}/dst`, hex(dst));
    t.text(`${dir}/announce`, 'false\n');
    link(`${dir}/driver`, `/sys/bus/rpmsg/drivers/${driver}`);
    link(`/sys/bus/rpmsg/devices/${id}`, dir);
  };
  infra('rpmsg_ns', 53, 53, 'rpmsg_ns');
  infra('rpmsg_ctrl', 0, 0, 'rpmsg_ctrl');
  for (const ch of v.channels) {
    const dir = `${vdir}/${ch.id}`;
    t.text(`${dir}/name`, `${ch.name}\n`);
    t.text(`${dir}/src`, hex(ch.src));
    t.text(`${dir}/dst`, hex(ch.dst));
    t.text(`${dir}/announce`, 'false\n');
    t.text(`${dir}/modalias`, `rpmsg:${ch.name}\n`);
    t.file(`${dir}/driver_override`, {
      mode: 0o644,
      read: () => `${ch.override ?? '(null)'}\n`,
      write: (d) =>
        k.store(`${dir}/driver_override`, d, () => {
          // driver_set_override: the name up to a newline; "\n" (or nothing) clears it.
          const name = new TextDecoder().decode(d).split('\n')[0] ?? '';
          ch.override = name === '' ? undefined : name;
        }),
    });
    link(`/sys/bus/rpmsg/devices/${ch.id}`, dir);
    if (ch.driver !== undefined) {
      link(`${dir}/driver`, `/sys/bus/rpmsg/drivers/${ch.driver}`);
      link(`/sys/bus/rpmsg/drivers/${ch.driver}/${ch.id}`, dir);
    }
    const ep = ch.eptdev;
    if (ep !== undefined) {
      const cdir = `${dir}/rpmsg/${ep.name}`;
      t.text(`${cdir}/name`, `${ch.name}\n`);
      // rpmsg_char.c src_show/dst_show: %d, so ANY is -1.
      t.text(`${cdir}/src`, `${ch.src}\n`);
      t.text(`${cdir}/dst`, `${ch.dst}\n`);
      t.text(`${cdir}/dev`, `239:${ep.index}\n`);
      link(`/sys/class/rpmsg/${ep.name}`, cdir);
      t.chardev(`/dev/${ep.name}`, 0o600, () => ep.open(`/dev/${ep.name}`));
    }
    const tty = ch.tty;
    if (tty !== undefined) {
      const tdir = `${dir}/tty/${tty.name}`;
      t.text(`${tdir}/dev`, `240:${tty.index}\n`);
      link(`/sys/class/tty/${tty.name}`, tdir);
      t.chardev(`/dev/${tty.name}`, 0o620, () => tty.open(`/dev/${tty.name}`));
    }
  }
}
