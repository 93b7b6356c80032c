import { planDeadline, planEarliestCompletion } from './deadline-planner.ts';
import { expandOccurrences, planOccurrences } from './periodic.ts';
import type { PlanContext, Planned, Preemption } from './plan-context.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { planExact, planUrgent, type ReservationPlan } from './reservation-planner.ts';
import type { LeaseKind, LeaseRequest, RejectReason } from './types.ts';

/** Another request the client could make instead, which would be accepted as it stands right now. */
export interface Alternative {
  kind: 'later-start' | 'fewer-nodes' | 'shorter' | 'later-deadline';
  request: LeaseRequest;
  start: number;
  end: number;
}

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

export interface QuotePolicies {
  preemption: PreemptionPolicy;
  urgent: PreemptionPolicy;
  queueLength: number;
}

/** What the scheduler would do with `req` now, and if it would refuse it, what it would accept instead. Changes nothing. */
export function quote(ctx: PlanContext, req: LeaseRequest, policies: QuotePolicies, maxAlternatives = 3): Quote {
  switch (req.kind) {
    case 'best-effort':
      return quoteBestEffort(ctx, req, policies.queueLength);
    case 'exact':
      return quoteFixed(ctx, req, req, policies.preemption, maxAlternatives);
    case 'immediate':
      return quoteFixed(ctx, req, asExactNow(ctx, req), null, maxAlternatives);
    case 'urgent':
      return quoteUrgent(ctx, req, policies, maxAlternatives);
    case 'deadline':
      return quoteDeadline(ctx, req);
    case 'periodic':
      return quotePeriodic(ctx, req, policies.preemption);
  }
}

/** An immediate lease is an exact lease that boots now and preempts nobody. */
export function asExactNow(ctx: PlanContext, req: LeaseRequest): LeaseRequest {
  return { ...req, requestedStart: ctx.now + ctx.config.bootSeconds };
}

function accepted(req: LeaseRequest, plan: ReservationPlan): Quote {
  return { ok: true, leaseId: req.id, kind: req.kind, state: 'scheduled', start: plan.start, end: plan.end, nodes: plan.nodes, preempted: plan.preempted };
}

function quoteBestEffort(ctx: PlanContext, req: LeaseRequest, queueLength: number): Quote {
  const fit = ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB);
  if (req.nodes > fit) {
    return { ok: false, leaseId: req.id, kind: req.kind, reason: 'exceeds-pool', message: `asks for ${req.nodes} nodes; the pool has ${fit} that can hold one of its VMs`, earliestStart: null, alternatives: [] };
  }
  const length = ctx.costs.wholeChain(req.duration);
  const from = ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, ctx.now);
  return {
    ok: true, leaseId: req.id, kind: req.kind, state: 'queued', start: from + ctx.config.bootSeconds, end: from + length, nodes: [], preempted: [],
    note: `queued behind ${queueLength} waiting leases; the start is the earliest the pool has room, not a promise`,
  };
}

/**
 * An exact (or immediate) request: accepted as planned, or refused with the earliest start
 * that works and alternatives at the requested start.
 */
function quoteFixed(ctx: PlanContext, original: LeaseRequest, req: LeaseRequest, policy: PreemptionPolicy | null, maxAlternatives: number): Quote {
  const planned = ctx.planExact ? ctx.planExact(req, policy) : planExact(ctx, req, policy);
  if (planned.ok) return accepted(original, planned.plan);
  const later = earliestExactStart(ctx, req, policy);
  const alternatives: Alternative[] = [];
  const offer = (kind: Alternative['kind'], request: LeaseRequest, plan: ReservationPlan): void => {
    if (alternatives.length < maxAlternatives) alternatives.push({ kind, request, start: plan.start, end: plan.end });
  };
  if (later) offer('later-start', { ...original, kind: original.kind === 'immediate' ? 'exact' : original.kind, requestedStart: later.start }, later);
  if (planned.reason !== 'too-late') {
    const fewer = largestFeasible(1, req.nodes - 1, (k) => planExact(ctx, { ...req, nodes: k }, policy));
    if (fewer) offer('fewer-nodes', { ...original, nodes: fewer.value }, fewer.plan);
    if (planned.reason === 'insufficient-capacity') {
      const shorter = largestFeasible(1, req.duration - 1, (d) => planExact(ctx, { ...req, duration: d, realDuration: Math.min(req.realDuration ?? d, d) }, policy));
      if (shorter) offer('shorter', { ...original, duration: shorter.value, realDuration: Math.min(original.realDuration ?? shorter.value, shorter.value) }, shorter.plan);
    }
  }
  return { ok: false, leaseId: original.id, kind: original.kind, reason: planned.reason, message: planned.message, earliestStart: later?.start ?? null, alternatives };
}

