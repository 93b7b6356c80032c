// Leases that move from one back-end of a site to another (backends.ts), the site's side of it
// (lease-moves.ts has each back-end's): a best-effort lease that bursts, having waited too long,
// and a lease whose promise its back-end broke, offered the same lease on the others and moved
// when its owner (or the site's `first-offer` default) takes the offer. A move leaves a cancelled
// record on the back-end it left, which nobody sees (`moved` says where the lease went), and
// places the lease on the other with its request naming it; refused, nothing changes on either.

import type { BackendSteps } from './backend-steps.ts';
import type { AcceptedChange, ChangePlan, LeaseChange } from './change-plan.ts';
import { changeProblem } from './lease-change.ts';
import type { Scheduler, StepResult } from './scheduler.ts';
import { type Done, type LeaseRequest, refusal, type RefusalCode } from './types.ts';

/** What of a site its moves need. */
export interface MoveSite {
  /** The back-ends, the site's own pool first: the order offers on them are made in. */
  readonly list: ReadonlyArray<{ readonly name: string; readonly scheduler: Scheduler }>;
  readonly clock: BackendSteps;
  /** Leases that moved, to the back-end that has them now. */
  readonly moved: Map<string, string>;
  home(id: string): { name: string; scheduler: Scheduler } | undefined;
  /** Why there is no back-end of that name, or null. */
  missing(name: string): string | null;
  /** Why the lease may not move to that back-end (its owner has no account there, say), or null: the site's rule. */
  refusesMove(req: LeaseRequest, backend: string): string | null;
}

type Side = { name: string; scheduler: Scheduler };

/**
 * Adds to every lease whose promise broke since last asked the offers of the site's other
 * back-ends, after its own back-end's, in the site's order: the same lease on each back-end that
 * could hold it and that it may move to, at the earliest start there. Made at once, as its own
 * back-end's are, so that they are as true as those.
 */
export function offerMoves(site: MoveSite, now: number): void {
  // Bringing a back-end to `now` to ask it may break a promise there in turn (a pilot's node leaving).
  for (let again = true; again;) {
    again = false;
    for (const from of site.list) {
      for (const lease of from.scheduler.moves.takeBroken()) {
        again = true;
        const offers = site.list.flatMap((to) => {
          if (to === from || to.scheduler.lease(lease.req.id) || site.refusesMove(lease.req, to.name) !== null) return [];
          const offer = site.clock.at(to.scheduler, now).moves.offer(lease.req, to.name);
          return offer ? [offer] : [];
        });
        if (offers.length > 0) lease.offers = [...(lease.offers ?? []), ...offers];
      }
    }
  }
}

/** The lease's back-end and the one the change names, or why it cannot move there as asked (nothing planned yet). */
function sides(site: MoveSite, id: string, change: LeaseChange, now: number): { from: Side; to: Side } | { code: RefusalCode; message: string } {
  const problem = changeProblem(change);
  if (problem) return { code: 'invalid', message: problem };
  const from = site.home(id);
  const lease = from?.scheduler.lease(id);
  if (!from || !lease) return { code: 'not-found', message: `no lease '${id}'` };
  const name = change.backend!;
  const missing = site.missing(name);
  if (missing) return { code: 'invalid', message: missing };
  const others = site.list.filter((b) => b.name !== from.name).map((b) => b.name).join(', ');
  if (name === from.name) return { code: 'invalid', message: `lease '${id}' is on back-end '${name}' already: name another (${others}), or no back-end to change it where it is` };
  if (lease.state !== 'renegotiating') return { code: 'wrong-state', message: `lease '${id}' is ${lease.state}: a lease moves to another back-end only while it renegotiates a promise the site broke, taking an offer made to it` };
  const to = site.list.find((b) => b.name === name)!;
  if (to.scheduler.lease(id)) return { code: 'unsupported', message: `lease '${id}' has left back-end '${name}' before: a lease moves to each back-end at most once` };
  const refused = site.refusesMove(lease.req, name);
  if (refused) return { code: 'policy', message: `lease '${id}' may not move to back-end '${name}': ${refused}` };
  site.clock.at(to.scheduler, now);
  return { from, to };
}

