import type { LeaseRecord } from '../core/lease-record.ts';
import type { NodeSpec } from '../core/types.ts';

/** The metrics object of `vws sim --json` (DESIGN.md, "Contracts"). */
export interface SimMetrics {
  leases: number;
  completed: number;
  rejected: number;
  allBestEffort: number;
  meanWait: number;
  meanBoundedSlowdown: number;
  utilization: number;
  suspensions: number;
  migrations: number;
  preemptions: number;
  wallSeconds: number;
}

const RAMP_UP_FRACTION = 0.05;
const SLOWDOWN_BOUND = 10;

/** Computes the contract metrics; waits and slowdowns leave out the first 5% of best-effort leases by arrival. */
export function computeMetrics(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[], wallSeconds: number): SimMetrics {
  let completed = 0;
  let rejected = 0;
  let allBestEffort = 0;
  let suspensions = 0;
  let migrations = 0;
  let preemptions = 0;
  let runCpuSeconds = 0;
  let lastEnd = 0;
  const bestEffort: LeaseRecord[] = [];
  let counted = 0;
  for (const l of leases) {
    if (l.state === 'expanded') continue;
    counted++;
    if (l.state === 'completed') completed++;
    if (l.state === 'rejected') rejected++;
    suspensions += l.suspensions;
    migrations += l.migrations;
    preemptions += l.preemptions;
    for (const s of l.history) {
      lastEnd = Math.max(lastEnd, s.end);
      if (s.kind === 'run') runCpuSeconds += (s.end - s.start) * s.nodes.length * s.cpu;
    }
    if (l.req.kind === 'best-effort' && l.state === 'completed') {
      bestEffort.push(l);
      allBestEffort = Math.max(allBestEffort, l.endedAt!);
    }
  }
  bestEffort.sort((a, b) => a.req.arrival - b.req.arrival || a.seq - b.seq);
  const measured = bestEffort.slice(Math.floor(bestEffort.length * RAMP_UP_FRACTION));
  let waitSum = 0;
  let slowdownSum = 0;
  for (const l of measured) {
    waitSum += l.firstStart! - l.req.arrival;
    const dedicated = Math.min(l.req.realDuration ?? l.req.duration, l.req.duration);
    slowdownSum += (l.endedAt! - l.req.arrival) / Math.max(dedicated, SLOWDOWN_BOUND);
  }
  const poolCpu = nodes.reduce((a, n) => a + n.cpu, 0);
  return {
    leases: counted,
    completed,
    rejected,
    allBestEffort,
    meanWait: measured.length ? waitSum / measured.length : 0,
    meanBoundedSlowdown: measured.length ? slowdownSum / measured.length : 0,
    utilization: lastEnd > 0 ? runCpuSeconds / (poolCpu * lastEnd) : 0,
    suspensions,
    migrations,
    preemptions,
    wallSeconds,
  };
}