/**
 * The earliest start at or after the requested one at which planExact accepts the request.
 * Whether it fits can only change where a reservation that cannot be preempted ends, or where
 * the image link frees up: those instants (plus boot) are the only candidates.
 */
export function earliestExactStart(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy | null): (ReservationPlan & { start: number }) | null {
  const boot = ctx.config.bootSeconds;
  const first = Math.max(req.requestedStart ?? ctx.now, ctx.now + boot);
  const candidates = new Set<number>([first]);
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
function largestFeasible(lo: number, hi: number, plan: (v: number) => Planned<ReservationPlan>): { value: number; plan: ReservationPlan } | null {
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

function quoteUrgent(ctx: PlanContext, req: LeaseRequest, policies: QuotePolicies, maxAlternatives: number): Quote {
  const planned = planUrgent(ctx, req, policies.urgent);
  if (planned.ok) return accepted(req, planned.plan);
  // What cannot start now even by preemption may be reserved for later, as an exact lease.
  const exact: LeaseRequest = { ...asExactNow(ctx, req), kind: 'exact' };
  const asExact = quoteFixed(ctx, exact, exact, policies.preemption, maxAlternatives);
  const alternatives: Alternative[] = asExact.ok ? [{ kind: 'later-start', request: exact, start: asExact.start, end: asExact.end }] : asExact.alternatives;
  const earliestStart = asExact.ok ? asExact.start : asExact.earliestStart;
  return { ok: false, leaseId: req.id, kind: req.kind, reason: planned.reason, message: planned.message, earliestStart, alternatives };
}

function quoteDeadline(ctx: PlanContext, req: LeaseRequest): Quote {
  const planned = planDeadline(ctx, req);
  if (planned.ok) {
    const { pieces, end } = planned.plan;
    return { ok: true, leaseId: req.id, kind: req.kind, state: 'scheduled', start: pieces[0].from + ctx.config.bootSeconds, end, nodes: pieces[0].nodes, preempted: [] };
  }
  const earliest = planned.reason === 'insufficient-capacity' ? planEarliestCompletion(ctx, req) : null;
  const alternatives: Alternative[] = earliest?.ok
    ? [{ kind: 'later-deadline', request: { ...req, deadline: earliest.plan.end }, start: earliest.plan.pieces[0].from + ctx.config.bootSeconds, end: earliest.plan.end }]
    : [];
  return { ok: false, leaseId: req.id, kind: req.kind, reason: planned.reason, message: planned.message, earliestStart: null, alternatives };
}

function quotePeriodic(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy): Quote {
  const occurrences = expandOccurrences(req, ctx.config);
  if (typeof occurrences === 'string') return { ok: false, leaseId: req.id, kind: req.kind, reason: 'invalid', message: occurrences, earliestStart: null, alternatives: [] };
  const results = planOccurrences(ctx, occurrences, policy).map(({ request, planned }) => ({ o: request, planned }));
  const quotes: OccurrenceQuote[] = results.map(({ o, planned }) => (planned.ok
    ? { id: o.id, start: o.requestedStart!, ok: true }
    : { id: o.id, start: o.requestedStart!, ok: false, reason: planned.reason, message: planned.message }));
  const failed = quotes.filter((q) => !q.ok);
  const fits = results.filter((r) => r.planned.ok);
  if (failed.length === 0 || (req.recurrence?.acceptPartial && fits.length > 0)) {
    const first = fits[0].planned as { ok: true; plan: ReservationPlan };
    const last = fits[fits.length - 1].planned as { ok: true; plan: ReservationPlan };
    return {
      ok: true, leaseId: req.id, kind: req.kind, state: 'scheduled', start: first.plan.start, end: last.plan.end, nodes: first.plan.nodes,
      preempted: fits.flatMap((r) => (r.planned.ok ? r.planned.plan.preempted : [])), occurrences: quotes,
    };
  }
  return {
    ok: false, leaseId: req.id, kind: req.kind, reason: failed[0].reason!, earliestStart: null, alternatives: [], occurrences: quotes,
    message: `${failed.length} of ${quotes.length} occurrences do not fit (${failed.slice(0, 5).map((q) => q.id).join(', ')}${failed.length > 5 ? ', ...' : ''}); ask with acceptPartial to take the others`,
  };
}
