// What becomes of a lease when a node is lost (its agent stayed away): the VMs on the node are
// gone with everything they held, so what matters is whether the lease had a VM there, or was
// only planned to come to it.

import { activePhase, clusterMemoryNodes, memberNodes } from './cluster-chain.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';

/** What the scheduler did to the leases of a node it lost. */
export interface NodeLoss {
  /** Best-effort leases that had VMs there, back in the queue: they start again from scratch. */
  restarted: string[];
  /** Best-effort leases only planned there, back in the queue with the work they had done. */
  requeued: string[];
  /** Leases that could not be kept: reservations whose VMs were there. */
  failed: string[];
  /** Leases whose work was done there, cut short in their shutdown: they are complete. */
  finished: string[];
  /**
   * Reservations only planned to come to the node later: they keep their plan for the node's
   * return, and fail if it is still lost when they are due to begin there.
   */
  waiting: string[];
  /** Reservations whose VMs were there, waiting for their owners to take an offer instead (renegotiation.ts). */
  renegotiating: string[];
}

export type LossOutcome = 'restart' | 'fail' | 'power-off' | 'unschedule' | 'wait' | 'untouched';

/**
 * The nodes holding a lease's VMs now: where it boots, runs, suspends or shuts down, and where its
 * saved memory is while it waits to resume (a migration under way holds both ends).
 */
export function nodesHoldingVms(lease: LeaseRecord): readonly number[] {
  const saved = lease.suspendedOn ?? lastSuspendNodes(lease);
  if (lease.req.roles) return clusterHolding(lease, saved);
  const seg = lease.chain.find((s) => s.active);
  if (seg) return seg.kind === 'migrate' && saved ? [...seg.nodes, ...saved] : seg.nodes;
  const waitsSuspended = lease.state === 'suspended' || (lease.state === 'scheduled' && lease.done > 0) || lease.parked;
  return waitsSuspended && saved ? saved : [];
}

/**
 * A lease with a VM on the lost node: a best-effort one starts again elsewhere (a suspended one's
 * saved memory was on a node too, and a resumed one's disk lives on where it runs, so none of its
 * work survives); one whose work is done is only powered off; any other kind promised its owner
 * an uninterrupted run, which cannot be kept, and fails. A lease merely planned there: a
 * best-effort one goes back to the queue, a reservation waits for the node.
 */
export function lossOutcome(lease: LeaseRecord, node: number): LossOutcome {
  if (nodesHoldingVms(lease).includes(node)) {
    if (remainingWork(lease) <= 0) return 'power-off';
    return lease.req.kind === 'best-effort' ? 'restart' : 'fail';
  }
  if (!lease.chain.some((s) => !s.active && s.nodes.includes(node))) return 'untouched';
  return lease.req.kind === 'best-effort' ? 'unschedule' : 'wait';
}

/** nodesHoldingVms of a cluster: the nodes of every role's active segment. */
function clusterHolding(lease: LeaseRecord, saved: readonly number[] | null): readonly number[] {
  const active = activePhase(lease);
  if (active.length > 0) return active[0].kind === 'migrate' && saved ? [...memberNodes(active), ...saved] : memberNodes(active);
  const waitsSuspended = lease.state === 'suspended' || (lease.state === 'scheduled' && lease.done > 0) || lease.parked;
  return waitsSuspended && saved ? saved : [];
}

function lastSuspendNodes(lease: LeaseRecord): readonly number[] | null {
  if (lease.req.roles) return clusterMemoryNodes(lease, Infinity);
  for (let i = lease.history.length - 1; i >= 0; i--) if (lease.history[i].kind === 'suspend') return lease.history[i].nodes;
  return null;
}
