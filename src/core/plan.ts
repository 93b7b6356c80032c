// A decision as a value. The scheduler plans a request against its state at one instant and
// version; a quote is a plan not applied, and a create or hold applies the plan it quoted, so
// that what the client was told is what happens. A plan made at another instant or version is
// never applied: the request is planned again.

import type { LeaseRequest, RejectReason, SegmentKind } from './types.ts';

/** How a lease in the way gives its resources up from a given instant. */
/** 'renegotiate': a reservation not yet begun gives its place to an urgent lease and renegotiates (promise-break.ts). */
export type PreemptionKind = 'suspend' | 'requeue' | 'unschedule' | 'power-off' | 'renegotiate';

export interface Preemption {
  leaseId: string;
  how: PreemptionKind;
}

/** One reservation to place: `nodes` held over [start, end) for `kind`. */
export interface PlannedSegment {
  kind: SegmentKind;
  start: number;
  end: number;
  nodes: readonly number[];
  /** For a cluster lease: the role it serves (nodes are then that role's). */
  role?: number;
}

/** The image a lease needs on its nodes: sent over the repository's link from `sendAt`, or (null) referenced where it is cached. */
export interface ImageMove {
  nodes: readonly number[];
  sendAt: number | null;
}

/** A lease's chain of reservations, laid out by vm-chain.ts. */
export interface ChainLayout {
  segments: PlannedSegment[];
  /** What happens when the last segment ends: the lease is done, or waits suspended for more. */
  endsIn: 'finish' | 'suspend';
}

/** A lease placed when accepted (exact, immediate, urgent, deadline, or one occurrence of a periodic lease). */
export interface Reservation {
  /** When its first segment begins: the leases it preempts make way by then. */
  from: number;
  chain: ChainLayout;
  image: ImageMove | null;
  /** Leases that make way, and how, in the order they are preempted. */
  preemptions: Preemption[];
  /** Best-effort leases that backfilling placed in the future go back to the queue first (a deadline lease is planned as if they were not there). */
  displacesTentative: boolean;
  /** When it starts running, when its last segment ends, and where it starts. */
  start: number;
  end: number;
  /** A cluster's are listed member by member (roles.ts membersOf): a node once per VM it holds. */
  nodes: number[];
}

/** What the request gets: a place in the queue, reservations, or (periodic) reservations per occurrence. */
export type Placement =
  | { kind: 'queue'; estimate?: { start: number; end: number; note: string } }
  | { kind: 'reservation'; reservation: Reservation }
  | { kind: 'series'; occurrences: OccurrencePlan[] };

export interface OccurrencePlan {
  request: LeaseRequest;
  /** Null when this occurrence does not fit (the others may be accepted: acceptPartial). */
  reservation: Reservation | null;
  reason?: RejectReason;
  message?: string;
}

/** Another request the client could make instead, which would be accepted as it stands right now. */
export interface Alternative {
  kind: 'later-start' | 'fewer-nodes' | 'shorter' | 'later-deadline';
  request: LeaseRequest;
  start: number;
  end: number;
}

interface PlanHead {
  request: LeaseRequest;
  /** The instant and state version it was planned at: it is applied only while both still hold. */
  at: number;
  version: number;
}

export interface AcceptedPlan extends PlanHead {
  ok: true;
  placement: Placement;
}

export interface RefusedPlan extends PlanHead {
  ok: false;
  reason: RejectReason;
  message: string;
  /** The earliest start at or after the requested one at which the same request would be accepted; null if none (or not asked). */
  earliestStart: number | null;
  alternatives: Alternative[];
  /** For a periodic lease: how each occurrence fared. */
  occurrences?: OccurrencePlan[];
}

export type Plan = AcceptedPlan | RefusedPlan;

/** When an accepted plan's lease starts running (a queued one: the estimate, if one was made). */
export function planStart(plan: AcceptedPlan): number | null {
  const p = plan.placement;
  if (p.kind === 'reservation') return p.reservation.start;
  if (p.kind === 'queue') return p.estimate?.start ?? null;
  return p.occurrences.find((o) => o.reservation !== null)?.reservation!.start ?? null;
}
