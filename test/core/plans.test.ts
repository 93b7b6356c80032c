// Plan, then apply: a quote is the plan not applied; submitting a request with the plan it was
// quoted applies exactly that plan, computed once; a plan made before the state changed is never
// applied (the request is planned again).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { PlanHarness } from './support/plan-harness.ts';

const NODES: NodeSpec[] = [1, 2].map((i) => ({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
const exact = (id: string, start: number, nodes: number, duration = 3600): LeaseRequest =>
  ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration, nodes, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: false });

test('applying the quoted plan gives the same decisions and schedule as submitting the request and advancing', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 25 } }), (s) => {
      const quoted = new PlanHarness(s.nodes, s.config);
      const plain = new PlanHarness(s.nodes, s.config);
      const quotedLines = quoted.run(structuredClone(s.requests), true);
      const plainLines = plain.run(structuredClone(s.requests), false);
      assert.deepEqual(quoted.decisions, plain.decisions, describeScenario(s));
      assert.deepEqual(quotedLines, plainLines, describeScenario(s));
      // Computed once: each request's plan was made when it was quoted, and that very plan applied.
      const quotes = quoted.planned.filter((p) => quoted.applied.includes(p));
      assert.equal(quotes.length, s.requests.length, describeScenario(s));
      assert.equal(quoted.applied.length, s.requests.length);
      assert.equal(quoted.planned.length, s.requests.length, 'no request was planned a second time');
    }),
    { numRuns: 150 },
  );
});

test('a quote changes nothing: the plan is captured, not applied', () => {
  const h = new PlanHarness(NODES, configWith({}));
  h.scheduler.advance(0);
  const version = h.scheduler.version;
  const plan = h.quote(exact('a', 600, 2), 0);
  assert.equal(plan.ok, true);
  assert.ok(plan.ok && plan.placement.kind === 'reservation');
  const r = plan.ok && plan.placement.kind === 'reservation' ? plan.placement.reservation : null;
  assert.deepEqual(r!.chain.segments.map((x) => [x.kind, x.start, x.end, [...x.nodes]]), [['run', 600, 4200, [0, 1]]]);
  assert.deepEqual([plan.at, plan.version], [0, version]);
  assert.equal(h.scheduler.version, version);
  assert.equal(h.scheduler.lease('a'), undefined);
  assert.deepEqual(h.applied, []);
});

test('a plan made before the state changed is not applied: the request is planned again', () => {
  const h = new PlanHarness(NODES, configWith({}));
  h.scheduler.advance(0);
  const stale = h.scheduler.plan(exact('a', 600, 2), 0);
  assert.equal(stale.ok, true);
  // Another lease takes one of the two nodes over the same window.
  h.scheduler.submit(exact('b', 600, 1), 0);
  h.scheduler.advance(0);
  h.scheduler.submit(exact('a', 600, 2), 0, stale);
  const decision = h.scheduler.advance(0).decisions.find((d) => d.leaseId === 'a')!;
  assert.equal(decision.ok, false, 'planned again, it no longer fits');
  assert.ok(!h.applied.includes(stale));
  assert.equal(h.scheduler.table.reservationsOn(0).length + h.scheduler.table.reservationsOn(1).length, 1, 'only b holds nodes');
});

test('a plan for another request (same id, other terms) is not applied', () => {
  const h = new PlanHarness(NODES, configWith({}));
  h.scheduler.advance(0);
  const forOne = h.scheduler.plan(exact('a', 600, 1), 0);
  h.scheduler.submit(exact('a', 600, 2), 0, forOne);
  const decision = h.scheduler.advance(0).decisions[0];
  assert.deepEqual(decision.ok && decision.nodes, [0, 1]);
  assert.ok(!h.applied.includes(forOne));
});

test('a hold applies the plan it was quoted', () => {
  const h = new PlanHarness(NODES, configWith({}));
  h.scheduler.advance(0);
  const req = exact('a', 600, 1);
  const plan = h.scheduler.plan(req, 0);
  const held = h.scheduler.hold(req, 0, 60, plan);
  assert.deepEqual([held.ok, held.ok && held.state], [true, 'held']);
  assert.deepEqual(h.applied, [plan]);
  assert.equal(h.planned.length, 1);
});
