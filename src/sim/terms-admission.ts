// A simulation holds each request to the site's terms as the service does (control/terms-inputs.ts):
// one the terms refuse is rejected at its arrival with reason policy, and counted so in the metrics.

import type { Scheduler } from '../core/scheduler.ts';
import { type Asker, type Terms, termsRefusal } from '../core/terms.ts';
import type { Done, LeaseRequest } from '../core/types.ts';

/** Who asks in a trace: a user in no group (a trace names none of the site's groups). */
const TRACE_ASKER: Asker = { group: null, memberOf: [], admin: false };

/** Why the terms refuse the request at its arrival, or null. */
export function refusedByTerms(req: LeaseRequest, now: number, terms: Terms | undefined): string | null {
  const r = terms ? termsRefusal(req, TRACE_ASKER, terms, now) : null;
  return r ? `${r.message} (terms rule ${r.rule})` : null;
}

/** Submits a request at its arrival, unless the terms refuse it: then it is kept as rejected. */
export function submitUnder(scheduler: Scheduler, req: LeaseRequest, now: number, terms: Terms | undefined): Done {
  const refused = refusedByTerms(req, now, terms);
  return refused ? scheduler.refuse(req, now, 'policy', refused) : scheduler.submit(req, now);
}
