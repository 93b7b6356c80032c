// A property over a live service takes seconds a run; shrinking one counterexample of 30 calls
// took 22 minutes of a CI run (130 shrinks). After `budget` runs since the first failure, every
// further candidate is let pass, so the shrinker stops and reports the smallest counterexample
// found by then (its seed and path replay it, to shrink further by hand).

export const LIVE_SHRINK_BUDGET = Number(process.env.VWS_SHRINK_BUDGET ?? 40);

export function shrinkBudget<A extends unknown[]>(budget: number, predicate: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let sinceFailure = -1;
  return async (...args: A) => {
    if (sinceFailure >= 0 && ++sinceFailure > budget) return;
    try {
      await predicate(...args);
    } catch (e) {
      if (sinceFailure < 0) sinceFailure = 0;
      throw e;
    }
  };
}
