import type { ChangeFigures } from './workload-changes.ts';
import type { SimCharges } from './charges.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { NodeSpec } from '../core/types.ts';
import type { BurstMetrics } from './burst-metrics.ts';
import type { CellsMetrics } from './cells.ts';
import { pastRampUp, waitsOf } from './waits.ts';

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
  /** With bursting: where the leases went and what that cost (burst-metrics.ts). */
  burst?: BurstMetrics;
  /** With changes in the workload (LWF <change>): how many were asked for and made (workload-changes.ts). */
  changes?: ChangeFigures;
  /** What the site's terms charge for the leases' runs, in their unit (charges.ts). */
  charges?: SimCharges;
  /** With the pool split into cells: how, and each cell's figures (cells.ts). */
  cells?: CellsMetrics;
}

/**
 * A run where the pool is one back-end of several: utilization is the pool's own (its nodes, the
 * runs of leases it held), and waits break ties in arrival by position in the lease list, as the
 * export writes them (each back-end numbers its leases from 0).
 */
export interface PoolScope {
  onPool: (lease: LeaseRecord) => boolean;
}

/**
 * Computes the contract metrics; waits and slowdowns leave out the first 5% of best-effort leases
 * by arrival. `nodes`: the pool's (with `scope`, the other back-ends' are left out). `origin`:
 * where time began, utilization being over [origin, the last end] (a replayed log's instants are
 * epoch seconds; a trace's begin at 0).
 */
export function computeMetrics(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[], wallSeconds: number, scope?: PoolScope, origin = 0): SimMetrics {
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
    const onPool = scope === undefined || scope.onPool(l);
    for (const s of l.history) {
      lastEnd = Math.max(lastEnd, s.end);
      if (s.kind === 'run' && onPool) runCpuSeconds += (s.end - s.start) * s.nodes.length * s.cpu;
    }
    if (l.req.kind === 'best-effort' && l.state === 'completed') {
      bestEffort.push(l);
      allBestEffort = Math.max(allBestEffort, l.endedAt!);
    }
  }
  const measured = pastRampUp(bestEffort, scope !== undefined);
  const { meanWait, meanBoundedSlowdown } = waitsOf(measured);
  const poolCpu = nodes.reduce((a, n) => a + n.cpu, 0);
  return {
    leases: counted,
    completed,
    rejected,
    allBestEffort,
    meanWait,
    meanBoundedSlowdown,
    utilization: lastEnd > origin ? runCpuSeconds / (poolCpu * (lastEnd - origin)) : 0,
    suspensions,
    migrations,
    preemptions,
    wallSeconds,
  };
}
