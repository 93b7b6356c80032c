import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { runExperiment } from '../src/sim/experiment.ts';
import { scheduleLines } from '../src/sim/schedule-export.ts';
import type { RunJob } from './run-pool.ts';

parentPort!.on('message', async (job: RunJob) => {
  try {
    const { metrics, scheduler, nodes } = runExperiment(job.spec);
    if (job.schedulePath) {
      const out = createWriteStream(job.schedulePath);
      for (const line of scheduleLines(scheduler.allLeases(), nodes)) if (!out.write(`${line}\n`)) await once(out, 'drain');
      out.end();
      await once(out, 'finish');
    }
    parentPort!.postMessage({ ok: true, result: { metrics, peakRssMiB: process.memoryUsage().rss / 2 ** 20 } });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
