// When the site must break a promise, the lease is not failed outright: it waits in
// 'renegotiating' with offers (promise-break.ts). Here: what becomes of it if its owner takes none
// in time, the site's default: it is cancelled, or takes the first offer that still fits.

import { applyChange } from './change-apply.ts';
import type { CoreState } from './core-state.ts';
import { planChange } from './lease-change.ts';
import { failLease } from './lease-lifecycle.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { Policies } from './request-planner.ts';


/**
 * The leases whose owners took no offer by `now` get the site's default: the first offer that
 * still fits, or (that failing, or by default) cancelled with the reason their promise broke.
 */
export function lapseRenegotiations(s: CoreState, now: number, policies: Policies): LeaseRecord[] {
  const lapsed = s.book.takeLapsed(now);
  for (const lease of lapsed) {
    const first = s.config.renegotiationDefault === 'first-offer' ? lease.offers?.[0] : undefined;
    // A move to another back-end is the site's to make: it waits for it, still renegotiating.
    if (first?.kind === 'other-backend' && s.moves) {
      s.moves.lapsed.push(lease);
      continue;
    }
    const plan = first ? planChange(s, lease.req.id, first.change, policies, 0) : null;
    if (plan?.ok) {
      applyChange(s, plan);
      continue;
    }
    lapseUntaken(s, lease, now, first !== undefined);
  }
  return lapsed;
}

/** The lease took no offer in time, and the default took none (`triedFirst`: the first offer no longer fits): it fails, saying so. */
export function lapseUntaken(s: CoreState, lease: LeaseRecord, now: number, triedFirst: boolean): void {
  const why = lease.failure ?? { code: 'renegotiation-lapsed', message: 'its promise could not be kept' };
  s.book.settle(lease);
  const taken = triedFirst ? '; the first offer no longer fits' : '';
  failLease(s, lease, now, why.code, `${why.message}; no offer was taken by ${now}${taken}, and the site's default is to cancel`);
}
