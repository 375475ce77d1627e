// The byte-level matchers and the integer parser behind the control files, checked against the
// behaviour of lib/string.c (sysfs_streq, strncmp) and lib/kstrtox.c (kstrtouint_from_user).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RprocError, type ErrnoName } from '../../util/errors.ts';
import { cString, parseKernelUint, strncmpEquals, sysfsStreq, toBytes } from './control-io.ts';

describe('sysfsStreq (sysfs_streq)', () => {
  const cases: readonly [string, string, boolean][] = [
    ['start', 'start', true],
    ['start\n', 'start', true],
    ['start\n\n', 'start', false],
    ['start\r\n', 'start', false],
    ['start ', 'start', false],
    ['star', 'start', false],
    ['starts', 'start', false],
    ['Start', 'start', false],
    ['\n', 'start', false],
    ['', 'start', false],
    ['start\0junk', 'start', true],
    ['start\n\0junk', 'start', true],
    ['\0start', 'start', false],
  ];
  for (const [input, keyword, expected] of cases) {
    it(`${JSON.stringify(input)} ${expected ? 'matches' : 'does not match'} "${keyword}"`, () => {
      assert.equal(sysfsStreq(toBytes(input), keyword), expected);
    });
  }
});

describe('strncmpEquals (strncmp over the written length)', () => {
  const cases: readonly [string, string, boolean][] = [
    ['s', 'start', true],
    ['st', 'start', true],
    ['start', 'start', true],
    ['start\n', 'start', false],
    ['start\0', 'start', true],
    ['start\0xyz', 'start', true],
    ['startx', 'start', false],
    ['sto', 'start', false],
    ['sto', 'stop', true],
    ['en\0', 'enabled', false],
    ['enabled\0', 'enabled', true],
  ];
  for (const [input, keyword, expected] of cases) {
    it(`${JSON.stringify(input)} ${expected ? 'matches' : 'does not match'} "${keyword}"`, () => {
      const bytes = toBytes(input);
      assert.equal(strncmpEquals(bytes, keyword, bytes.length), expected);
    });
  }
});

describe('parseKernelUint (kstrtouint_from_user, base 0)', () => {
  const good: readonly [string, number][] = [
    ['0', 0],
    ['1', 1],
    ['999', 999],
    ['2\n', 2],
    ['+7', 7],
    ['0x10', 16],
    ['0X1f', 31],
    ['010', 8],
    ['4294967295', 0xffff_ffff],
    ['0xffffffff', 0xffff_ffff],
    ['3\0garbage', 3],
  ];
  for (const [input, value] of good) {
    it(`${JSON.stringify(input)} → ${value}`, () => {
      assert.equal(parseKernelUint(toBytes(input), 'test'), value);
    });
  }
  const bad: readonly [string, ErrnoName][] = [
    ['', 'EINVAL'],
    ['\n', 'EINVAL'],
    ['-1', 'EINVAL'],
    ['+', 'EINVAL'],
    ['++1', 'EINVAL'],
    [' 1', 'EINVAL'],
    ['1 ', 'EINVAL'],
    ['1\n\n', 'EINVAL'],
    ['abc', 'EINVAL'],
    ['0x', 'EINVAL'],
    ['0xg', 'EINVAL'],
    ['08', 'EINVAL'],
    ['1.5', 'EINVAL'],
    ['4294967296', 'ERANGE'],
    ['0x100000000', 'ERANGE'],
    ['99999999999999999999999', 'ERANGE'],
  ];
  for (const [input, code] of bad) {
    it(`${JSON.stringify(input)} → ${code}`, () => {
      assert.throws(() => parseKernelUint(toBytes(input), 'test'), { name: 'RprocError', code });
    });
  }

  it('looks at 34 bytes only, as the kernel copies no more', () => {
    // 33 zeros then "7": the 7 is the 34th byte and still read; one more zero pushes it out.
    assert.equal(parseKernelUint(toBytes(`${'0'.repeat(33)}7`), 'test'), 7);
    assert.equal(parseKernelUint(toBytes(`${'0'.repeat(34)}7`), 'test'), 0);
  });

  it('any bytes give a u32 or an RprocError (EINVAL/ERANGE), nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        try {
          const v = parseKernelUint(bytes, 'test');
          return Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
        } catch (e) {
          return e instanceof RprocError && (e.code === 'EINVAL' || e.code === 'ERANGE');
        }
      }),
    );
  });
});

describe('cString', () => {
  it('stops at the first NUL', () => {
    assert.deepEqual([...cString(toBytes('ab\0cd'))], [0x61, 0x62]);
    assert.deepEqual([...cString(toBytes('abc'))], [0x61, 0x62, 0x63]);
  });
});
