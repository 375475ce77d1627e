// The text formats the backend reads, table by table: sysfs attributes end in exactly one newline,
// `state` is one of remoteproc_sysfs.c's strings, rpmsg src/dst are "0x%x", announce is
// "true"/"false" — anything else is an error naming the file and the value, never a guess. Also the
// place of a channel under its processor (old and new kernels), firmware names the kernel would
// mangle, the permission hints and the back-off schedule.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import {
  attrText,
  classDeviceIndex,
  parseAnnounce,
  parseRecovery,
  parseRpmsgAddr,
  parseState,
  rprocIndex,
} from './sysfs-values.ts';
import { ownerOf, type ProcessorPlace } from './rpmsg-channels.ts';
import { checkFirmwareName } from './firmware-path.ts';
import { permissionHint } from './kernel-errors.ts';
import { Backoff } from './backoff.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sysfs values', () => {
  it('strips exactly one trailing newline', () => {
    assert.equal(attrText(enc('running\n')), 'running');
    assert.equal(attrText(enc('running')), 'running');
    assert.equal(attrText(enc('/srv/fw\n\n')), '/srv/fw\n');
  });

  for (const [text, state] of [
    ['offline', 'offline'],
    ['suspended', 'suspended'],
    ['running', 'running'],
    ['crashed', 'crashed'],
    ['deleted', 'deleted'],
    ['attached', 'attached'],
    ['detached', 'detached'],
    ['invalid', 'invalid'],
    ['Running', undefined],
    ['start', undefined],
    ['', undefined],
  ] as const) {
    it(`state ${JSON.stringify(text)} → ${state ?? 'not a state'}`, () =>
      assert.equal(parseState(text), state));
  }

  for (const [text, value] of [
    ['0x400', 0x400],
    ['0xffffffff', 0xffff_ffff],
    ['0x0', 0],
    ['1024', undefined],
    ['0x', undefined],
    ['0x1ffffffff', undefined],
    ['-1', undefined],
  ] as const) {
    it(`rpmsg address ${JSON.stringify(text)} → ${value ?? 'EIO'}`, () => {
      if (value !== undefined) assert.equal(parseRpmsgAddr(text, '/sys/x/src'), value);
      else
        assert.throws(
          () => parseRpmsgAddr(text, '/sys/x/src'),
          (e: unknown) =>
            isRprocError(e, 'EIO') && e.message.includes(`/sys/x/src reads ${JSON.stringify(text)}`),
        );
    });
  }

  it('announce and recovery accept only the kernel words', () => {
    assert.equal(parseAnnounce('true', 'a'), true);
    assert.equal(parseAnnounce('false', 'a'), false);
    assert.throws(
      () => parseAnnounce('1', 'a'),
      (e: unknown) => isRprocError(e, 'EIO'),
    );
    assert.equal(parseRecovery('disabled', 'r'), 'disabled');
    assert.throws(
      () => parseRecovery('recover', 'r'),
      (e: unknown) => isRprocError(e, 'EIO'),
    );
  });

  it('indexes remoteprocN, rpmsgN and ttyRPMSGn entries and nothing else', () => {
    assert.equal(rprocIndex('remoteproc12'), 12);
    assert.equal(rprocIndex('remoteproc'), undefined);
    assert.equal(rprocIndex('remoteproc1x'), undefined);
    assert.equal(classDeviceIndex('rpmsg3', 'rpmsg'), 3);
    assert.equal(classDeviceIndex('rpmsg_ctrl0', 'rpmsg'), undefined);
    assert.equal(classDeviceIndex('ttyRPMSG0', 'ttyRPMSG'), 0);
  });
});

describe('channel ownership', () => {
  const places: ProcessorPlace[] = [
    {
      name: 'm4',
      devPath: '/sys/devices/platform/soc/10000000.m4/remoteproc/remoteproc0',
      parentPath: '/sys/devices/platform/soc/10000000.m4',
    },
    {
      name: 'dsp',
      devPath: '/sys/devices/platform/soc/20000000.dsp/remoteproc/remoteproc1',
      parentPath: '/sys/devices/platform/soc/20000000.dsp',
    },
  ];
  it('finds the processor whose device holds the channel (rvdev under rproc->dev)', () => {
    assert.equal(
      ownerOf(
        '/sys/devices/platform/soc/20000000.dsp/remoteproc/remoteproc1/remoteproc1#vdev0buffer/virtio1/virtio1.x.-1.1024',
        places,
      ),
      'dsp',
    );
  });
  it('falls back to the processor’s parent device (older kernels put the vdev there)', () => {
    assert.equal(
      ownerOf(
        '/sys/devices/platform/soc/10000000.m4/10000000.m4#vdev0buffer/virtio0/virtio0.x.-1.1024',
        places,
      ),
      'm4',
    );
  });
  it('owns no channel outside every processor (e.g. an SMD edge)', () => {
    assert.equal(ownerOf('/sys/devices/platform/soc/smd/smd-edge/x', places), undefined);
  });
});

describe('firmware names and permission hints', () => {
  for (const [name, ok] of [
    ['fw.elf', true],
    ['st/m4/fw.elf', true],
    ['', false],
    ['a\nb', false],
    ['/abs.elf', false],
    ['../etc/passwd', false],
    ['a\0b', false],
  ] as const) {
    it(`firmware name ${JSON.stringify(name)} is ${ok ? 'accepted' : 'refused with EINVAL'}`, () => {
      if (ok) assert.equal(checkFirmwareName(name), name);
      else
        assert.throws(
          () => checkFirmwareName(name),
          (e: unknown) => isRprocError(e, 'EINVAL'),
        );
    });
  }

  for (const [path, hint] of [
    ['/sys/class/remoteproc/remoteproc0/state', /SUBSYSTEM=="remoteproc", RUN\+="\/bin\/chgrp rproc/],
    ['/sys/kernel/debug/remoteproc/remoteproc0/trace0', /debugfs is root-only/],
    ['/sys/bus/rpmsg/drivers/rpmsg_chrdev/bind', /root-only \(the bind files are 0200\)/],
    ['/dev/rpmsg0', /SUBSYSTEM=="rpmsg", KERNEL=="rpmsg\[0-9\]\*", GROUP="rproc", MODE="0660"/],
    ['/dev/ttyRPMSG1', /KERNEL=="ttyRPMSG\[0-9\]\*", GROUP="dialout"/],
    ['/lib/firmware/fw.elf', /firmware directory/],
  ] as const) {
    it(`hints for ${path}`, () => assert.match(permissionHint(path), hint));
  }
});

describe('back-off', () => {
  it('doubles from min to max and starts over on activity', () => {
    const b = new Backoff({ minMs: 25, maxMs: 1000 });
    assert.deepEqual(
      Array.from({ length: 8 }, () => b.next()),
      [25, 50, 100, 200, 400, 800, 1000, 1000],
    );
    b.reset();
    assert.equal(b.next(), 25);
    assert.throws(() => new Backoff({ minMs: 0, maxMs: 10 }), RangeError);
  });
});
