import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ExperimentSpec } from '../src/sim/experiment.ts';
import type { SimMetrics } from '../src/sim/metrics.ts';
import type { WorkBound } from '../src/sim/work-bound.ts';

export interface RunResult {
  metrics: SimMetrics;
  peakRssMiB: number;
  scheduleViolations?: string;
  /** With job.bound: src/sim/work-bound.ts over the leases the run accepted. */
  bound?: WorkBound;
}

export interface RunJob {
  spec: ExperimentSpec;
  /** Where to write the schedule export, if anywhere. */
  schedulePath?: string;
  /** Also compute the work bound of what the run accepted. */
  bound?: boolean;
}

/** Runs simulations on worker threads, one per core, and returns results in job order. */
export async function runAll(jobs: readonly RunJob[], threads = availableParallelism(), onDone?: (done: number, total: number) => void): Promise<RunResult[]> {
  const results: RunResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    const w = new Worker(new URL('./sim-worker.mjs', import.meta.url));
    try {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await new Promise<RunResult>((resolve, reject) => {
          const onMessage = (m: { ok: boolean; result?: RunResult; error?: string }): void => {
            w.off('error', reject);
            if (m.ok) resolve(m.result!);
            else reject(new Error(m.error));
          };
          w.once('message', onMessage);
          w.once('error', reject);
          w.postMessage(jobs[i]);
        });
        onDone?.(++done, jobs.length);
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(threads, jobs.length) }, worker));
  return results;
}
