// SpinBudget: full budget after a hit, halved after a miss, none below the minimum, then a full
// try again after a backoff of sleeps that doubles with every failed try (at most MAX_BACKOFF).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpinBudget } from './spin-budget.ts';

type Step = 'hit' | 'miss' | 'slept';

/** Read through a call: the loop must see slept() change it. */
function budgetOf(b: SpinBudget): number {
  return b.current;
}

function run(steps: readonly Step[], min = 4, max = 32): number[] {
  const b = new SpinBudget(min, max);
  return steps.map((s) => {
    b[s]();
    return b.current;
  });
}

describe('SpinBudget', () => {
  const cases: { what: string; steps: Step[]; want: number[] }[] = [
    {
      what: 'misses halve it down to the minimum, then it is 0',
      steps: ['miss', 'miss', 'miss', 'miss'],
      want: [16, 8, 4, 0],
    },
    { what: 'a hit restores the full budget', steps: ['miss', 'miss', 'hit'], want: [16, 8, 32] },
    {
      what: 'after the first failed try one sleep brings a full try back',
      steps: ['miss', 'miss', 'miss', 'miss', 'slept'],
      want: [16, 8, 4, 0, 32],
    },
    {
      what: 'a second failed try waits two sleeps',
      steps: ['miss', 'miss', 'miss', 'miss', 'slept', 'miss', 'miss', 'miss', 'miss', 'slept', 'slept'],
      want: [16, 8, 4, 0, 32, 16, 8, 4, 0, 0, 32],
    },
    {
      what: 'sleeps while polling leave the budget alone',
      steps: ['slept', 'miss', 'slept'],
      want: [32, 16, 16],
    },
  ];
  for (const c of cases) {
    it(c.what, () => assert.deepEqual(run(c.steps), c.want));
  }

  it('the backoff doubles up to MAX_BACKOFF sleeps, and a hit resets it', () => {
    const b = new SpinBudget(4, 4);
    const sleepsBeforeTry = (): number => {
      b.miss();
      assert.equal(b.current, 0);
      for (let n = 1; n <= 1000; n++) {
        b.slept();
        if (budgetOf(b) > 0) return n;
      }
      return Infinity;
    };
    const seen = Array.from({ length: 11 }, sleepsBeforeTry);
    assert.deepEqual(seen, [1, 2, 4, 8, 16, 32, 64, 128, 256, 256, 256]);
    b.hit();
    assert.equal(sleepsBeforeTry(), 1);
  });
});
