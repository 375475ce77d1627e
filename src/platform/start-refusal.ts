// Why `start` is refused for a processor that is not offline: the errno and the reason every
// backend gives, so that a program written against the platform interface sees the same refusal on
// the virtual SoC and on Linux. The errnos are Linux's (remoteproc_sysfs.c state_store: EBUSY while
// up; a processor being deleted is gone, ENODEV); each backend says what it refrained from doing.

import { RprocError } from '../util/errors.ts';
import type { ProcessorState } from './remote-processors.ts';

export interface StartRefusalWords {
  /** Where the error comes from, e.g. 'linux-start'. */
  readonly where: string;
  /** What starting a running processor again would have done, e.g. 'not writing "start", which…'. */
  readonly whenUp: string;
  /** How to get a crashed processor going again. */
  readonly whenCrashed: string;
}

export function startRefusal(label: string, state: ProcessorState, words: StartRefusalWords): RprocError {
  const { where } = words;
  switch (state) {
    case 'running':
    case 'attached':
      return new RprocError('EBUSY', where, `${label} is already ${state}: ${words.whenUp}; stop it first`);
    case 'crashed':
      return new RprocError('EBUSY', where, `${label} has crashed: ${words.whenCrashed}`);
    case 'detached':
      return new RprocError(
        'EBUSY',
        where,
        `${label} is detached (running firmware it did not load): attach to it instead`,
      );
    case 'deleted':
      return new RprocError('ENODEV', where, `${label} is being deleted`);
    case 'offline':
    case 'suspended':
    case 'invalid':
      return new RprocError('EBUSY', where, `${label} is ${state}, not offline`);
  }
}