/** The plan for moving lease `id` as `change` (naming another back-end) asks, made on the back-end it names; changes nothing there. */
export function planMove(site: MoveSite, id: string, change: LeaseChange, now: number, maxAlternatives: number): ChangePlan {
  const s = sides(site, id, change, now);
  if ('code' in s) return { leaseId: id, change, at: now, version: -1, ok: false, code: s.code, message: s.message, alternatives: [] };
  return s.to.scheduler.moves.plan(s.from.scheduler.lease(id)!, change, maxAlternatives);
}

/**
 * Moves lease `id`, whole: by `plan` (planMove's for this very change) if nothing changed since,
 * else as planned now. `asInput`: an owner's change, after which both back-ends step at the next
 * step (the site's own default steps them itself).
 */
export function move(site: MoveSite, id: string, change: LeaseChange, now: number, plan?: ChangePlan, asInput = true): Done<{ plan: AcceptedChange }> {
  const s = sides(site, id, change, now);
  if ('code' in s) return refusal(s.code, s.message);
  const { from, to } = s;
  const lease = from.scheduler.lease(id)!;
  const current = plan !== undefined && plan.leaseId === id && plan.change === change && plan.at === now && plan.version === to.scheduler.version
    ? plan : to.scheduler.moves.plan(lease, change, 0);
  if (!current.ok) return refusal(current.code, current.message);
  if (asInput) {
    site.clock.touch(from.scheduler);
    site.clock.touch(to.scheduler);
  }
  mustBeDone(site.clock.at(from.scheduler, now).cancel(id, now), id);
  site.moved.set(id, to.name);
  to.scheduler.moves.arrive(lease, current);
  return { ok: true, plan: current };
}

/**
 * The leases whose owners took no offer in time, on a site whose default takes the first that
 * fits, where none of their own back-end's did: moved to the first other back-end that still
 * takes them, else failed as a lease none of whose offers fits. The steps of the back-ends this
 * changed, at `now`.
 */
export function lapseMoves(site: MoveSite, now: number): StepResult[] {
  const steps: StepResult[] = [];
  for (const from of site.list) {
    for (const lease of from.scheduler.moves.takeLapsed()) {
      // The first other back-end's offer that still fits; one offered to start at once starts as soon as it can there, not in the past.
      let to: string | null = null;
      for (const offer of lease.offers!.filter((o) => o.kind === 'other-backend')) {
        const { start, ...rest } = offer.change;
        const change = start !== undefined && start < now ? rest : offer.change;
        if (move(site, lease.req.id, change, now, undefined, false).ok) {
          to = change.backend!;
          break;
        }
      }
      if (to === null) from.scheduler.moves.lapse(lease);
      steps.push(site.clock.step(from.scheduler, now));
      if (to !== null) steps.push(site.clock.step(site.list.find((b) => b.name === to)!.scheduler, now));
    }
  }
  return steps;
}

/**
 * Moves a lease that still waits (queued, or planned but not begun) to the back-end it may burst
 * to, if that one accepts it now as it stands; a lease that has begun, ended or been refused
 * there stays where it is. The steps of both back-ends at `now`, or null if it stayed.
 */
export function burstNow(site: MoveSite, due: { id: string; backend: string }, now: number): StepResult[] | null {
  const from = site.home(due.id)?.scheduler;
  const lease = from?.lease(due.id);
  if (!from || !lease) return null;
  const to = site.list.find((b) => b.name === due.backend)!.scheduler;
  // Begun: a segment (history holds planned ones too) at or before now, or work done.
  const begun = lease.firstStart !== null || lease.done > 0 || lease.history.some((seg) => seg.start <= now) || lease.chain.some((seg) => seg.active);
  if (begun || (lease.state !== 'queued' && lease.state !== 'scheduled')) return null;
  const { burst: _, ...rest } = lease.req;
  const req: LeaseRequest = { ...rest, backend: due.backend };
  const plan = site.clock.at(to, now).plan(req, now);
  if (!plan.ok) return null;
  mustBeDone(site.clock.at(from, now).cancel(due.id, now), due.id);
  site.moved.set(due.id, due.backend);
  mustBeDone(to.submit(req, now, plan), due.id);
  return [site.clock.step(from, now), site.clock.step(to, now)];
}

/** What the core did on its own initiative must not be refused: a refusal here is a bug. */
function mustBeDone(done: Done, id: string): void {
  if (!done.ok) throw new Error(`internal: moving lease '${id}' between back-ends was refused: ${done.message}`);
}
