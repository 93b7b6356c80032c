// A pool split into cells: each cell a pool of its own (its own scheduler, as a site past one
// leader runs a leader and store per cell), behind a front that routes each lease to one of them.
// Here: which nodes each cell gets, and whether a cell can ever hold a request.

import type { LeaseRequest, NodeSpec } from '../core/types.ts';

/** How the front chooses a cell for each arriving lease (cell-front.ts). */
export const FRONT_POLICIES = ['earliest-start', 'earliest-quote', 'least-loaded', 'round-robin'] as const;
export type FrontPolicy = (typeof FRONT_POLICIES)[number];

export interface CellsSpec {
  /** Nodes per cell, in cell order; they add up to the pool's. */
  sizes: readonly number[];
  front: FrontPolicy;
}

export interface CellFigures {
  nodes: number;
  /** Leases the front sent here. */
  routed: number;
  completed: number;
  rejected: number;
  meanWait: number;
  meanBoundedSlowdown: number;
  allBestEffort: number;
  utilization: number;
}

/** The `cells` block of vws sim's metrics. */
export interface CellsMetrics {
  front: FrontPolicy;
  sizes: number[];
  /** Leases larger than every cell, refused by the front (also counted in `rejected`). */
  tooLarge: number;
  perCell: CellFigures[];
}

/** `total` nodes in `count` cells as even as can be, the first cells one larger where it does not divide. */
export function evenCells(total: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`cells must be a positive integer, got ${count}`);
  if (count > total) throw new RangeError(`${count} cells is more than the pool's ${total} nodes: each cell needs at least one node; give at most ${total}`);
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

/**
 * The pool's nodes cut into consecutive runs of `sizes`: the cells' node ids stay the pool's
 * (n1..nN), distinct across cells, so the cells' schedules make one export of the whole pool.
 */
export function splitNodes(nodes: readonly NodeSpec[], sizes: readonly number[]): NodeSpec[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== nodes.length) throw new RangeError(`cell sizes ${sizes.join(',')} add up to ${total} nodes; the pool has ${nodes.length}`);
  let from = 0;
  return sizes.map((size) => nodes.slice(from, (from += size)));
}

/**
 * Whether a cell has enough nodes of the request's shape ever to run it (for a cluster: each role
 * by itself; the cell's scheduler refuses a cluster whose roles cannot share its nodes).
 */
export function cellHolds(nodes: readonly NodeSpec[], req: LeaseRequest): boolean {
  const fitting = (cpu: number, memoryMiB: number): number => nodes.filter((n) => n.cpu >= cpu && n.memoryMiB >= memoryMiB).length;
  if (req.roles) return req.roles.every((r) => r.count <= fitting(r.perNode.cpu, r.perNode.memoryMiB));
  return req.nodes <= fitting(req.perNode.cpu, req.perNode.memoryMiB);
}
