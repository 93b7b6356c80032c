// A lease that asks for more nodes than the pool can host (nodes with room for its per-node
// size) is rejected as 'exceeds-pool'; one the pool can host never is.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { describeScenario, mixedPoolArb, nodesThatFit, rawStreamArb, resolveStream, configArb } from './support/generators.ts';
import { runScenario } from './support/run.ts';

test("a lease is rejected as 'exceeds-pool' exactly when it asks for more nodes than can hold it", () => {
  const arb = fc
    .tuple(mixedPoolArb(), rawStreamArb({ exceedPercent: 25, largePercent: 40, maxLeases: 15 }), configArb())
    .map(([nodes, raw, config]) => ({ nodes, requests: resolveStream(nodes, raw), config }));
  fc.assert(
    fc.property(arb, (s) => {
      const run = runScenario(s);
      for (const r of s.requests) {
        const fit = nodesThatFit(s.nodes, r.perNode.cpu, r.perNode.memoryMiB);
        const reason = run.scheduler.lease(r.id)!.rejectReason;
        if (r.nodes > fit) assert.equal(reason, 'exceeds-pool', `${r.id} asks ${r.nodes} nodes, ${fit} can hold it; ${describeScenario(s)}`);
        else assert.notEqual(reason, 'exceeds-pool', `${r.id} asks ${r.nodes} nodes, ${fit} can hold it; ${describeScenario(s)}`);
      }
    }),
    { numRuns: 400 },
  );
});

test("the decision for a lease too large for the pool is { ok: false, reason: 'exceeds-pool' }, for every kind", () => {
  const nodes = [
    { id: 'n1', cpu: 4, memoryMiB: 4096, diskMiB: 0 },
    { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 0 },
    { id: 'n3', cpu: 1, memoryMiB: 1024, diskMiB: 0 },
  ];
  const scheduler = new Scheduler(nodes, configWith({}));
  const small = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const big = { cpu: 2, memoryMiB: 1024, diskMiB: 0 };
  const base = { arrival: 0, duration: 100, preemptible: true, requestedStart: null };
  scheduler.submit({ ...base, id: 'four-small', kind: 'best-effort', nodes: 4, perNode: small }, 0);
  scheduler.submit({ ...base, id: 'two-big', kind: 'immediate', nodes: 2, perNode: big }, 0);
  scheduler.submit({ ...base, id: 'two-big-ar', kind: 'exact', requestedStart: 10, nodes: 2, perNode: big }, 0);
  scheduler.submit({ ...base, id: 'one-big', kind: 'best-effort', nodes: 1, perNode: big }, 0);
  const decisions = scheduler.advance(0).decisions;
  const byId = new Map(decisions.map((d) => [d.leaseId, d]));
  for (const id of ['four-small', 'two-big', 'two-big-ar']) {
    const d = byId.get(id)!;
    assert.equal(d.ok, false, id);
    assert.equal(d.ok === false && d.reason, 'exceeds-pool', id);
    assert.equal(scheduler.lease(id)!.state, 'rejected');
  }
  assert.equal(byId.get('one-big')!.ok, true);
});
