// What the scheduler offers instead of a request it refuses (the earliest start that works, and
// alternatives), and a plan told as a quote: the answer a client reads.

import { largestRole, withFewerMembers } from './cluster-choice.ts';
import { planEarliestCompletion } from './deadline-planner.ts';
import type { PlanContext, Planned } from './plan-context.ts';
import type { Alternative, OccurrencePlan, Plan, Preemption, RefusedPlan } from './plan.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { planExact, type ReservationPlan } from './reservation-planner.ts';
import type { LeaseKind, LeaseRequest, RejectReason } from './types.ts';

export type { Alternative } from './plan.ts';

export interface OccurrenceQuote {
  id: string;
  start: number;
  ok: boolean;
  reason?: RejectReason;
  message?: string;
}

export type Quote =
  | {
    ok: true; leaseId: string; kind: LeaseKind; state: 'scheduled' | 'queued';
    /** Planned start of the run (for a queued lease: the earliest it could start, ignoring the leases ahead of it). */
    start: number; end: number; nodes: number[]; preempted: Preemption[]; occurrences?: OccurrenceQuote[]; note?: string;
  }
  | {
    ok: false; leaseId: string; kind: LeaseKind; reason: RejectReason; message: string;
    /** The earliest start at or after the requested one at which the same request would be accepted; null if none. */
    earliestStart: number | null; alternatives: Alternative[]; occurrences?: OccurrenceQuote[];
  };

/** What the earliest start and the alternatives to a refused request are. */
export interface Offer {
  earliestStart: number | null;
  alternatives: Alternative[];
}

/** An immediate lease is an exact lease that boots now and preempts nobody. */
export function asExactNow(ctx: PlanContext, req: LeaseRequest): LeaseRequest {
  return { ...req, requestedStart: ctx.now + ctx.config.bootSeconds };
}

/**
 * For an exact (or immediate) request refused for `reason`: the earliest start that works, and
 * alternatives at the requested start (fewer nodes, shorter).
 */
export function exactOffer(ctx: PlanContext, original: LeaseRequest, req: LeaseRequest, policy: PreemptionPolicy | null, reason: RejectReason, maxAlternatives: number): Offer {
  const later = earliestExactStart(ctx, req, policy);
  const alternatives: Alternative[] = [];
  const offer = (kind: Alternative['kind'], request: LeaseRequest, plan: ReservationPlan): void => {
    if (alternatives.length < maxAlternatives) alternatives.push({ kind, request, start: plan.start, end: plan.end });
  };
  if (later) offer('later-start', { ...original, kind: original.kind === 'immediate' ? 'exact' : original.kind, requestedStart: later.start }, later);
  if (reason !== 'too-late') {
    if (req.roles) {
      // Fewer workers: the role with the most members, down to its minimum (or one).
      const big = req.roles[largestRole(req.roles)];
      const fewer = largestFeasible(Math.max(big.minCount ?? 1, 1), big.count - 1, (k) => planExact(ctx, withFewerMembers(req, k), policy));
      if (fewer) offer('fewer-nodes', withFewerMembers(original, fewer.value), fewer.plan);
    } else {
      const fewer = largestFeasible(1, req.nodes - 1, (k) => planExact(ctx, { ...req, nodes: k }, policy));
      if (fewer) offer('fewer-nodes', { ...original, nodes: fewer.value }, fewer.plan);
    }
    if (reason === 'insufficient-capacity') {
      const shorter = largestFeasible(1, req.duration - 1, (d) => planExact(ctx, { ...req, duration: d, realDuration: Math.min(req.realDuration ?? d, d) }, policy));
      if (shorter) offer('shorter', { ...original, duration: shorter.value, realDuration: Math.min(original.realDuration ?? shorter.value, shorter.value) }, shorter.plan);
    }
  }
  return { earliestStart: later?.start ?? null, alternatives };
}

/** What cannot start now even by preemption may be reserved for later, as an exact lease. */
export function urgentOffer(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy, maxAlternatives: number): Offer {
  const exact: LeaseRequest = { ...asExactNow(ctx, req), kind: 'exact' };
  const planned = planExact(ctx, exact, policy);
  if (planned.ok) return { earliestStart: planned.plan.start, alternatives: [{ kind: 'later-start', request: exact, start: planned.plan.start, end: planned.plan.end }] };
  return exactOffer(ctx, exact, exact, policy, planned.reason, maxAlternatives);
}

