// The metrics of a pool split into cells: the one-pool metrics over every cell's leases and nodes,
// and each cell's own.

import type { LeaseRecord } from '../core/lease-record.ts';
import type { NodeSpec } from '../core/types.ts';
import type { CellsRun } from './cell-simulation.ts';
import type { CellFigures, FrontPolicy } from './cells.ts';
import { computeMetrics, type SimMetrics } from './metrics.ts';

/** Every cell's leases, cell by cell, each in submission order: the order the export writes them, which breaks ties in arrival. */
export function cellsLeases(run: CellsRun): LeaseRecord[] {
  return run.cells.flatMap((c) => c.scheduler.allLeases());
}

export function cellsMetrics(run: CellsRun, nodes: readonly NodeSpec[], front: FrontPolicy, wallSeconds: number): SimMetrics {
  // Scoped to the whole pool, so that ties in arrival go by position in cellsLeases, as in the export.
  const metrics = computeMetrics(cellsLeases(run), nodes, wallSeconds, { onPool: () => true });
  const perCell = run.cells.map((c): CellFigures => {
    const m = computeMetrics(c.scheduler.allLeases(), c.nodes, wallSeconds);
    return {
      nodes: c.nodes.length, routed: run.routed[c.index], completed: m.completed, rejected: m.rejected,
      meanWait: m.meanWait, meanBoundedSlowdown: m.meanBoundedSlowdown, allBestEffort: m.allBestEffort, utilization: m.utilization,
    };
  });
  return { ...metrics, cells: { front, sizes: run.cells.map((c) => c.nodes.length), tooLarge: run.tooLarge, perCell } };
}
