// The same input gives the same schedule: byte-identical exports and identical metrics.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { runScenario, stepLine } from './support/run.ts';

test('simulating the same input twice gives byte-identical export lines and identical metrics', () => {
  fc.assert(
    fc.property(scenarioArb(), (s) => {
      const first = runScenario(structuredClone(s));
      const second = runScenario(structuredClone(s));
      assert.deepEqual(second.lines, first.lines, describeScenario(s));
      assert.deepEqual(second.metrics, first.metrics, describeScenario(s));
    }),
    { numRuns: 300 },
  );
});

test('driving the Scheduler by hand twice gives the same decisions at the same instants', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 20 } }), (s) => {
      const trace = (): string[] => {
        const scheduler = new Scheduler(s.nodes, s.config);
        const out: string[] = [];
        const byArrival = [...s.requests].sort((a, b) => a.arrival - b.arrival);
        let next = 0;
        for (let guard = 0; guard < 100_000; guard++) {
          const now = Math.min(byArrival[next]?.arrival ?? Infinity, scheduler.nextEventTime());
          if (now === Infinity) return out;
          while (next < byArrival.length && byArrival[next].arrival === now) scheduler.submit(byArrival[next++], now);
          out.push(stepLine(now, scheduler.advance(now)));
        }
        throw new Error('the scheduler did not drain in 100000 steps');
      };
      assert.deepEqual(trace(), trace(), describeScenario(s));
    }),
    { numRuns: 150 },
  );
});
