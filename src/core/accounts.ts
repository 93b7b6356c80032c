// Allocations and quotas, as the site's terms set them (terms.ts): an account per group, granted
// so many units per period (a calendar month, quarter or year, UTC), and limits on the cores and
// memory a user's or a group's live leases hold at once. Pure: the service and the simulator
// give the leases and the instant; nothing here reads a clock.
//
// What counts against an allocation is what the account's leases have been charged in the period
// so far, and what its live leases would still be charged if they ran their whole duration: an
// admission never spends what is already promised (Slurm's GrpTRESMins counts running jobs' time
// the same way). A lease's expected charge is counted in the period it is admitted in.

import type { LeaseRecord } from './lease-record.ts';
import { meteredUsage, unitsCharged } from './metering.ts';
import type { AccountTerms, PeriodKind, QuotaTerms, Terms } from './terms.ts';
import type { LeaseRequest } from './types.ts';

export interface Period {
  /** 2026-12, 2026-Q4, 2026. */
  name: string;
  from: number;
  to: number;
}

const utc = (y: number, m: number): number => Date.UTC(y, m, 1) / 1000;

/** The period of that kind holding instant `t` (epoch seconds). */
export function periodOf(t: number, kind: PeriodKind): Period {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'year') return { name: String(y), from: utc(y, 0), to: utc(y + 1, 0) };
  if (kind === 'quarter') {
    const q = Math.floor(m / 3);
    return { name: `${y}-Q${q + 1}`, from: utc(y, q * 3), to: utc(y, q * 3 + 3) };
  }
  return { name: `${y}-${String(m + 1).padStart(2, '0')}`, from: utc(y, m), to: utc(y, m + 1) };
}

/** A period by its name (2026-12, 2026-Q4, 2026), or null when the name is none of these. */
export function periodNamed(name: string): Period | null {
  const m = /^(\d{4})(?:-(\d{2})|-Q([1-4]))?$/.exec(name);
  if (!m) return null;
  const y = Number(m[1]);
  if (m[2] !== undefined) {
    const month = Number(m[2]);
    return month >= 1 && month <= 12 ? periodOf(utc(y, month - 1), 'month') : null;
  }
  return m[3] !== undefined ? periodOf(utc(y, (Number(m[3]) - 1) * 3), 'quarter') : periodOf(utc(y, 0), 'year');
}

/** The units a lease was charged for what it ran within [from, to). */
export function chargedWithin(lease: LeaseRecord, terms: Terms, from: number, to: number): number {
  return unitsCharged(lease.req, meteredUsage(lease, to, from), terms);
}

/**
 * What a live lease would still be charged, at most: its run time not yet run, at its price. A
 * periodic lease's occurrences are leases of their own, each counted; the series itself runs nothing.
 */
export function stillToCharge(lease: LeaseRecord, terms: Terms, now: number): number {
  if (lease.req.recurrence) return 0;
  return Math.max(0, priceOfRun(lease.req, terms) - unitsCharged(lease.req, meteredUsage(lease, now), terms));
}

/** The units a request's whole run is charged: what a quote prices on the pool. */
export function priceOfRun(req: LeaseRequest, terms: Terms): number {
  const d = req.duration;
  return unitsCharged(req, { running: { coreSeconds: cpuOf(req) * d, mibSeconds: memoryOf(req) * d } }, terms);
}

/** The cores a request's VMs hold together. */
export function cpuOf(req: Pick<LeaseRequest, 'roles' | 'nodes' | 'perNode'>): number {
  return req.roles ? req.roles.reduce((s, r) => s + r.count * r.perNode.cpu, 0) : req.nodes * req.perNode.cpu;
}

export function memoryOf(req: Pick<LeaseRequest, 'roles' | 'nodes' | 'perNode'>): number {
  return req.roles ? req.roles.reduce((s, r) => s + r.count * r.perNode.memoryMiB, 0) : req.nodes * req.perNode.memoryMiB;
}

// Names are the site's users and groups: one named "constructor" must not find Object's.
const own = <T>(record: Record<string, T>, name: string): T | undefined => (Object.hasOwn(record, name) ? record[name] : undefined);

/** A group's account, if the terms give it one. */
export const accountOf = (terms: Terms, group: string): AccountTerms | undefined => own(terms.accounts, group);

/** The quota a user or group has of its own, if the terms name one. */
export const ownQuota = (terms: Terms, who: 'user' | 'group', name: string): QuotaTerms | undefined => own(who === 'user' ? terms.quotas.users : terms.quotas.groups, name);

/** The quota that holds for a user or group: its own if the terms name one, else the default for all. */
export function quotaFor(terms: Terms, who: 'user' | 'group', name: string): QuotaTerms {
  return ownQuota(terms, who, name) ?? (who === 'user' ? terms.quotas.perUser : terms.quotas.perGroup);
}
