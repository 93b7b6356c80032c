// A pool whose next event, named once, is an instant whose segments have moved (boundaries.ts keeps
// it so): L1, planned to run until 167, has its work done at 141 and shuts down until 168. Stepped
// at 167, the pool sends L4's image (1 s) and starts L4 at 168, between L1's shutdown and L5's boot
// at 225; not stepped there, L4 waits until 397. Found by test/sim/burst.test.ts (seed 946995798).

import { configWith, type SchedulerConfig } from '../../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../../src/core/types.ts';

export const MOVED_END = { leaseEndingEarly: 'L1', earlyEnd: 141, movedEnd: 167, waiting: 'L4', startWhenSteppedThere: 168 } as const;

export function movedEndScenario(): { nodes: NodeSpec[]; config: SchedulerConfig; requests: LeaseRequest[] } {
  const lease = (id: string, kind: LeaseRequest['kind'], duration: number, cpu: number, memoryMiB: number, more: Partial<LeaseRequest> = {}): LeaseRequest => ({
    id, kind, arrival: 0, requestedStart: null, duration, realDuration: duration, nodes: 1, perNode: { cpu, memoryMiB, diskMiB: 0 }, preemptible: false, ...more,
  });
  const image = { id: 'img-a', sizeMiB: 100 };
  return {
    nodes: [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }],
    config: configWith({ images: 'transfer', imageBandwidthMBps: 1000, imageCacheMiB: 0, bootSeconds: 29, shutdownSeconds: 27 }),
    requests: [
      lease('L1', 'best-effort', 27, 0.25, 256, { realDuration: 1 }),
      lease('L2', 'best-effort', 59, 0.25, 256),
      lease('L3', 'urgent', 54, 1, 256, { image }),
      lease('L4', 'best-effort', 1, 0.25, 1024, { image }),
      lease('L5', 'periodic', 1, 0.25, 1024, { requestedStart: 254, recurrence: { period: 61, count: 1, acceptPartial: false } }),
    ],
  };
}
