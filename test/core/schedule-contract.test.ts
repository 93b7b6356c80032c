// The vws.schedule/v1 contract holds for random pools x request streams x configurations:
// capacity on every node at every instant, reservations on time and whole, every lease's full
// run, nothing lost once the simulation has drained (see support/schedule-checker.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configArb, describeScenario, scenarioArb, type Scenario } from './support/generators.ts';
import { nonPreemptibleViolations, suspensionSegmentsIn } from './support/lease-checks.ts';
import { runScenario, violationsOf } from './support/run.ts';

function assertSound(arb: fc.Arbitrary<Scenario>, numRuns: number, extra: (s: Scenario, lines: string[]) => string[] = () => []): void {
  fc.assert(
    fc.property(arb, (s) => {
      const run = runScenario(s);
      assert.deepEqual([...violationsOf(s, run), ...extra(s, run.lines)], [], `scenario ${describeScenario(s)}`);
    }),
    { numRuns },
  );
}

test('the checker finds no violation for random pools x streams x configs', () => {
  assertSound(scenarioArb(), 1500);
});

test('leases sized for the larger nodes of a mixed pool are scheduled soundly too', () => {
  assertSound(scenarioArb({ stream: { largePercent: 40 } }), 400);
});

test('non-preemptible best-effort leases are never suspended, cut short or re-queued', () => {
  assertSound(scenarioArb({ stream: { kinds: ['best-effort', 'best-effort', 'exact'] } }), 500, (s, lines) => nonPreemptibleViolations(s.requests, lines));
});

test("with preemption 'requeue' no lease is ever suspended, resumed or migrated", () => {
  const arb = scenarioArb({ stream: { kinds: ['best-effort', 'best-effort', 'exact'] }, config: configArb({ preemption: fc.constant('requeue') }) });
  assertSound(arb, 500, (_s, lines) => suspensionSegmentsIn(lines));
});
