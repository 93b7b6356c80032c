// A running lease moved to other nodes while it runs (a live migration): the scheduler agrees only
// when the destination has room for the rest of its chain, and the schedule stays sound.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { assertRefused, mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

test('a running lease moves live to a free node: its run goes on there, and it completes with its whole run', () => {
  const scheduler = new Scheduler([node('n1'), node('n2')], configWith({ shutdownSeconds: 5 }));
  scheduler.advance(0);
  scheduler.submit({ id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode: whole, preemptible: true }, 0);
  scheduler.advance(0);
  assert.deepEqual(scheduler.lease('be')!.chain.map((s) => s.nodes), [[0], [0]]);
  scheduler.advance(40);
  assertRefused(scheduler.liveMigrationRefusal('be', [0], 40), 'invalid', /^lease 'be' already runs on node 'n1'/);
  assertRefused(scheduler.liveMigrationRefusal('be', [1, 0], 40), 'invalid', /^lease 'be' runs on 1 node\(s\): name as many to move to, not 2$/);
  assertRefused(scheduler.liveMigrationRefusal('nobody', [1], 40), 'not-found', /no lease nobody/);
  assert.deepEqual(scheduler.migrateLive('be', [1], 40), { ok: true });
  const lease = scheduler.lease('be')!;
  assert.deepEqual(lease.chain.map((s) => [s.kind, s.start, s.end, s.nodes]), [['run', 40, 100, [1]], ['shutdown', 100, 105, [1]]]);
  assert.equal(lease.migrations, 1);
  for (let t = scheduler.nextEventTime(); t !== Infinity; t = scheduler.nextEventTime()) scheduler.advance(t);
  assert.equal(lease.state, 'completed');
  assert.deepEqual(lease.history.filter((s) => s.kind === 'run').map((s) => [s.start, s.end, s.nodes]), [[0, 40, [0]], [40, 100, [1]]]);
  const lines = [...scheduleLines(scheduler.allLeases(), [node('n1'), node('n2')])];
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
});

test('a lease does not move live to a node that is taken later in its run, nor when it is not running', () => {
  const scheduler = new Scheduler([node('n1'), node('n2')], configWith({}));
  scheduler.advance(0);
  scheduler.submit({ id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode: whole, preemptible: true }, 0);
  scheduler.submit({ id: 'ar', kind: 'exact', arrival: 0, requestedStart: 60, duration: 10, nodes: 1, perNode: whole, preemptible: false }, 0);
  scheduler.advance(0);
  const arNode = scheduler.lease('ar')!.chain[0].nodes[0];
  const beNode = scheduler.lease('be')!.chain[0].nodes[0];
  assert.notEqual(arNode, beNode);
  scheduler.advance(10);
  assertRefused(scheduler.liveMigrationRefusal('be', [arNode], 10), 'insufficient-capacity', /has no room for lease 'be' from 10 to 100/);
  assertRefused(scheduler.migrateLive('be', [arNode], 10), 'insufficient-capacity', /has no room/);
  assertRefused(scheduler.liveMigrationRefusal('ar', [beNode], 10), 'policy', /lease 'ar' is exact: only best-effort and deadline leases migrate/);
  assert.equal(scheduler.lease('be')!.chain[0].nodes[0], beNode);
});

test('whatever runs, a live migration the scheduler agrees to keeps the schedule sound', () => {
  let migrated = 0;
  fc.assert(
    fc.property(scenarioArb({ pool: { minNodes: 3 }, stream: { kinds: ['best-effort', 'best-effort', 'deadline', 'exact'] } }), fc.integer({ min: 1, max: 4000 }), fc.nat(), fc.nat(), (s, t, pickLease, pickNodes) => {
      // Driven by hand after t, so nothing ends early: each lease runs the time it asked for.
      const requests = s.requests.map((r) => ({ ...r, realDuration: r.duration }));
      const scheduler = simulate({ requests, nodes: s.nodes, config: s.config, until: t });
      const running = scheduler.allLeases().filter((l) => l.chain.some((x) => x.kind === 'run' && x.active && x.start < t));
      if (running.length === 0) return;
      const lease = running[pickLease % running.length];
      const width = lease.chain.find((x) => x.kind === 'run' && x.active)!.nodes.length;
      const others = s.nodes.map((_, i) => i).filter((i) => !lease.chain.some((x) => x.nodes.includes(i)));
      if (others.length < width) return;
      const start = pickNodes % others.length;
      const to = [...others.slice(start), ...others.slice(0, start)].slice(0, width);
      if (scheduler.liveMigrationRefusal(lease.req.id, to, t) !== null) return;
      const workBefore = lease.work;
      mustDo(scheduler.migrateLive(lease.req.id, to, t));
      migrated++;
      for (let now = scheduler.nextEventTime(); now !== Infinity; now = scheduler.nextEventTime()) scheduler.advance(now);
      const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], describeScenario({ ...s, requests }));
      assert.equal(lease.work, workBefore);
    }),
    { numRuns: 600 },
  );
  assert.ok(migrated > 20, `only ${migrated} of 600 runs migrated a lease: the property says little`);
});
