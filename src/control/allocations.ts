// Admission within a site's allocations and quotas (core/accounts.ts): checked, as the rest of the
// terms are, before a request is planned or logged, inside the loop's exclusive section, so that
// requests arriving together are admitted one after another and none spends what another was given.

import { accountOf, cpuOf, memoryOf, ownQuota, type Period, periodOf, quotaFor } from '../core/accounts.ts';
import { kindsOffered, type Asker } from '../core/terms.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { ControlLoop } from './control-loop.ts';
import { priceOf } from './prices.ts';
import { occurrenceCount } from '../core/periodic.ts';
import { refuse, type Refusal } from './refusal.ts';

/** Why the request would take its owner or its group past a quota on cores or memory held at once, or null. */
export function quotaCheck(loop: ControlLoop, req: LeaseRequest, owner: string, group: string | null): Refusal | null {
  const terms = loop.terms.current;
  const scopes: Array<{ who: 'user' | 'group'; name: string }> = [{ who: 'user', name: owner }, ...(group ? [{ who: 'group' as const, name: group }] : [])];
  for (const { who, name } of scopes) {
    const q = quotaFor(terms, who, name);
    if (q.cpus === null && q.memoryMiB === null) continue;
    const tally = loop.tallies.at('month', loop.scheduler.time);
    const { cpus, memoryMiB: mem } = who === 'user' ? tally.user(name) : tally.group(name);
    const rule = `quotas.${ownQuota(terms, who, name) ? `${who}s.${name}` : who === 'user' ? 'perUser' : 'perGroup'}`;
    // Each scheduled occurrence of a periodic lease is a live lease of its own, and counts.
    const n = occurrenceCount(req);
    const over = q.cpus !== null && cpus + n * cpuOf(req) > q.cpus ? { what: 'cores', held: cpus, asked: n * cpuOf(req), max: q.cpus, per: n * req.perNode.cpu }
      : q.memoryMiB !== null && mem + n * memoryOf(req) > q.memoryMiB ? { what: 'MiB of memory', held: mem, asked: n * memoryOf(req), max: q.memoryMiB, per: n * req.perNode.memoryMiB } : null;
    if (!over) continue;
    const fit = req.roles || over.per <= 0 ? 0 : Math.floor((over.max - over.held) / over.per + 1e-9);
    const instead = fit >= 1 ? `ask for ${fit} node${fit === 1 ? '' : 's'} or fewer, or ` : '';
    return refuse('over-quota', `${who} ${name}'s live leases hold ${over.held} ${over.what} of the ${over.max} its quota allows, and this lease asks for ${over.asked}: ${instead}wait until one of them ends (terms rule ${rule})`, {
      rule, ...(fit >= 1 ? { alternative: { ...req, nodes: Math.min(fit, req.nodes) } } : {}),
    });
  }
  return null;
}

/** What the account of `group` has spent and promised in its current period (account-tally.ts), and what it is granted; null when the group has no account. */
export function balanceOf(loop: ControlLoop, group: string, now: number): { period: Period; allocation: number; spent: number } | null {
  const account = accountOf(loop.terms.current, group);
  if (!account) return null;
  return { period: periodOf(now, account.period), allocation: account.allocation, spent: loop.tallies.at(account.period, now).group(group).units };
}

/**
 * Why the request would take its group's account past its allocation, with the nearest request
 * that fits (fewer nodes, a shorter run, a cheaper kind, or a start in the next period), or null.
 */
export function allocationCheck(loop: ControlLoop, req: LeaseRequest, asker: Asker, now: number): Refusal | null {
  if (asker.group === null) return null;
  const balance = balanceOf(loop, asker.group, now);
  if (!balance) return null;
  const terms = loop.terms.current;
  const billing = loop.backendOf(req).billing;
  // A periodic lease is each of its occurrences, each charged once it runs.
  const price = (r: LeaseRequest): number => (priceOf(r, terms, billing)?.amount ?? 0) * occurrenceCount(r);
  const left = balance.allocation - balance.spent;
  const cost = price(req);
  if (cost <= left + 1e-9) return null;
  const offers: Array<[string, LeaseRequest]> = [];
  if (!req.roles && req.nodes > 1) {
    const nodes = Math.floor((left / cost) * req.nodes + 1e-9);
    if (nodes >= 1) offers.push([`${nodes} node${nodes === 1 ? '' : 's'}`, { ...req, nodes }]);
  }
  const duration = Math.floor((left / cost) * req.duration);
  if (duration >= 60) offers.push([`${duration} s`, { ...req, duration }]);
  if (req.kind !== 'best-effort' && kindsOffered(terms, asker).includes('best-effort')) {
    const be: LeaseRequest = { ...req, kind: 'best-effort', requestedStart: null, preemptible: terms.kinds['best-effort']!.preemptible, deadline: undefined, recurrence: undefined };
    if (price(be) <= left) offers.push(['a best-effort lease', be]);
  }
  if (req.requestedStart !== null) offers.push([`a start from ${balance.period.to}, when the next period's allocation begins`, { ...req, requestedStart: Math.max(req.requestedStart, balance.period.to) }]);
  const [first] = offers;
  const instead = offers.length > 0 ? `ask for ${offers.map(([what]) => what).join(', or ')}` : `ask again from ${balance.period.to}, when the next period's allocation begins`;
  return refuse('insufficient-allocation', `group ${asker.group}'s account has ${Math.max(0, left).toFixed(2)} ${terms.unit.name} left of its ${balance.allocation} for ${balance.period.name} (${balance.spent.toFixed(2)} spent or promised to its live leases), and this lease costs ${cost.toFixed(2)}: ${instead}`, {
    rule: `accounts.${asker.group}`, ...(first ? { alternative: first[1] } : {}),
  });
}
