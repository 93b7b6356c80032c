// EASY's one future reservation is left where it is, instead of being dropped and placed again,
// when QueuePlacement.staysPut says placing it again would put it in the same place. That must never
// change a schedule: runs with the shortcut and runs that always place again export the same lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { QueuePlacement } from '../../src/core/queue-placement.ts';
import { configArb, describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { runScenario } from './support/run.ts';

const staysPut = QueuePlacement.prototype.staysPut;

/** Runs the scenario with the shortcut, counting how often it kept a reservation, and without it. */
function bothWays(s: Scenario): { kept: number; withShortcut: string[]; without: string[] } {
  let kept = 0;
  QueuePlacement.prototype.staysPut = function (...args: Parameters<typeof staysPut>): boolean {
    const stays = staysPut.apply(this, args);
    if (stays) kept++;
    return stays;
  };
  try {
    const withShortcut = runScenario(structuredClone(s)).lines;
    QueuePlacement.prototype.staysPut = () => false;
    const without = runScenario(structuredClone(s)).lines;
    return { kept, withShortcut, without };
  } finally {
    QueuePlacement.prototype.staysPut = staysPut;
  }
}

test('keeping EASY\'s reservation in place gives the schedule that placing it again gives', () => {
  let kept = 0;
  const easy = configArb({ backfill: fc.constant('easy') });
  fc.assert(
    fc.property(
      fc.oneof(
        scenarioArb({ config: easy, stream: { minLeases: 10, maxLeases: 60, kinds: ['best-effort', 'best-effort', 'best-effort', 'best-effort', 'exact'] } }),
        scenarioArb({ config: easy, stream: { maxLeases: 40 } }),
      ),
      (s) => {
        const run = bothWays(s);
        kept += run.kept;
        assert.deepEqual(run.withShortcut, run.without, describeScenario(s));
      },
    ),
    { numRuns: 300 },
  );
  // The property says nothing if the shortcut was never taken.
  assert.ok(kept > 20, `the shortcut kept a reservation only ${kept} times in 300 scenarios`);
});

test('a lease that ran before (suspended, resuming in 0 s) is placed again, as it was placed under its own rules', () => {
  // Found by the property above: L4 resumes on its own nodes only (no migration); its chain starts with a run.
  const s: Scenario = {
    nodes: [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 40000 }, { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 40000 }, { id: 'n3', cpu: 2, memoryMiB: 1024, diskMiB: 40000 }],
    requests: [
      { id: 'L1', kind: 'periodic', arrival: 0, requestedStart: 1, duration: 3, realDuration: 3, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false, recurrence: { period: 1361, count: 2, acceptPartial: false } },
      { id: 'L2', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1300, realDuration: 1300, nodes: 1, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L3', kind: 'best-effort', arrival: 1360, requestedStart: null, duration: 4, realDuration: 4, nodes: 1, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L4', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1297, realDuration: 1297, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: true },
      { id: 'L5', kind: 'deadline', arrival: 0, requestedStart: 1361, duration: 2, realDuration: 2, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false, deadline: 1364 },
      { id: 'L6', kind: 'periodic', arrival: 0, requestedStart: 0, duration: 1, realDuration: 1, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false, recurrence: { period: 1364, count: 2, acceptPartial: false } },
      { id: 'L7', kind: 'best-effort', arrival: 1360, requestedStart: null, duration: 2, realDuration: 1, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false },
      { id: 'L8', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 2, realDuration: 1, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L9', kind: 'exact', arrival: 0, requestedStart: 1365, duration: 1, realDuration: 1, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
    ],
    config: { backfill: 'easy', preemption: 'suspend', suspendRateMBps: 50, resumeRateMBps: Infinity, migration: false, migrateBandwidthMBps: Infinity, images: 'predeployed', imageBandwidthMBps: Infinity, imageCacheMiB: 0, runtimeOverheadPercent: 5, bootSeconds: 0, shutdownSeconds: 0, suspendThresholdFactor: 0, preemptionPolicy: 'youngest-first', urgentPreemptionPolicy: 'youngest-first', suspendedQueueOrder: 'arrival' },
  };
  const run = bothWays(s);
  assert.deepEqual(run.withShortcut, run.without);
});
