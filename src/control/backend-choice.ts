// Which back-end a request runs on, and what each would answer: the request's own choice if it
// names one, else the site's policy (core/bursting.ts) over every back-end the owner may use. An
// owner without an account on a billing back-end, or a shape the back-end cannot run, is refused
// there with the reason; the other back-ends still answer.

import { type BackendOption, chooseBackend } from '../core/bursting.ts';
import { type Quote, quoteOf } from '../core/negotiation.ts';
import type { Plan } from '../core/plan.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { LeaseOwner } from '../drivers/plugin.ts';
import type { ControlLoop } from './control-loop.ts';
import { beyondDriverQuote, requestBeyondDriver } from './driver-fit.ts';
import { priceOf } from './prices.ts';
import type { Terms } from '../core/terms.ts';
import type { BackendQuote } from './refusal.ts';
import type { ServiceBackend } from './service-backend.ts';

type Refused = Extract<Quote, { ok: false }>;

/** One back-end's answer: a plan (none where the queue takes a best-effort lease as it is), or why not. */
interface Answer {
  backend: ServiceBackend;
  req: LeaseRequest;
  plan: Plan | undefined;
  refused: Refused | null;
}

export interface Choice {
  /** The request as it is to be logged: with its back-end named where the site has several. */
  req: LeaseRequest;
  plan: Plan | undefined;
  /** The chosen back-end's refusal (every back-end refused). */
  refused: Refused | null;
  /** Each back-end's answer, where more than one was asked. */
  options?: BackendQuote[];
}

/**
 * `noPlanNeeded`: a request the chosen back-end takes without a plan (a best-effort lease that
 * fits its open nodes); planned anyway where back-ends are compared.
 */
export function chooseFor(loop: ControlLoop, who: LeaseOwner, request: LeaseRequest, now: number, terms: Terms, noPlanNeeded: (req: LeaseRequest) => boolean): Choice {
  const several = loop.backends.length > 1;
  const missing = request.backend === undefined ? null : loop.scheduler.missing(request.backend);
  if (missing) return { req: request, plan: undefined, refused: beyondDriverQuote(request, `${missing}; name one of them, or none to let the site choose`) };
  const candidates = request.backend !== undefined ? loop.backends.filter((b) => b.name === request.backend) : loop.backends;
  const comparing = candidates.length > 1;
  const answers = candidates.map((backend): Answer => {
    const req = several ? { ...request, backend: backend.name } : request;
    const notOwner = backend.billing?.refusesOwner(who) ?? null;
    if (notOwner) return { backend, req, plan: undefined, refused: { ...beyondDriverQuote(req, notOwner), reason: 'policy' } };
    const terms = backend.refusesTerms?.(req) ?? null;
    if (terms) return { backend, req, plan: undefined, refused: { ...beyondDriverQuote(req, terms), reason: 'policy' } };
    const beyond = requestBeyondDriver(req, backend.driver);
    if (beyond) return { backend, req, plan: undefined, refused: beyondDriverQuote(req, beyond) };
    const plan = !comparing && noPlanNeeded(req) ? undefined : loop.scheduler.plan(req, now, 3);
    return { backend, req, plan, refused: plan && !plan.ok ? quoteOf(plan) : null };
  });
  const primary = loop.scheduler.primary;
  const { chosen, later } = comparing
    ? chooseBackend(answers.map((a): BackendOption => ({ backend: a.backend.name, plan: a.refused && !a.plan ? null : a.plan ?? null })), { now, queued: primary.queueLength, bootSeconds: primary.config.bootSeconds }, loop.burst)
    : { chosen: 0, later: undefined };
  const pick = answers[chosen];
  const options = comparing ? answers.map((a, k) => optionOf(a, k === chosen, terms)) : undefined;
  // A lease left to wait on the pool carries where it goes if it is still waiting: the log keeps it, so a replay moves it too.
  const req = later ? { ...pick.req, burst: later } : pick.req;
  return { req, plan: pick.plan, refused: pick.refused, ...(options ? { options } : {}) };
}

function optionOf(a: Answer, chosen: boolean, terms: Terms): BackendQuote {
  const price = priceOf(a.req, terms, a.backend.billing);
  if (a.refused) return { backend: a.backend.name, ok: false, start: a.refused.earliestStart, end: null, price, chosen, reason: a.refused.reason, message: a.refused.message };
  // Not refused: compared back-ends all planned, and this one's plan is accepted.
  const q = quoteOf(a.plan!);
  return { backend: a.backend.name, ok: true, start: q.ok ? q.start : null, end: q.ok ? q.end : null, price, chosen };
}
