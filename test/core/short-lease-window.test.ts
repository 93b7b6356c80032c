// A preemptible best-effort lease may be placed cut short by a suspension only if it runs long
// enough to make the suspension worth it (the threshold); a lease that fits whole needs no
// suspension at all. Found on the whole SDSC log: a window that held a short lease whole was passed
// over because it was shorter than the threshold of a worthwhile cut.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { simulate } from '../../src/sim/simulator.ts';

const ONE_NODE: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };

test('a short preemptible lease takes a window that holds it whole, however long a worthwhile cut would be', () => {
  // Suspending or resuming 1024 MiB at 1 MB/s takes 1024 s: a cut is worth it only for runs of a few thousand seconds.
  const config = configWith({ suspendRateMBps: 1, resumeRateMBps: 1, suspendThresholdFactor: 1 });
  const requests: LeaseRequest[] = [
    { id: 'ar', kind: 'exact', arrival: 0, requestedStart: 200, duration: 100, nodes: 1, perNode, preemptible: false },
    { id: 'short', kind: 'best-effort', arrival: 10, requestedStart: null, duration: 60, nodes: 1, perNode, preemptible: true },
  ];
  const scheduler = simulate({ requests, nodes: ONE_NODE, config });
  const short = scheduler.lease('short')!;
  assert.equal(scheduler.costs.suspendThreshold(short.req, false) > 200, true, 'the window before the reservation is shorter than the threshold');
  assert.deepEqual(short.history.map((s) => [s.kind, s.start, s.end]), [['run', 10, 70]]);
});
