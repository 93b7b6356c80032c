// Applies a plan: the lease is queued, or its reservations placed after the leases in the way
// made room, or it is refused. A plan is applied only at the instant and state version it was
// made at; otherwise the request is planned again, so that a stale plan is never applied.

import type { CoreState } from './core-state.ts';
import { enqueue, failLease, unschedule } from './lease-lifecycle.ts';
import { breakPromise } from './promise-break.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { OccurrencePlan, Plan, Preemption, Reservation } from './plan.ts';
import { preempt } from './preemption.ts';
import { DECIDING, planRequest, type Policies, reservationOf } from './request-planner.ts';
import { planExact } from './reservation-planner.ts';
import type { LeaseRequest, RejectReason } from './types.ts';
import { moveImage, placeChain } from './vm-chain.ts';

export type Decision =
  | {
    ok: true; leaseId: string; state: 'queued' | 'scheduled' | 'held';
    /** For a placed lease: when it runs, where, and who made way for it. */
    start?: number; end?: number; nodes?: number[]; preempted?: Preemption[];
    /** For a periodic lease: its occurrences, and those refused when only some were accepted. */
    occurrences?: string[]; refusedOccurrences?: string[];
  }
  | { ok: false; leaseId: string; reason: RejectReason; message: string; refusedOccurrences?: string[] };

/** Hears of every plan made and applied: how a test harness captures plans. */
export interface PlanObserver {
  planned?(plan: Plan): void;
  applied?(plan: Plan): void;
}

/** Whether `plan` was made for this very request at this instant and state version. */
export function isCurrent(s: CoreState, plan: Plan, req: LeaseRequest): boolean {
  return plan.request === req && plan.at === s.now && plan.version === s.version;
}

/** The plan for the lease's request: `quoted` if still current, else made afresh. */
export function currentPlan(s: CoreState, req: LeaseRequest, policies: Policies, quoted: Plan | undefined, observer: PlanObserver): Plan {
  if (quoted !== undefined && isCurrent(s, quoted, req)) return quoted;
  const plan = planRequest(s, req, policies, DECIDING);
  observer.planned?.(plan);
  return plan;
}

export function reject(s: CoreState, lease: LeaseRecord, reason: RejectReason, message: string): Decision & { ok: false } {
  lease.state = 'rejected';
  lease.rejectReason = reason;
  lease.rejectMessage = message;
  s.changed?.add(lease);
  return { ok: false, leaseId: lease.req.id, reason, message };
}

/** Applies a current plan for the lease's own request. */
export function applyPlan(s: CoreState, lease: LeaseRecord, plan: Plan, policies: Policies, observer: PlanObserver): Decision {
  if (!isCurrent(s, plan, lease.req)) throw new Error(`internal: plan for ${plan.request.id} made at ${plan.at} (version ${plan.version}) applied at ${s.now} (version ${s.version})`);
  observer.applied?.(plan);
  if (!plan.ok) {
    const decision = reject(s, lease, plan.reason, plan.message);
    return plan.occurrences ? { ...decision, refusedOccurrences: plan.occurrences.filter((o) => o.reservation === null).map((o) => o.request.id) } : decision;
  }
  const p = plan.placement;
  switch (p.kind) {
    case 'queue':
      enqueue(s, lease);
      return { ok: true, leaseId: lease.req.id, state: 'queued' };
    case 'reservation':
      return placeReservation(s, lease, p.reservation);
    case 'series':
      return placeSeries(s, lease, plan.version, p.occurrences, policies);
  }
}

export function placeReservation(s: CoreState, lease: LeaseRecord, r: Reservation): Decision {
  const now = s.now;
  if (r.displacesTentative) for (const l of [...s.future].sort((a, b) => a.seq - b.seq)) if (l.chain.length > 0 && l.chain[0].start > now) unschedule(s, l, now);
  for (const p of r.preemptions) {
    const victim = s.book.mustGet(p.leaseId);
    if (p.how !== 'renegotiate') preempt(s, victim, p.how, r.from, now);
    else {
      const why = `urgent lease '${lease.req.id}' needs its place from ${r.from}, and the site lets urgent leases take the place of reservations that have not begun`;
      victim.preemptions++;
      if (!breakPromise(s, victim, now, 'preempted-by-urgent', why)) failLease(s, victim, now, 'preempted-by-urgent', why);
    }
  }
  placeChain(s, lease, r.chain);
  moveImage(s, lease, r.image, now);
  return { ok: true, leaseId: lease.req.id, state: 'scheduled', start: r.start, end: r.end, nodes: r.nodes, preempted: r.preemptions };
}

/**
 * Each occurrence becomes a lease of its own. The first one placed is placed as planned; placing
 * it moves the state's version, so each later one is planned again on what the earlier ones left
 * (they only took time before its own and freed what they preempted: it still fits).
 */
function placeSeries(s: CoreState, lease: LeaseRecord, version: number, occurrences: readonly OccurrencePlan[], policies: Policies): Decision {
  const ids: string[] = [];
  const refused: string[] = [];
  for (const o of occurrences) {
    const part = s.book.add(o.request, o.request.duration);
    ids.push(o.request.id);
    if (o.reservation === null) {
      refused.push(o.request.id);
      reject(s, part, 'insufficient-capacity', 'this occurrence does not fit');
      continue;
    }
    let r = o.reservation;
    if (s.version !== version) {
      const again = planExact(s, o.request, policies.preemption);
      if (!again.ok) throw new Error(`internal: occurrence ${o.request.id} fitted when planned but not when placed: ${again.message}`);
      r = reservationOf(s, o.request, again.plan);
    }
    placeReservation(s, part, r);
  }
  lease.state = 'expanded';
  lease.occurrenceIds = ids;
  s.changed?.add(lease);
  return { ok: true, leaseId: lease.req.id, state: 'scheduled', occurrences: ids.filter((id) => !refused.includes(id)), refusedOccurrences: refused };
}
