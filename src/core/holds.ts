// Holds: a lease decided at once and kept for its client until a deadline, binding only once
// committed; released (cancelled) when the hold runs out.

import { applyPlan, currentPlan, type Decision, type PlanObserver, reject } from './admission.ts';
import type { CoreState } from './core-state.ts';
import { stretchedSeconds } from './costs.ts';
import { cancelLease } from './lease-lifecycle.ts';
import type { LeaseRecord } from './lease-record.ts';
import { type Plan, planStart } from './plan.ts';
import type { Policies } from './request-planner.ts';
import { type LeaseKind, type LeaseRequest, type Refusal, refusal } from './types.ts';

/** Lease kinds whose placement is fixed when accepted, and which can therefore be held. */
const HOLDABLE: ReadonlySet<LeaseKind> = new Set<LeaseKind>(['exact', 'deadline', 'periodic']);

/**
 * Why a lease of this kind cannot be held, or null if it can. Pure: the service and the API ask
 * it before anything else about a hold, and name the field at fault.
 */
export function holdKindRefusal(kind: LeaseKind): Refusal | null {
  return HOLDABLE.has(kind) ? null : refusal('unsupported', `a ${kind} lease cannot be held: only ${[...HOLDABLE].join(', ')} leases are placed when accepted; create it instead`);
}

/**
 * A plan that would begin (its VMs boot) at once leaves nothing to hold: the client should create
 * the lease instead. Asked before a hold is logged, so that such a hold is refused like any other.
 */
export function tooLateToHold(plan: Plan, bootSeconds: number, now: number): Refusal | null {
  const start = plan.ok ? planStart(plan) : null;
  return start !== null && start - bootSeconds <= now ? refusal('too-late', `it would begin now (${now}): there is nothing to hold; create it instead`) : null;
}

/** The run seconds a new lease needs: a best-effort one runs longer by the VMs' runtime overhead. */
export function workOf(s: CoreState, req: LeaseRequest): number {
  return req.kind === 'best-effort' ? stretchedSeconds(req.duration, s.config.runtimeOverheadPercent) : req.duration;
}

/**
 * Decides `req` at once (applying `quoted` if it is still current) and holds what it was given
 * until `now + ttlSeconds` (or until just before it would begin): unless committed by then, it is
 * cancelled and its resources freed. Leases it preempts are preempted as for an accepted lease,
 * since a hold must be kept.
 */
export function hold(s: CoreState, req: LeaseRequest, ttlSeconds: number, policies: Policies, observer: PlanObserver, quoted?: Plan): Decision | Refusal {
  const unholdable = holdKindRefusal(req.kind);
  if (unholdable) return unholdable;
  if (!(ttlSeconds > 0)) return refusal('invalid', `a hold must last more than 0 s, got ${ttlSeconds}`);
  if (s.book.has(req.id)) return refusal('duplicate', `lease id '${req.id}' was already submitted`);
  const now = s.now;
  const plan = currentPlan(s, req, policies, quoted, observer);
  const lease = s.book.add(req, workOf(s, req));
  const late = tooLateToHold(plan, s.config.bootSeconds, now);
  if (late) return reject(s, lease, 'too-late', late.message);
  const decision = applyPlan(s, lease, plan, policies, observer);
  if (!decision.ok) return decision;
  const parts = s.book.partsOf(lease).filter((p) => p.state === 'scheduled');
  const begins = Math.min(...parts.map((p) => p.chain[0]?.start ?? Infinity));
  s.book.hold(lease, Math.min(now + ttlSeconds, begins));
  for (const p of parts) {
    p.state = 'held';
    s.changed?.add(p);
  }
  return { ...decision, state: 'held' };
}

/** Makes a held lease binding. */
export function commit(s: CoreState, id: string): Decision | Refusal {
  const lease = s.book.get(id);
  if (!lease) return refusal('not-found', `no lease '${id}' to commit`);
  if (lease.heldUntil === null) {
    const why = lease.state === 'cancelled' ? 'its hold expired' : `it is ${lease.state}, not held`;
    return { ok: false, leaseId: id, reason: 'policy', message: `cannot commit lease '${id}': ${why}` };
  }
  s.book.unhold(lease);
  for (const p of s.book.partsOf(lease)) {
    if (p.state === 'held') p.state = 'scheduled';
    s.changed?.add(p);
  }
  return { ok: true, leaseId: id, state: 'scheduled' };
}

/** Releases the leases whose holds ran out by `now`. */
export function expireHolds(s: CoreState, now: number): LeaseRecord[] {
  const expired = s.book.takeExpired(now);
  for (const lease of expired) {
    for (const p of s.book.partsOf(lease)) cancelLease(s, p, now);
    if (lease.state === 'expanded') lease.state = 'cancelled';
    s.changed?.add(lease);
  }
  return expired;
}
