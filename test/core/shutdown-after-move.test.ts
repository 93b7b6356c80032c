// A lease whose work ends where its plan had it suspend, migrate and resume elsewhere shuts down
// on the nodes it leaves: its shutdown may use them only as long as its own plan held them there.
// Found by the schedule contract's property run: the plan went on without a gap on other nodes,
// so the shutdown was taken to fit, and it ran into an advance reservation's boot on a node the
// lease was leaving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';

const nodes: NodeSpec[] = ['n1', 'n2', 'n3'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }));
const small = { cpu: 0.25, memoryMiB: 256, diskMiB: 0 };

test('a lease that ends where it was to move shuts down within what it held on the nodes it leaves', () => {
  // Suspending 1024 MiB at 200 MB/s takes 6 s, a shutdown 8 s; migration and resumption are free.
  const config = configWith({
    backfill: 'easy', preemption: 'suspend', suspendRateMBps: 200, resumeRateMBps: Infinity, migration: true, migrateBandwidthMBps: Infinity,
    images: 'predeployed', imageBandwidthMBps: Infinity, bootSeconds: 24, shutdownSeconds: 8, suspendThresholdFactor: 0,
  });
  const requests: LeaseRequest[] = [
    { id: 'ar1', kind: 'exact', arrival: 0, requestedStart: 55, duration: 1, realDuration: 1, nodes: 2, perNode: small, preemptible: false },
    { id: 'ar2', kind: 'exact', arrival: 0, requestedStart: 95, duration: 1, realDuration: 1, nodes: 1, perNode: small, preemptible: false },
    // Planned to run 1 s, suspend for ar1, run 1 s more on n3+n1, suspend again and move to n3+n2 for ar2's sake; it ends after those 2 s.
    { id: 'dl', kind: 'deadline', arrival: 0, requestedStart: null, duration: 68, realDuration: 2, nodes: 2, perNode: { ...small, memoryMiB: 1024 }, preemptible: true, deadline: 145 },
  ];
  const scheduler = simulate({ requests, nodes, config });
  const dl = scheduler.lease('dl')!;
  const last = dl.history[dl.history.length - 1];
  assert.equal(last.kind, 'shutdown');
  assert.ok(last.nodes.includes(0), 'the lease ends on n1, where ar2 boots at 71');
  assert.equal(last.end <= 71, true, `the shutdown ends by 71, where ar2 boots on n1: ${JSON.stringify(dl.history.map((s) => [s.kind, s.start, s.end]))}`);
  assert.deepEqual(checkSchedule([...scheduleLines(scheduler.allLeases(), nodes)], { runtimeOverheadPercent: 0, drained: true }), []);
});
