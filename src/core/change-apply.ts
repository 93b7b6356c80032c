// Applies an accepted change plan to its lease, whole: the leases in the way make room, the
// lease's reservations move to the plan's, and its request becomes the changed one.

import { placeReservation } from './admission.ts';
import type { AcceptedChange } from './change-plan.ts';
import type { CoreState } from './core-state.ts';
import { workOf } from './holds.ts';
import { unschedule } from './lease-lifecycle.ts';
import type { LeaseRecord } from './lease-record.ts';
import { preempt } from './preemption.ts';
import { dropPlan, dropSegment, place, truncate } from './reservation-ops.ts';

export function applyChange(s: CoreState, plan: AcceptedChange): void {
  const lease = s.book.mustGet(plan.leaseId);
  const next = plan.request;
  const how = plan.how;
  // Attempts that ran under the request as it was keep it: the export shows each with its own shape.
  if (lease.lost.length > 0) lease.lost = lease.lost.map((a) => (a.req ? a : { ...a, req: lease.req }));
  // A place ahead is given up under the request it was made for; what is placed from here takes the new one.
  if (how.kind === 'requeue' && lease.chain.length > 0) unschedule(s, lease, s.now);
  lease.req = next;
  lease.work = workOf(s, next);
  switch (how.kind) {
    case 'work':
    case 'requeue':
      break;
    case 'replan': {
      const r = how.reservation;
      const state = lease.state;
      // An offer taken: the lease is placed again, and its broken promise is behind it.
      if (state === 'renegotiating') {
        s.book.settle(lease);
        lease.failure = null;
      }
      dropPlan(s, lease, s.now);
      s.images.release(lease, s.now);
      placeReservation(s, lease, r);
      if (state === 'held') keepHeld(s, lease);
      break;
    }
    case 'in-place': {
      const last = lease.chain.filter((seg) => seg.kind === 'run').pop()!;
      for (const p of how.preemptions) preempt(s, s.book.mustGet(p.leaseId), p.how, last.end, s.now);
      for (const seg of lease.chain.slice(lease.chain.indexOf(last) + 1)) dropSegment(s, lease, seg);
      lease.chain.length = lease.chain.indexOf(last) + 1;
      truncate(s, last, how.runEnd);
      if (how.shutdownEnd > how.runEnd) lease.chain.push(place(s, lease, 'shutdown', how.runEnd, how.shutdownEnd, last.nodes));
      break;
    }
  }
  s.changed?.add(lease);
  s.requestChanged();
  // Whatever a change gives up (a shorter run, a smaller shape, a place left) may let others go earlier.
  s.mustReevaluate = true;
}

/** A held lease placed again stays held, and its hold ends before it would begin. */
function keepHeld(s: CoreState, lease: LeaseRecord): void {
  lease.state = 'held';
  const begins = lease.chain[0]?.start ?? Infinity;
  if (lease.heldUntil !== null && begins < lease.heldUntil) {
    s.book.unhold(lease);
    s.book.hold(lease, begins);
  }
}
