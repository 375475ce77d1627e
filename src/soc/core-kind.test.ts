// The core-kind registry decides what runs a core: a SoC whose board names a kind nobody registered
// fails at construction with ENODEV naming the kind and the core; a name is registered once; a
// worker refuses a module that exports no engine. This file does not import src/cpu on purpose.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRprocError } from '../util/errors.ts';
import { coreKind, loadCoreEngine, registerCoreKind, type CoreKindDefinition } from './core-kind.ts';
import { VirtualSoc } from './virtual-soc.ts';

const noEngine: CoreKindDefinition['engine'] = {
  run: () => Promise.reject(new Error('not used')),
  groupMember: () => Promise.reject(new Error('not used')),
  scheduled: () => Promise.reject(new Error('not used')),
};

describe('core-kind registry', () => {
  it('a SoC whose cores have no registered engine fails at construction with ENODEV naming kind and core', () => {
    assert.throws(
      () => new VirtualSoc(),
      (e: unknown) =>
        isRprocError(e, 'ENODEV') &&
        /core kind "(rv32|js)" of rproc\d/.test(e.message) &&
        /none/.test(e.message),
    );
  });

  it('looks a kind up by name once registered; the same definition twice is fine, another under that name is EEXIST', () => {
    const def: CoreKindDefinition = {
      name: 'test-kind',
      engine: noEngine,
      engineModule: () => new URL(import.meta.url),
    };
    registerCoreKind(def);
    registerCoreKind(def);
    assert.equal(coreKind('test-kind', 'core0'), def);
    assert.throws(
      () => registerCoreKind({ ...def }),
      (e: unknown) => isRprocError(e, 'EEXIST') && e.message.includes('"test-kind"'),
    );
    assert.throws(
      () => coreKind('other-kind', 'core7'),
      (e: unknown) =>
        isRprocError(e, 'ENODEV') && e.message.includes('core7') && e.message.includes('test-kind'),
    );
  });

  it('a worker refuses a module that does not export an engine, naming the module', async () => {
    const href = new URL('./core-execution.ts', import.meta.url).href;
    await assert.rejects(
      loadCoreEngine(href),
      (e: unknown) => isRprocError(e, 'ENOEXEC') && e.message.includes('core-execution.ts'),
    );
  });
});
