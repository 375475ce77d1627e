// Property: whatever a user asks of the Linux backend, in whatever order, while the remote crashes
// and other programs start the processor behind its back, the backend never writes `start` to a
// processor that is not offline or detached (so it never takes a power reference of its own beyond
// the one a boot takes), never writes `stop`/`detach` to one that is not up, leaves `firmware` as it
// was when a start fails, and answers every refusal with an RprocError — never anything else.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RprocError } from '../util/errors.ts';
import { checkAsyncProperty } from '../../test/support/property.ts';
import { fakeLinux } from '../../test/fake-kernel/fake-linux.ts';
import { memoryFirmwareFs } from '../../test/fake-kernel/fake-kernel.ts';
import { fakeFirmwareImage } from '../../test/fake-kernel/fake-programs.ts';

const ACTIONS = [
  'start',
  'start-other-firmware',
  'start-missing-firmware',
  'stop',
  'detach',
  'attach',
  'recover',
  'recovery-enabled',
  'recovery-disabled',
  'crash',
  'remote-crash',
  'someone-else-starts',
  'someone-else-stops',
] as const;

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 3));

describe('Linux backend life cycle (property)', () => {
  it('never writes start/stop/detach to a processor in the wrong state, whatever happens around it', async () => {
    await checkAsyncProperty(
      'linux-lifecycle',
      fc.asyncProperty(
        fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 14 }),
        async (actions) => {
          const f = fakeLinux({
            processors: [{ name: 'm4', firmware: 'a.elf', earlyBoot: 'crasher' }],
            firmwareFs: memoryFirmwareFs({
              '/lib/firmware/a.elf': fakeFirmwareImage('crasher'),
              '/lib/firmware/b.elf': fakeFirmwareImage('all-echo'),
            }),
            recoveryDelayMs: 0,
          });
          const k = f.kernel;
          const r = k.processor('m4');
          const violations: string[] = [];
          const write = f.io.writeFile.bind(f.io);
          f.io.writeFile = (path: string, text: string) => {
            if (path.endsWith('/state')) {
              const up = r.state === 'running' || r.state === 'attached';
              if (text === 'start' && r.state !== 'offline' && r.state !== 'detached')
                violations.push(`start while ${r.state}`);
              if ((text === 'stop' && !up) || (text === 'detach' && r.state !== 'attached'))
                violations.push(`${text} while ${r.state}`);
            }
            return write(path, text);
          };
          let othersRefs = 0;
          try {
            const m4 = await f.host.get('m4');
            for (const action of actions) {
              const firmwareBefore = r.firmware;
              try {
                switch (action) {
                  case 'start':
                    await m4.start();
                    break;
                  case 'start-other-firmware':
                    await m4.start({ firmware: 'b.elf' });
                    break;
                  case 'start-missing-firmware':
                    await m4.start({ firmware: 'missing.elf' });
                    break;
                  case 'stop':
                    await m4.stop();
                    break;
                  case 'detach':
                    await m4.detach();
                    break;
                  case 'attach':
                    await m4.attach();
                    break;
                  case 'recover':
                    await m4.recover();
                    break;
                  case 'recovery-enabled':
                    await m4.setRecovery('enabled');
                    break;
                  case 'recovery-disabled':
                    await m4.setRecovery('disabled');
                    break;
                  case 'crash':
                    await m4.crash(1);
                    break;
                  case 'remote-crash':
                    k.reportCrash(r, 0);
                    break;
                  case 'someone-else-starts':
                    if (r.state === 'running' || r.state === 'attached') {
                      k.rprocBoot(r, 'other');
                      othersRefs++;
                    }
                    break;
                  case 'someone-else-stops':
                    if (othersRefs > 0 && (r.state === 'running' || r.state === 'attached')) {
                      k.rprocShutdown(r, 'other');
                      othersRefs--;
                    }
                    break;
                }
              } catch (e) {
                if (!(e instanceof RprocError)) throw e;
                if (action === 'start-missing-firmware' || action === 'start-other-firmware') {
                  assert.equal(r.firmware, firmwareBefore, `${action} failed and left firmware changed`);
                }
              }
              await settle();
              // One reference is the user's (or the boot's); the rest were taken by someone else.
              const up = r.state === 'running' || r.state === 'attached' || r.state === 'crashed';
              assert.ok(
                r.power <= (up ? 1 : 0) + othersRefs,
                `power ${r.power} in ${r.state} after ${action}`,
              );
            }
            assert.deepEqual(violations, []);
          } finally {
            await f.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
