// When the site must break a promise, the lease is not failed outright: it waits in
// 'renegotiating' with offers (promise-break.ts). Here: what becomes of it if its owner takes none
// in time, the site's default: it is cancelled, or takes the first offer that still fits.

import { applyChange } from './change-apply.ts';
import type { ChangeAlternative, LeaseChange } from './change-plan.ts';
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
    const offers = s.config.renegotiationDefault === 'first-offer' ? lease.offers ?? [] : [];
    if (takeFirstThatFits(s, lease, offers, now, policies)) continue;
    // A move to another back-end is the site's to make: it waits for it, still renegotiating.
    if (offers.some((o) => o.kind === 'other-backend') && s.moves) {
      s.moves.lapsed.push(lease);
      continue;
    }
    lapseUntaken(s, lease, now, offers.length > 0);
  }
  return lapsed;
}

/**
 * Takes the first of the lease's own back-end's offers that still fits: an offer to start at an
 * instant now past (one made to start at once, when the promise broke) starts as soon as it can.
 */
function takeFirstThatFits(s: CoreState, lease: LeaseRecord, offers: readonly ChangeAlternative[], now: number, policies: Policies): boolean {
  for (const offer of offers) {
    if (offer.kind === 'other-backend') continue;
    const plan = planChange(s, lease.req.id, startingNoEarlier(offer.change, now + s.config.bootSeconds), policies, 0);
    if (plan.ok) {
      applyChange(s, plan);
      return true;
    }
  }
  return false;
}

/** The change, its start (where it names one) moved to `earliest` if it is before. */
function startingNoEarlier(change: LeaseChange, earliest: number): LeaseChange {
  return change.start !== undefined && change.start < earliest ? { ...change, start: earliest } : change;
}

/** The lease took no offer in time, and the default took none (`triedFirst`: no offer fits any more): it fails, saying so. */
export function lapseUntaken(s: CoreState, lease: LeaseRecord, now: number, triedFirst: boolean): void {
  const why = lease.failure ?? { code: 'renegotiation-lapsed', message: 'its promise could not be kept' };
  s.book.settle(lease);
  const taken = triedFirst ? '; none of its offers fits any more' : '';
  failLease(s, lease, now, why.code, `${why.message}; no offer was taken by ${now}${taken}, and the site's default is to cancel`);
}
