// The shrink budget of the live-service properties: a failing property still fails, with a
// counterexample, and runs no more than the budget once it has failed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { shrinkBudget } from './shrink-budget.ts';

test('after the budget the shrinker stops; the failure is reported with the smallest counterexample found by then', async () => {
  let runs = 0;
  let firstFailure = -1;
  const failing = shrinkBudget(5, async (xs: number[]) => {
    runs++;
    if (xs.length >= 3) {
      if (firstFailure < 0) firstFailure = runs;
      throw new Error(`${xs.length} numbers`);
    }
  });
  await assert.rejects(fc.assert(fc.asyncProperty(fc.array(fc.nat(), { minLength: 30, maxLength: 40 }), failing), { seed: 7, numRuns: 10 }), /Counterexample/);
  assert.equal(runs - firstFailure, 5, 'the budget of runs after the first failure, then none');
});

test('a property that holds runs every time', async () => {
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.nat(), shrinkBudget(1, async () => { runs++; })), { numRuns: 25 });
  assert.equal(runs, 25);
});
