import { parentPort } from 'node:worker_threads';
import { runExperiment } from '../src/sim/experiment.ts';
import { writeSchedule } from '../src/sim/schedule-export.ts';
import type { RunJob } from './run-pool.ts';

parentPort!.on('message', async (job: RunJob) => {
  try {
    const { metrics, scheduler, nodes } = runExperiment(job.spec);
    if (job.schedulePath) writeSchedule(job.schedulePath, scheduler.allLeases(), nodes);
    parentPort!.postMessage({ ok: true, result: { metrics, peakRssMiB: process.memoryUsage().rss / 2 ** 20 } });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
