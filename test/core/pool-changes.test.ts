// The pool changes under a running scheduler: nodes are added, and drained.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

test('a scheduler may start with no nodes; a lease too big for the pool fits once nodes are added', () => {
  const scheduler = new Scheduler([], configWith({}));
  scheduler.advance(0);
  const ask = (id: string): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: 100, duration: 10, nodes: 2, perNode: whole, preemptible: false });
  scheduler.submit(ask('a'), 0);
  const [refused] = scheduler.advance(0).decisions;
  assert.ok(!refused.ok && refused.reason === 'exceeds-pool');
  assert.equal(scheduler.addNode(node('n1'), 0), 0);
  assert.equal(scheduler.addNode(node('n2'), 0), 1);
  scheduler.submit(ask('b'), 0);
  const [accepted] = scheduler.advance(0).decisions;
  assert.ok(accepted.ok);
  assert.deepEqual(accepted.nodes, [0, 1]);
});

test('a drained node takes no new lease; best-effort leases planned there go back to the queue; it is idle once its leases end', () => {
  fc.assert(
    fc.property(scenarioArb({ pool: { minNodes: 2 }, stream: { kinds: ['best-effort', 'best-effort', 'exact', 'deadline'] } }), fc.integer({ min: 0, max: 4000 }), fc.nat(), (s, t, pick) => {
      const scheduler = simulate({ requests: s.requests.filter((r) => r.arrival <= t), nodes: s.nodes, config: s.config, until: t });
      const n = pick % s.nodes.length;
      // Leases already on their way to the node or running there when it is drained carry on.
      const alreadyThere = new Set(scheduler.allLeases().filter((l) => l.chain.some((x) => x.active && x.nodes.includes(n))).flatMap((l) => l.chain));
      const { requeued, stillPlanned } = mustDo(scheduler.closeNode(n, t));
      for (const id of requeued) assert.equal(scheduler.lease(id)!.chain.length, 0, `${id} was requeued: ${describeScenario(s)}`);
      for (let now = scheduler.nextEventTime(); now !== Infinity; now = scheduler.nextEventTime()) scheduler.advance(now);
      for (const l of scheduler.allLeases()) {
        if (stillPlanned.includes(l.req.id)) continue;
        for (const seg of l.history.filter((x) => !alreadyThere.has(x))) {
          const arrives = seg.kind === 'boot' || seg.kind === 'resume' || seg.kind === 'migrate' || (seg.kind === 'run' && l.history[0] === seg);
          assert.ok(!(arrives && seg.start > t && seg.nodes.includes(n)), `${l.req.id} came to drained node ${n} at ${seg.start} (${seg.kind}): ${describeScenario(s)}`);
        }
      }
      assert.ok(scheduler.nodeIsIdle(n), `node ${n} still holds ${JSON.stringify(scheduler.table.reservationsOn(n))}`);
    }),
    { numRuns: 200 },
  );
});

test('quote and placement never use a drained node', () => {
  const scheduler = new Scheduler([node('n1'), node('n2')], configWith({}));
  scheduler.advance(0);
  scheduler.closeNode(0, 0);
  const ask: LeaseRequest = { id: 'a', kind: 'exact', arrival: 0, requestedStart: 100, duration: 10, nodes: 2, perNode: whole, preemptible: false };
  const q = scheduler.quote(ask, 0);
  assert.ok(!q.ok && q.reason === 'exceeds-pool', JSON.stringify(q));
  scheduler.submit({ ...ask, nodes: 1 }, 0);
  const [d] = scheduler.advance(0).decisions;
  assert.ok(d.ok);
  assert.deepEqual(d.nodes, [1]);
});
