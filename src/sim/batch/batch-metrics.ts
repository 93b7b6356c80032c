// The batch jobs' waits, by the definitions the lease metrics use (shared/traces/README.md): wait =
// start - submission, bounded slowdown = (end - submission) / max(run time, 10 s), both leaving
// out the first 5% of jobs by submission (the ramp-up).

import type { JobRecord } from './batch-cluster.ts';

const RAMP_UP_FRACTION = 0.05;
const SLOWDOWN_BOUND = 10;

export interface BatchMetrics {
  jobs: number;
  meanWait: number;
  meanBoundedSlowdown: number;
  /** When the last batch job ended. */
  lastEnd: number;
  /** Run node-seconds of the batch jobs. */
  nodeSeconds: number;
  /** Batch jobs that waited for pilots to leave their nodes, and the longest such wait. */
  handovers: number;
  longestHandover: number;
}

export function batchMetrics(records: readonly JobRecord[]): BatchMetrics {
  const done = records.filter((r) => r.tier === 'batch' && r.end !== null).sort((a, b) => a.submit - b.submit);
  const measured = done.slice(Math.floor(done.length * RAMP_UP_FRACTION));
  let wait = 0;
  let slowdown = 0;
  for (const r of measured) {
    wait += r.start! - r.submit;
    slowdown += (r.end! - r.submit) / Math.max(r.end! - r.start!, SLOWDOWN_BOUND);
  }
  let handovers = 0;
  let longestHandover = 0;
  for (const r of done) {
    if (r.start! > r.decided!) handovers++;
    longestHandover = Math.max(longestHandover, r.start! - r.decided!);
  }
  return {
    jobs: done.length,
    meanWait: measured.length ? wait / measured.length : 0,
    meanBoundedSlowdown: measured.length ? slowdown / measured.length : 0,
    lastEnd: done.reduce((a, r) => Math.max(a, r.end!), 0),
    nodeSeconds: done.reduce((a, r) => a + (r.end! - r.start!) * r.nodes.length, 0),
    handovers,
    longestHandover,
  };
}
