// Plans a request against the scheduler's state: what it would get (a place in the queue,
// reservations with the preemptions and image moves they need) or why not. Changes nothing.

import { bandwidthOf, nodesText } from './bandwidth.ts';
import { distinctNodes } from './cluster-chain.ts';
import { chooseCluster, clusterAdmission } from './cluster-choice.ts';
import { checkRoles } from './roles.ts';
import { type DeadlinePlan, planDeadline } from './deadline-planner.ts';
import { asExactNow, deadlineOffer, exactOffer, type Offer, urgentOffer } from './negotiation.ts';
import { expandOccurrences, planOccurrences } from './periodic.ts';
import type { PlanContext } from './plan-context.ts';
import type { AcceptedPlan, ImageMove, Placement, Plan, RefusedPlan, Reservation } from './plan.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { planExact, planUrgent, type ReservationPlan } from './reservation-planner.ts';
import type { LeaseRequest, RejectReason } from './types.ts';
import { layoutChain } from './vm-chain.ts';

export interface Policies {
  preemption: PreemptionPolicy;
  urgent: PreemptionPolicy;
}

/**
 * For a quote (`quoting`), a refusal comes with the earliest start and up to `maxAlternatives`
 * alternatives, and a queued lease with an estimate of its start; a decision needs neither.
 */
export type PlanDetail = { quoting: true; maxAlternatives: number; queueLength: number } | { quoting: false };

export const DECIDING: PlanDetail = { quoting: false };

/** How many of the nodes the back-end brings when leases wait could hold one of the request's VMs (a best-effort one alone waits for them). */
function nodesToComeFor(ctx: PlanContext, req: LeaseRequest): number {
  const more = ctx.config.nodesToCome;
  return more !== null && req.kind === 'best-effort' && req.perNode.cpu <= more.cpu && req.perNode.memoryMiB <= more.memoryMiB ? more.count : 0;
}

/** A best-effort lease decided (not quoted) is queued: the same placement for all of them. */
const QUEUED: Placement = Object.freeze({ kind: 'queue' });

export function planRequest(ctx: PlanContext, req: LeaseRequest, policies: Policies, detail: PlanDetail): Plan {
  const { now: at, version } = ctx;
  // Plans written out rather than spread from a common head: every lease of a trace is planned here.
  const accept = (placement: Placement): AcceptedPlan => ({ request: req, at, version, ok: true, placement });
  const refuse = (reason: RejectReason, message: string, offer?: Offer): RefusedPlan =>
    ({ request: req, at, version, ok: false, reason, message, earliestStart: offer?.earliestStart ?? null, alternatives: offer?.alternatives ?? [] });
  const max = detail.quoting ? detail.maxAlternatives : 0;
  if (req.roles) {
    // A cluster's roles may share nodes: it is judged role by role, never by its envelope.
    const invalid = checkRoles(req.roles);
    if (invalid) return refuse('invalid', invalid.message);
    const bad = clusterAdmission(req, (cpu, mem, bw) => ctx.nodesThatFit(cpu, mem, bw), ctx.table);
    if (bad) return refuse(bad.reason, bad.message);
    if (req.kind === 'best-effort' && detail.quoting) return accept({ kind: 'queue', estimate: clusterEstimate(ctx, req, detail.queueLength) });
  }
  // Whatever its kind, a request for more nodes than the pool has of its shape can never be accepted.
  const fit = req.roles ? req.nodes : ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB, bandwidthOf(req.perNode)) + nodesToComeFor(ctx, req);
  if (req.nodes > fit) return refuse('exceeds-pool', `asks for ${nodesText(req.nodes, req.perNode)}; the pool has ${fit} such nodes`);
  switch (req.kind) {
    case 'best-effort': {
      if (!detail.quoting) return accept(QUEUED);
      const length = ctx.costs.wholeChain(req.duration);
      const room = ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, ctx.now, { bandwidthMbps: bandwidthOf(req.perNode) });
      // No room among the nodes there are (a pilot back-end's may all be yet to come): the earliest it could start once they come.
      const from = room === Infinity ? ctx.now : room;
      const note = room === Infinity
        ? `queued behind ${detail.queueLength} waiting leases; no node there is has room for it: it waits for the nodes the back-end brings, and the times are the earliest it could run once they come`
        : `queued behind ${detail.queueLength} waiting leases; the start is the earliest the pool has room, not a promise`;
      return accept({ kind: 'queue', estimate: { start: from + ctx.config.bootSeconds, end: from + length, note } });
    }
    case 'exact':
    case 'immediate': {
      const asPlanned = req.kind === 'exact' ? req : asExactNow(ctx, req);
      const policy = req.kind === 'exact' ? policies.preemption : null;
      const planned = planExact(ctx, asPlanned, policy);
      if (planned.ok) return accept({ kind: 'reservation', reservation: reservationOf(ctx, req, planned.plan) });
      return refuse(planned.reason, planned.message, detail.quoting ? exactOffer(ctx, req, asPlanned, policy, planned.reason, max) : undefined);
    }
    case 'urgent': {
      const planned = planUrgent(ctx, req, policies.urgent);
      if (planned.ok) return accept({ kind: 'reservation', reservation: reservationOf(ctx, req, planned.plan) });
      return refuse(planned.reason, planned.message, detail.quoting ? urgentOffer(ctx, req, policies.preemption, max) : undefined);
    }
    case 'deadline': {
      const planned = planDeadline(ctx, req);
      if (planned.ok) return accept({ kind: 'reservation', reservation: deadlineReservation(ctx, req, planned.plan) });
      return refuse(planned.reason, planned.message, detail.quoting ? deadlineOffer(ctx, req, planned.reason) : undefined);
    }
    case 'periodic':
      return planSeries(ctx, req, policies.preemption, accept, refuse);
  }
}

