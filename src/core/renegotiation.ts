// When the site must break a promise (a node lost under a reservation), the lease is not failed
// outright: what it ran is kept, what it held is given up, and it waits in 'renegotiating' for a
// bounded time with offers its owner may take (the same lease later, or on fewer nodes now), each
// a change (lease-change.ts) that would be accepted as things stand. If its owner takes none in
// time, the site's default applies: it is cancelled, or takes the first offer that still fits.

import { applyChange } from './change-apply.ts';
import type { ChangeAlternative } from './change-plan.ts';
import type { CoreState } from './core-state.ts';
import { planChange } from './lease-change.ts';
import { cutChainAfter, dropPlan, truncate } from './reservation-ops.ts';
import { failLease } from './lease-lifecycle.ts';
import type { LeaseRecord } from './lease-record.ts';
import { earliestExactStart, largestFeasible } from './negotiation.ts';
import { planDeadline } from './deadline-planner.ts';
import type { Policies } from './request-planner.ts';
import { planExact } from './reservation-planner.ts';
import type { LeaseRequest } from './types.ts';

/** How many offers a broken promise comes with, at most. */
const MOST_OFFERS = 3;

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
  const boot = s.config.bootSeconds;
  const duration = req.duration;
  if (req.kind === 'deadline') {
    const planned = planDeadline(s, req);
    return planned.ok ? [{ kind: 'later-start', change: { duration }, start: planned.plan.pieces[0].from + boot, end: planned.plan.end }] : [];
  }
  const asNow: LeaseRequest = { ...req, kind: 'exact', requestedStart: now + boot };
  const offers: ChangeAlternative[] = [];
  const later = earliestExactStart(s, asNow, null);
  if (later) offers.push({ kind: 'later-start', change: { duration, start: later.start }, start: later.start, end: later.end });
  if (req.nodes > 1 && later?.start !== now + boot) {
    const fewer = largestFeasible(1, req.nodes - 1, (k) => planExact(s, { ...asNow, nodes: k }, null));
    if (fewer) offers.push({ kind: 'fewer-nodes', change: { duration, start: now + boot, nodes: fewer.value }, start: fewer.plan.start, end: fewer.plan.end });
  }
  return offers.slice(0, MOST_OFFERS);
}

/**
 * The leases whose owners took no offer by `now` get the site's default: the first offer that
 * still fits, or (that failing, or by default) cancelled with the reason their promise broke.
 */
export function lapseRenegotiations(s: CoreState, now: number, policies: Policies): LeaseRecord[] {
  const lapsed = s.book.takeLapsed(now);
  for (const lease of lapsed) {
    const first = s.config.renegotiationDefault === 'first-offer' ? lease.offers?.[0] : undefined;
    const plan = first ? planChange(s, lease.req.id, first.change, policies, 0) : null;
    if (plan?.ok) {
      applyChange(s, plan);
      continue;
    }
    const why = lease.failure ?? { code: 'renegotiation-lapsed', message: 'its promise could not be kept' };
    s.book.settle(lease);
    const taken = first ? '; the first offer no longer fits' : '';
    failLease(s, lease, now, why.code, `${why.message}; no offer was taken by ${now}${taken}, and the site's default is to cancel`);
  }
  return lapsed;
}
