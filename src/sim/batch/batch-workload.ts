// Batch jobs from an SWF log, by the traces' conventions (shared/traces/README.md): what the SWF
// reader makes leases of (cancelled-while-queued jobs and jobs with no requested time left out;
// run time at least 1 s, at most the requested time) becomes a batch job of the same nodes.

import type { LeaseRequest } from '../../core/types.ts';
import { readWorkload, TraceError } from '../readers/index.ts';
import type { BatchJob } from './batch-cluster.ts';

export function batchJobsOf(leases: readonly LeaseRequest[]): BatchJob[] {
  return leases.map((l) => ({ id: l.id, submit: l.arrival, nodes: l.nodes, requested: l.duration, runtime: Math.min(l.realDuration ?? l.duration, l.duration) }));
}

/** The batch jobs of an SWF file (.swf or .swf.gz), each asking for at most `clusterNodes` nodes. */
export function readBatchJobs(path: string, clusterNodes: number): BatchJob[] {
  if (!/\.swf(\.gz)?$/i.test(path)) throw new TraceError(path, null, 'a batch workload is an SWF log', 'give a .swf or .swf.gz file');
  const jobs = batchJobsOf(readWorkload(path).leases);
  const big = jobs.find((j) => j.nodes > clusterNodes);
  if (big) throw new TraceError(path, null, `job ${big.id} asks for ${big.nodes} nodes, more than the cluster's ${clusterNodes}`, 'give the cluster more nodes, or leave such jobs out of the log');
  return jobs;
}