/**
 * A periodic lease is accepted whole if every occurrence fits (or, if the client allows, as the
 * occurrences that fit); each occurrence becomes an exact lease of its own, `ID#K`.
 */
function planSeries(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy, accept: (p: Placement) => AcceptedPlan, refuse: (r: RejectReason, m: string) => RefusedPlan): Plan {
  const expanded = expandOccurrences(req, ctx.config);
  if (typeof expanded === 'string') return refuse('invalid', expanded);
  const occurrences = planOccurrences(ctx, expanded, policy).map(({ request, planned }) => (planned.ok
    ? { request, reservation: reservationOf(ctx, request, planned.plan) }
    : { request, reservation: null, reason: planned.reason, message: planned.message }));
  const refused = occurrences.filter((o) => o.reservation === null);
  const partial = req.recurrence?.acceptPartial === true;
  if (refused.length === 0 || (partial && refused.length < occurrences.length)) return accept({ kind: 'series', occurrences });
  const first = refused[0];
  return { ...refuse(first.reason!, `${refused.length} of ${occurrences.length} occurrences do not fit, the first (${first.request.id}) because: ${first.message}`), occurrences };
}

/** An exact, immediate or urgent lease (or an occurrence): one whole piece from the plan's start on its nodes. */
export function reservationOf(ctx: PlanContext, req: LeaseRequest, plan: ReservationPlan): Reservation {
  const chain = layoutChain(ctx.config, ctx.costs, req, req.duration, [{ from: plan.from, end: plan.end, nodes: plan.nodes, first: true, moved: false, last: true, roleNodes: plan.roleNodes }]);
  const imageNodes = plan.roleNodes ? distinctNodes(plan.nodes) : plan.nodes;
  const image: ImageMove | null = plan.transferStart !== null
    ? { nodes: imageNodes, sendAt: plan.transferStart }
    : req.image && ctx.config.images === 'transfer' ? { nodes: imageNodes, sendAt: null } : null;
  return { from: plan.from, chain, image, preemptions: plan.preempted, displacesTentative: false, start: plan.start, end: plan.end, nodes: plan.nodes };
}

/** A queued cluster's estimate: when the pool first has room for every role at once, from now. */
function clusterEstimate(ctx: PlanContext, req: LeaseRequest, queueLength: number): { start: number; end: number; note: string } {
  const length = ctx.costs.wholeChain(req.duration);
  const note = `queued behind ${queueLength} waiting leases; the start is the earliest the pool has room for every role, not a promise`;
  for (const t of [ctx.now, ...ctx.table.endsAfter(ctx.now)]) {
    if (chooseCluster(ctx.table, req.roles!, { t, fullLength: length, minLength: null })) return { start: t + ctx.config.bootSeconds, end: t + length, note };
  }
  return { start: Infinity, end: Infinity, note };
}

export function deadlineReservation(ctx: PlanContext, req: LeaseRequest, plan: DeadlinePlan): Reservation {
  const first = plan.pieces[0];
  const chain = layoutChain(ctx.config, ctx.costs, req, req.duration, plan.pieces);
  const imageNodes = first.roleNodes ? distinctNodes(first.nodes) : first.nodes;
  const image: ImageMove | null = plan.transferStart !== null
    ? { nodes: imageNodes, sendAt: plan.transferStart }
    : ctx.costs.needsTransfer(req) ? { nodes: imageNodes, sendAt: null } : null;
  return {
    from: first.from, chain, image, preemptions: [], displacesTentative: true,
    start: first.from + (first.first ? ctx.config.bootSeconds : 0), end: plan.end, nodes: first.nodes,
  };
}
