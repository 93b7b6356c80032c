// Counterexamples the change property found, written down as plain examples.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith, type SchedulerConfig } from '../../src/core/config.ts';
import type { LeaseChange } from '../../src/core/change-plan.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { Driver } from './support/hand-driver.ts';
import { checkSchedule } from './support/schedule-checker.ts';

const nodes: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
const perNode = { cpu: 1, memoryMiB: 512, diskMiB: 0 };
const bestEffort = (id: string, duration: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, nodes: 1, perNode, preemptible: true });
const exact = (id: string, arrival: number, start: number, duration: number): LeaseRequest => ({ id, kind: 'exact', arrival, requestedStart: start, duration, nodes: 1, perNode, preemptible: false });

/** Runs the requests, making each change at its instant, and returns the export and what the checker says of it. */
function run(requests: LeaseRequest[], config: Partial<SchedulerConfig>, changes: { at: number; id: string; change: LeaseChange }[]) {
  const d = new Driver({ nodes, requests, config: configWith(config) });
  for (const c of changes) {
    d.runTo(c.at);
    assert.ok(d.scheduler.change(c.id, c.change, c.at).ok, `change ${JSON.stringify(c)} refused`);
    d.scheduler.advance(c.at);
  }
  d.runUntilIdle();
  const lines = [...scheduleLines(d.scheduler.allLeases(), nodes)];
  return { lines, violations: checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }) };
}

// L1 ran 1 s of its 2 when the reservation at 1 took its node (its attempt lost); its owner then
// shortened it to 1 s. The attempt was exported with the lease's new duration as its real one, so
// that it seemed to have run all its work and been run again for nothing.
test('an attempt lost before its lease was shortened keeps the duration it ran under', () => {
  const { lines, violations } = run([bestEffort('L1', 2), exact('L3', 1, 1, 1), exact('L2', 0, 3, 1)], { preemption: 'requeue' }, [{ at: 2, id: 'L1', change: { duration: 1 } }]);
  assert.deepEqual(violations, [], lines.join('\n'));
  const attempt = JSON.parse(lines.find((l) => l.includes('"L1/attempt-1"'))!);
  assert.deepEqual([attempt.duration, attempt.realDuration], [2, 2]);
  assert.equal(JSON.parse(lines.find((l) => l.includes('"id":"L1",'))!).duration, 1);
});

// L1's run ends at 2, where a reservation begins: the scheduler powered it off without its shutdown.
// A change of its duration to what it was then placed the whole shutdown again, over the reservation.
test('a change in place does not give a lease back the shutdown a reservation took', () => {
  const { lines, violations } = run([bestEffort('L1', 2), exact('L3', 1, 2, 1)], { preemption: 'requeue', shutdownSeconds: 1 }, [{ at: 1, id: 'L1', change: { duration: 2 } }]);
  assert.deepEqual(violations, [], lines.join('\n'));
  const l1 = JSON.parse(lines.find((l) => l.includes('"id":"L1",'))!);
  assert.deepEqual(l1.segments.map((s: { kind: string; start: number; end: number }) => [s.kind, s.start, s.end]), [['run', 0, 2]]);
});

// Shortened by more than its shutdown, it shuts down whole before the reservation.
test('a lease powered off for a reservation and shortened shuts down in the room the shortening leaves', () => {
  const { lines, violations } = run([bestEffort('L1', 4), exact('L3', 1, 4, 1)], { preemption: 'requeue', shutdownSeconds: 1 }, [{ at: 1, id: 'L1', change: { duration: 2 } }]);
  assert.deepEqual(violations, [], lines.join('\n'));
  const l1 = JSON.parse(lines.find((l) => l.includes('"id":"L1",'))!);
  assert.deepEqual(l1.segments.map((s: { kind: string; start: number; end: number }) => [s.kind, s.start, s.end]), [['run', 0, 2], ['shutdown', 2, 3]]);
});
