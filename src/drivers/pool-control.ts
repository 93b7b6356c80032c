// What a driver whose nodes join and leave by themselves (node agents dialling in) asks of the
// service above it. The service implements it; the driver sees only this, so drivers stay below
// control in the layers and never import the service.

import type { CostFigures } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import type { NodeSpec, Resources } from '../core/types.ts';
import type { NodeEstimate } from './driver.ts';

type Answer<T = unknown> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** A lease that waits for nodes on the driver's back-end: placed nowhere yet, or only later than soon. */
export interface WaitingLease {
  id: string;
  nodes: number;
  perNode: Resources;
}

export interface PoolControl {
  /** A node the pool has never had joins it, unless the service refuses it (and says why); `pilot`: the batch job that lent it. */
  addNode(spec: NodeSpec, backend?: string, pilot?: string): Promise<Answer>;
  /**
   * The node leaves the pool at `at` (epoch seconds; null: it stays): what was planned there across
   * it makes way; `promptly`: it is wanted back now (no new work; its leases make way at once).
   */
  setNodeDeparture(id: string, at: number | null, promptly?: boolean): Promise<Answer>;
  /** No new leases on the node. */
  drainNode(id: string): Promise<Answer>;
  /** A drained node that holds nothing leaves the pool for good. */
  removeNode(id: string): Promise<Answer>;
  /** Whether the node holds no lease now or later (so that it may go). */
  nodeIsIdle(id: string): boolean;
  /** The leases of the back-end `backend` (the site's pool when absent) that wait for nodes, at `now` (within `soonSeconds` counts as placed). */
  waitingLeases(soonSeconds: number, backend?: string): WaitingLease[];
  /** A node that was lost is back; true if it had been marked unavailable. */
  markNodeAvailable(id: string): Promise<boolean>;
  /** A node is gone for longer than its grace: what became of its leases, or null if nothing changed. */
  markNodeUnavailable(id: string): Promise<NodeLoss | null>;
  /** Converge what runs with what should, now; given a node, what runs or should run there (after it came back with what it kept). */
  reconcileNow(node?: string): Promise<void>;
  /** The scheduler plans with these measured figures from now on, unless it refuses them (and says why). */
  setMeasuredCosts(figures: CostFigures): Promise<{ ok: true } | { ok: false; message: string }>;
  /** Where per-node measurements come from, for the API to show. */
  useNodeEstimates(of: (node: string) => NodeEstimate | null): void;
}
