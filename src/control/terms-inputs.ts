// The site's terms at the service: who asks (for the rules on groups), the check every quote,
// hold and create passes before anything is planned or logged, and a change of terms, logged as
// an input so that it applies from its instant on, live and in a replay alike (site-terms.ts).

import { configOfTerms, type Asker, type Terms, termsRefusal } from '../core/terms.ts';
import type { LeaseRequest } from '../core/types.ts';
import { allocationCheck, quotaCheck } from './allocations.ts';
import type { ControlLoop } from './control-loop.ts';
import { done, refuse, type Refusal, type Result } from './refusal.ts';
import { sameTerms, type TermsInForce } from './site-terms.ts';

/** Who asks, as the terms' rules read it: the lease's group, the owner's groups, whether an administrator. */
export async function askerOf(loop: ControlLoop, owner: string, group: string | null): Promise<Asker> {
  // The owner's groups and role matter only to rules on groups: terms with none need no reads of the store.
  const byGroup = Object.values(loop.terms.current.kinds).some((k) => k.groups !== null);
  if (owner === '' || !byGroup) return { group, memberOf: [], admin: false };
  const [user, memberOf] = await Promise.all([loop.store.getUser(owner), loop.store.groupsOf(owner)]);
  return { group, memberOf, admin: user?.isAdmin ?? false };
}

/** The terms' refusal of a request (code policy, with the rule and the nearest request they take), or null. */
export function termsCheck(loop: ControlLoop, req: LeaseRequest, asker: Asker, now: number): Refusal | null {
  const r = termsRefusal(req, asker, loop.terms.current, now);
  return r ? refuse('policy', `${r.message} (terms rule ${r.rule})`, { rule: r.rule, ...(r.alternative ? { alternative: { ...req, ...r.alternative } } : {}) }) : null;
}

/**
 * Everything the terms ask of a request before it is planned, in order: the kind and its limits,
 * the quotas of its owner and group, and its group's allocation.
 */
export async function admissionRefusal(loop: ControlLoop, req: LeaseRequest, owner: string, group: string | null, now: number): Promise<Refusal | null> {
  const asker = await askerOf(loop, owner, group);
  return termsCheck(loop, req, asker, now) ?? quotaCheck(loop, req, owner, group) ?? allocationCheck(loop, req, asker, now);
}

/** A hold longer than the terms allow. */
export function holdTermsCheck(loop: ControlLoop, ttlSeconds: number): Refusal | null {
  const max = loop.terms.current.holds.maxTtl;
  return ttlSeconds > max ? refuse('policy', `a hold may last at most ${max} s on this site, this one asks for ${ttlSeconds} s: ask for ${max} s or less (terms rule holds.maxTtl)`, { rule: 'holds.maxTtl', path: 'body.ttl' }) : null;
}

/**
 * Puts `terms` in force now, as `by`'s change; the terms in force stay if the scheduler would
 * refuse their policy (the image mode once leases exist). The same terms again change nothing.
 */
export function setTerms(loop: ControlLoop, terms: Terms, by: string): Promise<Result<TermsInForce>> {
  return loop.exclusive(async () => {
    if (sameTerms(terms, loop.terms.current)) return done(loop.terms.inForce);
    const refused = loop.scheduler.policyRefusal(configOfTerms(terms));
    if (refused) return refuse('policy', `${refused.message}; the terms in force (version ${loop.terms.inForce.version}) stay`, { rule: 'scheduling' });
    const now = await loop.syncTo(loop.clock.now());
    await loop.record({ type: 'terms', terms, by }, now);
    await loop.flush();
    return done(loop.terms.inForce);
  });
}
