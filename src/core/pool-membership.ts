// Which nodes take new work: nodes added, drained (closed), lost (their agents away) and regained.

import type { CoreState } from './core-state.ts';
import { DEPARTURE } from './segment.ts';
import { failLease, powerOffAt, restartLosingWork, unschedule } from './lease-lifecycle.ts';
import { breakPromise } from './promise-break.ts';
import { applyChange } from './change-apply.ts';
import { planPlacedAgain } from './lease-change.ts';
import type { Policies } from './request-planner.ts';
import { hasEnded, type LeaseRecord } from './lease-record.ts';
import { lossOutcome, type NodeLoss } from './node-loss.ts';
import { type Done, type NodeSpec, type Refusal, refusal } from './types.ts';

/** Adds a node; it takes leases from the next decision on. Returns its index (never reused). */
export function addNode(s: CoreState, spec: NodeSpec): number {
  const n = s.table.addNode(spec);
  s.images.addNode();
  s.mustReevaluate = true;
  return n;
}

function unknownNode(s: CoreState, n: number): Refusal | null {
  return n < 0 || n >= s.table.size || !Number.isInteger(n) ? refusal('not-found', `no node ${n} in a pool of ${s.table.size}`) : null;
}

/** What a drain did to the leases planned to come to the node. */
export interface Drained {
  /** Best-effort leases merely planned there: back in the queue. */
  requeued: string[];
  /** Other leases planned there, keeping their place (without evacuation, or where nothing else fits and the site does not renegotiate). */
  stillPlanned: string[];
  /** With evacuation: reservations not yet begun placed again, as they were, on other nodes. */
  moved: string[];
  /** With evacuation: those that fit nowhere else, renegotiating (renegotiation.ts). */
  renegotiating: string[];
}

/**
 * Drains node n: it takes no new leases; what runs there runs on. Best-effort leases merely
 * planned there go back to the queue; other leases planned there keep their place, and are
 * returned so that the caller can tell their owners, unless the node is `evacuated`: then each
 * that has not begun is placed again elsewhere, as it is, or renegotiates if nothing else fits.
 */
export function closeNode(s: CoreState, n: number, now: number, evacuate: { policies: Policies } | null = null): Done<Drained> {
  const unknown = unknownNode(s, n);
  if (unknown) return unknown;
  s.drained.add(n);
  s.table.close(n);
  const requeued: string[] = [];
  const stillPlanned: string[] = [];
  const moved: string[] = [];
  const renegotiating: string[] = [];
  // Leases due to arrive on the node later: to boot, resume or migrate there.
  const arriving = s.table.reservationsOn(n).filter((seg) => !seg.active && seg.start > now && seg.leaseId !== DEPARTURE && (seg.kind === 'boot' || seg.kind === 'resume' || seg.kind === 'migrate' || seg.kind === 'run'));
  for (const id of new Set(arriving.map((seg) => seg.leaseId))) {
    const lease = s.book.mustGet(id);
    const begun = lease.chain.length === 0 || lease.chain[0].active || lease.chain[0].start <= now;
    if (lease.req.kind === 'best-effort' && !begun) {
      unschedule(s, lease, now);
      requeued.push(id);
    } else if (lease.req.kind !== 'best-effort' && evacuate && !begun) {
      const plan = planPlacedAgain(s, lease, evacuate.policies);
      if (plan.ok) {
        applyChange(s, plan);
        moved.push(id);
      } else if (breakPromise(s, lease, now, 'node-drained', `node '${s.table.nodes[n].id}' is being emptied by its administrators, and the lease fits nowhere else as it is (${plan.message})`)) renegotiating.push(id);
      else stillPlanned.push(id);
    } else if (lease.req.kind !== 'best-effort') stillPlanned.push(id);
  }
  return { ok: true, requeued, stillPlanned, moved, renegotiating };
}

/**
 * Node n is lost: its VMs are gone with what they held, and it takes nothing new until
 * regainNode. Each lease that had a VM there, or planned to come to it, is dealt with by
 * lossOutcome (node-loss.ts); the queue pass of the next advance places the requeued ones.
 */
export function loseNode(s: CoreState, n: number, now: number): Done<NodeLoss> {
  const unknown = unknownNode(s, n);
  if (unknown) return unknown;
  const loss: NodeLoss = { restarted: [], requeued: [], failed: [], finished: [], waiting: [], renegotiating: [] };
  if (s.lost.has(n)) return { ok: true, ...loss };
  s.lost.add(n);
  s.table.close(n);
  s.mustReevaluate = true;
  const name = s.table.nodes[n].id;
  for (const lease of s.book.all()) {
    if (hasEnded(lease) || lease.state === 'expanded' || lease.state === 'rejected') continue;
    switch (lossOutcome(lease, n)) {
      case 'restart':
        restartQueued(s, lease, now);
        loss.restarted.push(lease.req.id);
        break;
      case 'unschedule':
        unschedule(s, lease, now);
        loss.requeued.push(lease.req.id);
        break;
      case 'power-off':
        powerOffAt(s, lease, now);
        loss.finished.push(lease.req.id);
        break;
      case 'fail': {
        const why = `node '${name}' became unavailable while the lease's VMs were on it: a ${lease.req.kind} lease's run cannot be interrupted and moved, so it could not be kept`;
        if (breakPromise(s, lease, now, 'node-unavailable', why)) loss.renegotiating.push(lease.req.id);
        else {
          failLease(s, lease, now, 'node-unavailable', why);
          loss.failed.push(lease.req.id);
        }
        break;
      }
      case 'wait':
        loss.waiting.push(lease.req.id);
        break;
      case 'untouched':
        break;
    }
  }
  return { ok: true, ...loss };
}

/** A best-effort lease whose VMs are lost starts again from scratch; one its owner suspended stays out of the queue. */
export function restartQueued(s: CoreState, lease: LeaseRecord, now: number): void {
  const i = s.queue.indexOf(lease);
  if (i >= 0) s.queue.splice(i, 1);
  restartLosingWork(s, lease, now);
  if (lease.parked) s.queue.splice(s.queue.indexOf(lease), 1);
}

/** A lost node is back: it takes new work again, unless it was drained meanwhile. */
export function regainNode(s: CoreState, n: number): void {
  if (!s.lost.delete(n)) return;
  if (!s.drained.has(n) && !s.leaving.has(n)) s.table.open(n);
  s.mustReevaluate = true;
}
