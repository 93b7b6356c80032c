// Charges sum to metered usage (issue 17, item 6): what the simulator charges, under any terms, is
// each lease's run time read back from the schedule export (node-seconds x cores, and memory)
// at the unit's rates times the lease's price factor; suspension, resumption and the time
// suspended are not charged. Two computations that share no code but the export's format.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { DEFAULT_TERMS, priceFactorOf, type Terms } from '../../src/core/terms.ts';
import { simCharges } from '../../src/sim/charges.ts';
import { describeScenario, scenarioArb } from '../core/support/generators.ts';
import { parseSchedule } from '../core/support/schedule-checker.ts';
import { runScenario } from '../core/support/run.ts';

const termsArb: fc.Arbitrary<Terms> = fc.record({
  perCoreHour: fc.double({ min: 0, max: 10, noNaN: true }),
  perGiBHour: fc.double({ min: 0, max: 2, noNaN: true }),
  preemptibleFactor: fc.double({ min: 0, max: 1, noNaN: true }),
  factors: fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 6, maxLength: 6 }),
}).map(({ perCoreHour, perGiBHour, preemptibleFactor, factors }) => ({
  ...DEFAULT_TERMS,
  unit: { ...DEFAULT_TERMS.unit, perCoreHour, perGiBHour, preemptibleFactor },
  kinds: Object.fromEntries(Object.entries(DEFAULT_TERMS.kinds).map(([k, v], i) => [k, { ...v, priceFactor: factors[i] }])),
}));

test('what the simulator charges is the run time the export shows, at the terms\' rates and factors', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 20 } }), termsArb, (s, terms) => {
      const run = runScenario(s);
      const charges = simCharges(run.scheduler.allLeases(), terms);
      const byId = new Map(s.requests.map((r) => [r.id, r]));
      let want = 0;
      for (const l of parseSchedule(run.lines).leases) {
        // An occurrence or an attempt is charged as the lease it belongs to (generated ids are L1, L2, ...).
        const req = byId.get(/^L\d+/.exec(l.id)![0])!;
        for (const seg of l.segments) {
          if (seg.kind !== 'run') continue;
          const hours = ((seg.end - seg.start) * seg.nodes.length) / 3600;
          want += hours * (l.cpu * terms.unit.perCoreHour + (l.memoryMiB / 1024) * terms.unit.perGiBHour) * priceFactorOf(req, terms);
        }
      }
      assert.ok(Math.abs(charges.total - want) <= 1e-6 * Math.max(1, want), `${charges.total} charged, ${want} metered from the export\n${describeScenario(s)}`);
      const sum = Object.values(charges.byKind).reduce((a, b) => a + b!, 0);
      assert.ok(Math.abs(sum - charges.total) <= 1e-6 * Math.max(1, sum));
    }),
    { numRuns: 200 },
  );
});
