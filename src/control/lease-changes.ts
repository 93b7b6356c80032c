// Renegotiating a live lease at the service: the same quote -> commit path as a new lease. A
// change is checked against the site's terms (the changed lease must be one they take), its
// owner's quotas and its group's allocation (for what it adds), and planned by the core; a
// change is logged as an input only once all of these say yes, so that a refused change leaves
// nothing behind and a replay makes the same change.

import { changedRequest, changeProblem } from '../core/lease-change.ts';
import { type ChangeAlternative, type ChangePlan, type ChangeQuote, changeQuoteOf, type LeaseChange } from '../core/change-plan.ts';
import type { LeaseRequest } from '../core/types.ts';
import { fromCore } from './action-checks.ts';
import { balanceOf, quotaCheck } from './allocations.ts';
import type { ControlLoop } from './control-loop.ts';
import { type Price, priceOf } from './prices.ts';
import { done, refuse, type Refusal, type Result } from './refusal.ts';
import { askerOf, termsCheck } from './terms-inputs.ts';

/** A change's quote, with what the lease is priced at before and after it (null where the site sets no price). */
export type ChangeAnswer = ChangeQuote & { priceBefore: Price | null; price: Price | null };

interface Planned {
  now: number;
  plan: ChangePlan & { ok: true };
  answer: ChangeAnswer;
}

/** What changing lease `id` so would do now; nothing is logged. */
export function quoteChange(loop: ControlLoop, id: string, change: LeaseChange): Promise<Result<ChangeAnswer>> {
  return loop.exclusive(async () => {
    const planned = await planNow(loop, id, change);
    return planned.ok ? done(planned.value.answer) : planned;
  });
}

/** Changes lease `id` now, whole, if its quote says yes; otherwise nothing is written. */
export function changeLease(loop: ControlLoop, id: string, change: LeaseChange): Promise<Result<ChangeAnswer>> {
  return loop.exclusive(async () => {
    const planned = await planNow(loop, id, change);
    if (!planned.ok) return planned;
    const { now, plan, answer } = planned.value;
    await loop.record({ type: 'change', id, change }, now, plan);
    await loop.flush();
    return done(answer);
  });
}

async function planNow(loop: ControlLoop, id: string, change: LeaseChange): Promise<Result<Planned>> {
  const problem = changeProblem(change);
  if (problem) return refuse('invalid-request', `body: ${problem}`, { path: 'body' });
  const missing = change.backend === undefined ? null : loop.scheduler.missing(change.backend);
  if (missing) return refuse('invalid-request', `body.backend: ${missing}`, { path: 'body.backend' });
  const now = await loop.syncTo(loop.clock.now());
  const lease = loop.scheduler.lease(id);
  if (!lease) return refuse('not-found', `no lease '${id}'`);
  const plan = loop.scheduler.planChange(id, change, now);
  // What the lease's state says first: whether the terms would take the changed lease matters only if it can change at all.
  // A change the core cannot make of such a lease is no fault of the request's form: unsupported, not invalid.
  if (!plan.ok && plan.code === 'unsupported') return refuse('unsupported', plan.message);
  if (!plan.ok && plan.code !== 'insufficient-capacity' && plan.code !== 'too-late' && plan.code !== 'exceeds-pool') return fromCore(plan, 'body')!;
  const old = lease.req;
  const next = changedRequest(old, change);
  const own = loop.owners.get(id) ?? { owner: '', group: null };
  const asker = await askerOf(loop, own.owner, own.group);
  const byTerms = termsCheck(loop, next, asker, now);
  if (byTerms) return refuse('policy', `the lease as changed would break the site's terms: ${byTerms.message}`, { rule: byTerms.rule });
  const more = addedShape(old, next);
  const overQuota = more ? quotaCheck(loop, more, own.owner, own.group) : null;
  if (overQuota) return refuse('over-quota', `the change adds ${more!.perNode.cpu} cores and ${more!.perNode.memoryMiB} MiB of memory: ${overQuota.message}`, { rule: overQuota.rule });
  const terms = loop.terms.current;
  // A move is priced as the back-end it goes to prices it.
  const priceBefore = priceOf(old, terms, loop.backendOf(id).billing);
  const price = priceOf(next, terms, change.backend === undefined ? loop.backendOf(id).billing : loop.backendOf(next).billing);
  const short = allocationShort(loop, own.group, priceBefore, price, now);
  if (short) return short;
  if (!plan.ok) return { ...fromCore(plan)!, alternatives: allowed(loop, old, plan.alternatives, asker, now) };
  return done({ now, plan, answer: { ...changeQuoteOf(plan), priceBefore, price } });
}

/** What the changed lease holds at once beyond what it held, as a one-node request (for the quotas); null if nothing. */
function addedShape(old: LeaseRequest, next: LeaseRequest): LeaseRequest | null {
  const cpu = next.nodes * next.perNode.cpu - old.nodes * old.perNode.cpu;
  const mem = next.nodes * next.perNode.memoryMiB - old.nodes * old.perNode.memoryMiB;
  if (cpu <= 0 && mem <= 0) return null;
  return { ...next, nodes: 1, roles: undefined, recurrence: undefined, perNode: { ...next.perNode, cpu: Math.max(0, cpu), memoryMiB: Math.max(0, mem) } };
}

/** A group short of allocation for what the change adds to the lease's price. */
function allocationShort(loop: ControlLoop, group: string | null, before: Price | null, after: Price | null, now: number): Refusal | null {
  if (group === null || before?.amount == null || after?.amount == null || after.amount <= before.amount) return null;
  const balance = balanceOf(loop, group, now);
  if (!balance) return null;
  const left = balance.allocation - balance.spent;
  const extra = after.amount - before.amount;
  if (extra <= left + 1e-9) return null;
  return refuse('insufficient-allocation', `the change adds ${extra} ${after.unit} to the lease's price; group ${group} has ${Math.max(0, left)} left of its allocation this period: ask for less, or ask the group's administrator for more`);
}

/** The alternatives the site's terms also take. */
function allowed(loop: ControlLoop, old: LeaseRequest, alternatives: readonly ChangeAlternative[], asker: Awaited<ReturnType<typeof askerOf>>, now: number): ChangeAlternative[] {
  return alternatives.filter((a) => termsCheck(loop, changedRequest(old, a.change), asker, now) === null);
}

export type { LeaseChange } from '../core/change-plan.ts';
