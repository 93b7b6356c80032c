// Where a suspended lease's remainder queues again: by its arrival (the study's rule, the
// default) or behind everything that arrived before it was suspended.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith, type SuspendedQueueOrder } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { simulate } from '../../src/sim/simulator.ts';

const ONE_NODE: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
// No backfilling, so that 'late' holds no reservation of its own and only the queue order decides at 600.
const requests: LeaseRequest[] = [
  { id: 'early', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1000, nodes: 1, perNode, preemptible: true },
  { id: 'ar', kind: 'exact', arrival: 10, requestedStart: 500, duration: 100, nodes: 1, perNode, preemptible: false },
  { id: 'late', kind: 'best-effort', arrival: 20, requestedStart: null, duration: 100, nodes: 1, perNode, preemptible: true },
];

function firstRuns(order: SuspendedQueueOrder): Record<string, number[]> {
  const scheduler = simulate({ requests, nodes: ONE_NODE, config: configWith({ backfill: 'none', suspendRateMBps: Infinity, resumeRateMBps: Infinity, suspendedQueueOrder: order }) });
  const out: Record<string, number[]> = {};
  for (const l of scheduler.allLeases()) out[l.req.id] = l.history.filter((s) => s.kind === 'run').map((s) => s.start);
  return out;
}

test('by default a suspended lease resumes ahead of leases that arrived after it', () => {
  assert.deepEqual(firstRuns('arrival'), { early: [0, 600], ar: [500], late: [1100] });
});

test("with suspendedQueueOrder 'suspension' it queues behind leases that arrived before it was suspended", () => {
  assert.deepEqual(firstRuns('suspension'), { early: [0, 700], ar: [500], late: [600] });
});