/** A deadline lease that cannot end by its deadline: the deadline it could meet. */
export function deadlineOffer(ctx: PlanContext, req: LeaseRequest, reason: RejectReason): Offer {
  const earliest = reason === 'insufficient-capacity' ? planEarliestCompletion(ctx, req) : null;
  const alternatives: Alternative[] = earliest?.ok
    ? [{ kind: 'later-deadline', request: { ...req, deadline: earliest.plan.end }, start: earliest.plan.pieces[0].from + ctx.config.bootSeconds, end: earliest.plan.end }]
    : [];
  return { earliestStart: null, alternatives };
}

/**
 * The earliest start at or after the requested one at which planExact accepts the request.
 * Whether it fits can only change where a reservation that cannot be preempted ends, where the
 * image link frees up, or where the victims' notice ends: those instants (plus boot) are the only candidates.
 */
export function earliestExactStart(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy | null): (ReservationPlan & { start: number }) | null {
  const boot = ctx.config.bootSeconds;
  const first = Math.max(req.requestedStart ?? ctx.now, ctx.now + boot);
  const candidates = new Set<number>([first]);
  // From the end of the victims' notice on, a reservation may preempt.
  if (policy) candidates.add(ctx.now + ctx.config.preemptionNoticeSeconds + boot);
  for (const end of ctx.table.endsAfter(first - boot)) candidates.add(end + boot);
  if (ctx.costs.needsTransfer(req)) {
    const secs = ctx.costs.transferSeconds(req);
    candidates.add(ctx.now + secs + boot);
    for (const t of ctx.link.scheduled) candidates.add(t.end + secs + boot);
  }
  for (const start of [...candidates].filter((t) => t >= first).sort((a, b) => a - b)) {
    const planned = planExact(ctx, { ...req, requestedStart: start }, policy);
    if (planned.ok) return planned.plan;
    if (planned.reason === 'exceeds-pool') return null;
  }
  return null;
}

/** The largest v in [lo, hi] for which plan(v) succeeds, by bisection (plans only get easier as v shrinks). */
export function largestFeasible(lo: number, hi: number, plan: (v: number) => Planned<ReservationPlan>): { value: number; plan: ReservationPlan } | null {
  if (hi < lo) return null;
  const low = plan(lo);
  if (!low.ok) return null;
  let best = { value: lo, plan: low.plan };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const p = plan(mid);
    if (p.ok) {
      best = { value: mid, plan: p.plan };
      lo = mid;
    } else hi = mid - 1;
  }
  return best;
}

/** The plan as the client reads it: accepted with when and where, or refused with what would be accepted instead. */
export function quoteOf(plan: RefusedPlan): Quote & { ok: false };
export function quoteOf(plan: Plan): Quote;
export function quoteOf(plan: Plan): Quote {
  const req = plan.request;
  const head = { leaseId: req.id, kind: req.kind };
  if (!plan.ok) {
    const occurrences = plan.occurrences?.map(occurrenceQuote);
    if (!occurrences) return { ok: false, ...head, reason: plan.reason, message: plan.message, earliestStart: plan.earliestStart, alternatives: plan.alternatives };
    const failed = occurrences.filter((q) => !q.ok);
    return {
      ok: false, ...head, reason: plan.reason, earliestStart: null, alternatives: [], occurrences,
      message: `${failed.length} of ${occurrences.length} occurrences do not fit (${failed.slice(0, 5).map((q) => q.id).join(', ')}${failed.length > 5 ? ', ...' : ''}); ask with acceptPartial to take the others`,
    };
  }
  const p = plan.placement;
  switch (p.kind) {
    case 'queue':
      return { ok: true, ...head, state: 'queued', start: p.estimate!.start, end: p.estimate!.end, nodes: [], preempted: [], note: p.estimate!.note };
    case 'reservation': {
      const r = p.reservation;
      return { ok: true, ...head, state: 'scheduled', start: r.start, end: r.end, nodes: r.nodes, preempted: r.preemptions };
    }
    case 'series': {
      const fits = p.occurrences.filter((o) => o.reservation !== null).map((o) => o.reservation!);
      return {
        ok: true, ...head, state: 'scheduled', start: fits[0].start, end: fits[fits.length - 1].end, nodes: fits[0].nodes,
        preempted: fits.flatMap((r) => r.preemptions), occurrences: p.occurrences.map(occurrenceQuote),
      };
    }
  }
}

function occurrenceQuote(o: OccurrencePlan): OccurrenceQuote {
  const start = o.request.requestedStart!;
  return o.reservation ? { id: o.request.id, start, ok: true } : { id: o.request.id, start, ok: false, reason: o.reason, message: o.message };
}
