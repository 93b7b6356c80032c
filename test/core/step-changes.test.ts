// Every lease whose record changes is named in the next StepResult's `changed`, whoever's action
// changed it: a live view that rewrites only those leases then shows what a view rebuilt from
// scratch would (issue 14, finding 11: a preempted lease kept its old plan until a restart).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import type { LeaseRecord } from '../../src/core/lease-record.ts';
import { Scheduler, type StepResult } from '../../src/core/scheduler.ts';
import type { Segment } from '../../src/core/segment.ts';
import { describeScenario, preemptionScenarioArb, scenarioArb } from './support/generators.ts';

const seg = (s: Segment) => [s.seq, s.kind, s.start, s.end, s.active, s.nodes.join(',')];

/** What a view of the lease is made of. */
function digest(l: LeaseRecord): string {
  return JSON.stringify([l.state, l.done, l.work, l.chain.map(seg), l.history.map(seg), l.lost.length, l.rejectReason, l.failure, l.heldUntil, l.firstStart, l.endedAt, l.occurrenceIds]);
}

/**
 * Runs the requests as the simulator does (each submitted at its arrival, the clock jumping from
 * event to event), cancelling every `cancelEvery`-th lease at its first event after arrival; after
 * each advance, the leases whose digest moved must all be in the step's `changed`.
 */
function unnamedChanges(nodes: ConstructorParameters<typeof Scheduler>[0], requests: Parameters<Scheduler['submit']>[0][], config: ConstructorParameters<typeof Scheduler>[1], cancelEvery: number): string[] {
  const scheduler = new Scheduler(nodes, config);
  scheduler.trackChanges();
  const sorted = [...requests].sort((a, b) => a.arrival - b.arrival);
  const seen = new Map<string, string>();
  const toCancel: string[] = [];
  const missed: string[] = [];
  const check = (step: StepResult) => {
    for (const l of scheduler.allLeases()) {
      const d = digest(l);
      if (seen.get(l.req.id) !== d && !step.changed.has(l)) missed.push(`${l.req.id} at ${step.now}: ${seen.get(l.req.id)} -> ${d}`);
      seen.set(l.req.id, d);
    }
  };
  let next = 0;
  for (let steps = 0; steps < 100_000; steps++) {
    const now = Math.min(next < sorted.length ? sorted[next].arrival : Infinity, scheduler.nextEventTime());
    if (now === Infinity) break;
    if (scheduler.time < now) check(scheduler.advance(now));
    for (const id of toCancel.splice(0)) scheduler.cancel(id, now);
    while (next < sorted.length && sorted[next].arrival === now) {
      const req = sorted[next++];
      scheduler.submit(req, now);
      if (next % cancelEvery === 0) toCancel.push(req.id);
    }
    check(scheduler.advance(now));
  }
  return missed;
}

test('every lease whose record changed is in the step\'s changed (generated streams, every kind, cancels)', () => {
  fc.assert(
    fc.property(scenarioArb(), fc.integer({ min: 2, max: 7 }), (s, cancelEvery) => {
      assert.deepEqual(unnamedChanges(s.nodes, s.requests, s.config, cancelEvery), [], describeScenario(s));
    }),
    { numRuns: 60 },
  );
});

test('every lease a reservation preempts is in the step\'s changed', () => {
  fc.assert(
    fc.property(preemptionScenarioArb(), (s) => {
      assert.deepEqual(unnamedChanges(s.nodes, s.requests, s.config, Infinity), [], describeScenario(s));
    }),
    { numRuns: 60 },
  );
});
