import { parentPort } from 'node:worker_threads';
import { runExperiment } from '../src/sim/experiment.ts';
import { writeSchedule } from '../src/sim/schedule-export.ts';
import type { RunJob } from './run-pool.ts';
import { workBound } from '../src/sim/work-bound.ts';
import type { LeaseRecord } from '../src/core/lease-record.ts';
import type { NodeSpec } from '../src/core/types.ts';
import type { SchedulerConfig } from '../src/core/config.ts';

/** The bound of what the run took: a reservation it turned down holds nothing, a lease it refused never runs. */
function acceptedBound(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[], config: SchedulerConfig) {
  return workBound(leases.filter((l) => l.state !== 'rejected').map((l) => l.req), nodes, config);
}

parentPort!.on('message', async (job: RunJob) => {
  try {
    const { metrics, scheduler, nodes } = runExperiment(job.spec);
    if (job.schedulePath) writeSchedule(job.schedulePath, scheduler.allLeases(), nodes);
    const bound = job.bound ? acceptedBound(scheduler.allLeases(), nodes, job.spec.config) : undefined;
    parentPort!.postMessage({ ok: true, result: { metrics, peakRssMiB: process.memoryUsage().rss / 2 ** 20, ...(bound ? { bound } : {}) } });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
