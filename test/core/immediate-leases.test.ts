// An immediate lease starts at its arrival or is rejected: "now or not at all".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { runScenario } from './support/run.ts';
import { parseSchedule } from './support/schedule-checker.ts';

test('immediate leases either start at their arrival, in one uninterrupted run, or are rejected', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { kinds: ['immediate', 'immediate', 'best-effort', 'exact'] } }), (s) => {
      const run = runScenario(s);
      const { leases } = parseSchedule(run.lines);
      const problems: string[] = [];
      for (const r of s.requests) {
        if (r.kind !== 'immediate') continue;
        const l = leases.find((x) => x.id === r.id)!;
        if (leases.some((x) => x.id.startsWith(`${r.id}/attempt-`))) problems.push(`${r.id}: an immediate lease was cancelled and re-queued`);
        if (l.outcome === 'rejected') {
          if (!['insufficient-capacity', 'exceeds-pool'].includes(l.reason ?? '')) problems.push(`${r.id}: rejected for ${l.reason}`);
          continue;
        }
        const first = Math.min(...l.segments.map((x) => x.start));
        const runs = l.segments.filter((x) => x.kind === 'run');
        if (first !== r.arrival) problems.push(`${r.id}: arrives at ${r.arrival} but its first segment starts at ${first}`);
        if (runs.length !== 1 || runs[0].start !== r.arrival + s.config.bootSeconds) {
          problems.push(`${r.id}: should run once from ${r.arrival + s.config.bootSeconds}, runs ${JSON.stringify(runs)}`);
        }
      }
      assert.deepEqual(problems, [], describeScenario(s));
    }),
    { numRuns: 500 },
  );
});

test('an immediate lease is decided at its arrival: accepted on a free pool, rejected on a full one', () => {
  const nodes = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const scheduler = new Scheduler(nodes, configWith({}));
  scheduler.submit({ id: 'a', kind: 'immediate', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode, preemptible: false }, 0);
  assert.deepEqual(scheduler.advance(0).decisions, [{ ok: true, leaseId: 'a', state: 'scheduled', start: 0, end: 100, nodes: [0], preempted: [] }]);
  scheduler.submit({ id: 'b', kind: 'immediate', arrival: 50, requestedStart: null, duration: 10, nodes: 1, perNode, preemptible: false }, 50);
  const [decision] = scheduler.advance(50).decisions;
  assert.equal(decision.ok, false);
  assert.equal(decision.ok === false && decision.reason, 'insufficient-capacity');
  assert.equal(scheduler.lease('b')!.history.length, 0);
});
