// Breaking a lease's promise (a node lost under a reservation, a pilot's node leaving, a node
// evacuated, an urgent lease that may take a reservation's place): what it ran is kept as an
// attempt, what it held is given up, and it waits in 'renegotiating' for a bounded time with
// offers its owner may take (the same lease later, or on fewer nodes now), each a change
// (lease-change.ts) that would be accepted as things stand (renegotiation.ts: when time runs out).
// Its own module, below the planners, so that applying a plan may break a promise.

import type { ChangeAlternative } from './change-plan.ts';
import type { CoreState } from './core-state.ts';
import { cutChainAfter, dropPlan, truncate } from './reservation-ops.ts';
import type { LeaseRecord } from './lease-record.ts';
import { earliestExactStart, largestFeasible } from './negotiation.ts';
import { planDeadline } from './deadline-planner.ts';
import { planExact } from './reservation-planner.ts';
import type { LeaseRequest } from './types.ts';

/**
 * Breaks the lease's promise now, for `message`: it renegotiates if the site lets leases do so
 * (config.renegotiationSeconds) and it is a lease of one shape; answers false otherwise, and the
 * caller fails it as before.
 */
export function breakPromise(s: CoreState, lease: LeaseRecord, now: number, code: string, message: string): boolean {
  const seconds = s.config.renegotiationSeconds;
  if (!(seconds > 0) || lease.req.roles || lease.req.kind === 'best-effort') return false;
  const running = lease.chain.find((seg) => seg.active);
  if (running) {
    cutChainAfter(s, lease, running);
    truncate(s, running, now);
  }
  dropPlan(s, lease, now);
  s.images.release(lease, now);
  if (lease.heldUntil !== null) s.book.unhold(lease);
  // Its VMs are gone with what they held: what it ran is an attempt of its own, and it is offered the
  // same lease again (its owner may shorten it by the time it had, with a change).
  if (lease.history.length > 0) lease.lost = [...lease.lost, { segments: lease.history, req: lease.req }];
  lease.history = [];
  lease.done = 0;
  lease.firstStart = null;
  lease.state = 'renegotiating';
  lease.failure = { code, message };
  lease.offers = offersFor(s, lease.req, now);
  // The site adds what its other back-ends can offer, after this back-end's own (backend-moves.ts).
  s.moves?.broken.push(lease);
  s.book.renegotiate(lease, now + seconds);
  s.changed?.add(lease);
  s.mustReevaluate = true;
  return true;
}

/**
 * What a lease that holds nothing could have instead, as changes: the same lease at the earliest
 * start that fits, and as many nodes as fit now. A deadline lease is offered its own terms, if
 * they can still be met.
 */
function offersFor(s: CoreState, req: LeaseRequest, now: number): ChangeAlternative[] {
  const later = sameLeaseLater(s, req, now);
  const offers: ChangeAlternative[] = later ? [later] : [];
  if (req.kind === 'deadline') return offers;
  const boot = s.config.bootSeconds;
  if (req.nodes > 1 && later?.start !== now + boot) {
    const asNow: LeaseRequest = { ...req, kind: 'exact', requestedStart: now + boot };
    const fewer = largestFeasible(1, req.nodes - 1, (k) => planExact(s, { ...asNow, nodes: k }, null));
    if (fewer) offers.push({ kind: 'fewer-nodes', change: { duration: req.duration, start: now + boot, nodes: fewer.value }, start: fewer.plan.start, end: fewer.plan.end });
  }
  return offers;
}

/**
 * The same lease, holding nothing, at the earliest start that fits here (a deadline lease: by its
 * own terms, if they can still be met), as a change; null if none does. What another back-end
 * offers a lease whose promise broke, too (lease-moves.ts).
 */
export function sameLeaseLater(s: CoreState, req: LeaseRequest, now: number): ChangeAlternative | null {
  const boot = s.config.bootSeconds;
  const duration = req.duration;
  if (req.kind === 'deadline') {
    const planned = planDeadline(s, req);
    return planned.ok ? { kind: 'later-start', change: { duration }, start: planned.plan.pieces[0].from + boot, end: planned.plan.end } : null;
  }
  const later = earliestExactStart(s, { ...req, kind: 'exact', requestedStart: now + boot }, null);
  return later ? { kind: 'later-start', change: { duration, start: later.start }, start: later.start, end: later.end } : null;
}
