// A change to a live lease, planned as a new lease is: a value that says whether it can be done,
// when, where and at whose expense, or why not and what could be done instead. A quote of a
// change is the plan not applied; the change applies the plan it quoted.

import type { Preemption, Reservation } from './plan.ts';
import type { LeaseChange, LeaseRequest, RefusalCode } from './types.ts';

export type { LeaseChange, TimedChange } from './types.ts';

/**
 * How an accepted change is done:
 * - 'replan': a lease not yet begun is placed again as its new request (its old place given up);
 * - 'in-place': a begun lease's last run ends at `runEnd` on the nodes it has, its shutdown after it
 *   until `shutdownEnd` (cut short where a reservation took the room, as a preemption powers it off);
 * - 'requeue': a best-effort lease not yet begun goes back to (or stays in) the queue with its new request;
 * - 'work': only the work left changes (a best-effort lease suspended, or planned to be): it runs it when it resumes.
 */
export type ChangeHow =
  | { kind: 'replan'; reservation: Reservation }
  | { kind: 'in-place'; runEnd: number; shutdownEnd: number; preemptions: Preemption[] }
  | { kind: 'requeue' }
  | { kind: 'work' };

/**
 * A change the owner could ask instead, which would be accepted as things stand. 'other-backend':
 * the same lease on another back-end of the site (its change names it), offered to a lease whose
 * promise broke (backend-moves.ts).
 */
export interface ChangeAlternative {
  kind: 'longest-extension' | 'later-start' | 'fewer-nodes' | 'shorter' | 'other-backend';
  change: LeaseChange;
  start: number;
  end: number;
}

interface ChangeHead {
  leaseId: string;
  change: LeaseChange;
  /** The instant and state version it was planned at: applied only while both hold. */
  at: number;
  version: number;
}

export interface AcceptedChange extends ChangeHead {
  ok: true;
  /** The lease's request once changed. */
  request: LeaseRequest;
  how: ChangeHow;
  /** When the lease (still) starts running, when its last segment ends, where; a queued one: null times and no nodes. */
  start: number | null;
  end: number | null;
  nodes: readonly number[];
  note?: string;
}

export interface RefusedChange extends ChangeHead {
  ok: false;
  code: RefusalCode;
  message: string;
  alternatives: ChangeAlternative[];
}

export type ChangePlan = AcceptedChange | RefusedChange;

/** The plan as its owner reads it. */
export interface ChangeQuote {
  ok: boolean;
  leaseId: string;
  change: LeaseChange;
  how?: ChangeHow['kind'];
  start?: number | null;
  end?: number | null;
  nodes?: readonly number[];
  preempted?: Preemption[];
  note?: string;
  code?: RefusalCode;
  message?: string;
  alternatives?: ChangeAlternative[];
}

export function changeQuoteOf(plan: ChangePlan): ChangeQuote {
  const head = { leaseId: plan.leaseId, change: plan.change };
  if (!plan.ok) return { ok: false, ...head, code: plan.code, message: plan.message, alternatives: plan.alternatives };
  const how = plan.how;
  const preempted = how.kind === 'replan' ? how.reservation.preemptions : how.kind === 'in-place' ? how.preemptions : [];
  return { ok: true, ...head, how: how.kind, start: plan.start, end: plan.end, nodes: plan.nodes, preempted, ...(plan.note ? { note: plan.note } : {}) };
}
