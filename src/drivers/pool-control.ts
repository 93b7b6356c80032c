// What a driver whose nodes join and leave by themselves (node agents dialling in) asks of the
// service above it. The service implements it; the driver sees only this, so drivers stay below
// control in the layers and never import the service.

import type { CostFigures } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import type { NodeSpec } from '../core/types.ts';
import type { NodeEstimate } from './driver.ts';

export interface PoolControl {
  /** A node the pool has never had joins it, unless the service refuses it (and says why). */
  addNode(spec: NodeSpec): Promise<{ ok: true } | { ok: false; code: string; message: string }>;
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
