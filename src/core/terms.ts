// A site's terms: which lease kinds it offers and to whom, how large, how long and how far ahead
// they may be, what they cost in the site's unit, and how it schedules and preempts. One document,
// read by `vws serve` and `vws sim` alike, so that a site simulates exactly what it runs (parsed
// and checked in terms-document.ts). The check here is pure: a request and who asks, against the
// terms, gives no refusal or one naming the rule it breaks and the nearest request that keeps it.

import { type SchedulerConfig, DEFAULT_CONFIG } from './config.ts';
import type { LeaseKind, LeaseRequest } from './types.ts';

export const LEASE_KINDS: readonly LeaseKind[] = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'];

export interface KindTerms {
  /** The groups whose members may ask for it; null: everyone. Administrators always may. */
  groups: readonly string[] | null;
  maxNodes: number | null;
  /** Seconds, of one occurrence for a periodic lease. */
  minDuration: number | null;
  maxDuration: number | null;
  /** How far after the request its start may be asked for (an exact or periodic lease's start, a deadline lease's earliest start). */
  maxHorizon: number | null;
  /** Whether leases of this kind may be preemptible (only best-effort leases are ever preempted). */
  preemptible: boolean;
  /** Its price, as a multiple of the unit's rates. */
  priceFactor: number;
}

/**
 * The unit of resource usage and its rates. By default a service unit (SU) is one core for an
 * hour with the memory that comes with it (XSEDE's SU; Slurm's TRES billing weights CPU so):
 * memory is priced only where a site sets perGiBHour.
 */
export interface UnitTerms {
  name: string;
  definition: string;
  perCoreHour: number;
  perGiBHour: number;
  /** Multiplies the price of a preemptible lease: a site gives back part of what it may take. */
  preemptibleFactor: number;
}

/** How a preemptible lease gives way to a reservation (the scheduler's `preemption`, `migration` and victim policies). */
export interface PreemptionTerms {
  how: SchedulerConfig['preemption'];
  /** Whether a suspended lease may resume on other nodes. */
  migrate: boolean;
  victims: string;
  urgentVictims: string;
  /** How long before a reservation that preempts them begins its victims are told (config.preemptionNoticeSeconds). */
  noticeSeconds: number;
}

/** The rest of the scheduler's configuration (core/config.ts), by the same names. */
export type SchedulingTerms = Omit<SchedulerConfig, 'preemption' | 'migration' | 'preemptionPolicy' | 'urgentPreemptionPolicy' | 'preemptionNoticeSeconds' | 'suspendedState' | 'nodesToCome'>;

export type PeriodKind = 'month' | 'quarter' | 'year';

/** A group's account (accounts.ts): units granted each period. */
export interface AccountTerms {
  allocation: number;
  period: PeriodKind;
}

/** The most cores and memory a user's or a group's live leases may hold at once; null: no limit. */
export interface QuotaTerms {
  cpus: number | null;
  memoryMiB: number | null;
}

export interface QuotasTerms {
  perUser: QuotaTerms;
  perGroup: QuotaTerms;
  /** Users and groups with quotas of their own. */
  users: Record<string, QuotaTerms>;
  groups: Record<string, QuotaTerms>;
}

export interface Terms {
  unit: UnitTerms;
  /** The kinds offered; a kind not listed is not offered. */
  kinds: Partial<Record<LeaseKind, KindTerms>>;
  /** The longest a hold may last before it is committed, in seconds. */
  holds: { maxTtl: number };
  preemption: PreemptionTerms;
  scheduling: SchedulingTerms;
  /** Accounts by group: a lease for a group with an account is admitted within its allocation. */
  accounts: Record<string, AccountTerms>;
  quotas: QuotasTerms;
}

const NO_QUOTA: QuotaTerms = { cpus: null, memoryMiB: null };

const OPEN_KIND: KindTerms = { groups: null, maxNodes: null, minDuration: null, maxDuration: null, maxHorizon: null, preemptible: true, priceFactor: 1 };

/** What a site offers unless it says otherwise: every kind to everyone, within the pool, at one price; the scheduler's defaults. */
export const DEFAULT_TERMS: Terms = {
  unit: { name: 'SU', definition: 'one CPU core with its share of memory for one hour', perCoreHour: 1, perGiBHour: 0, preemptibleFactor: 1 },
  kinds: Object.fromEntries(LEASE_KINDS.map((k) => [k, { ...OPEN_KIND, preemptible: k === 'best-effort' }])),
  holds: { maxTtl: 86_400 },
  preemption: {
    how: DEFAULT_CONFIG.preemption, migrate: DEFAULT_CONFIG.migration, victims: DEFAULT_CONFIG.preemptionPolicy,
    urgentVictims: DEFAULT_CONFIG.urgentPreemptionPolicy, noticeSeconds: DEFAULT_CONFIG.preemptionNoticeSeconds,
  },
  scheduling: schedulingOf(DEFAULT_CONFIG),
  accounts: {},
  quotas: { perUser: NO_QUOTA, perGroup: NO_QUOTA, users: {}, groups: {} },
};

/** Where suspended state waits is a back-end's (what its driver can do: BackendSpec.fixed), not the site's to set. */
export function schedulingOf(config: SchedulerConfig): SchedulingTerms {
  const { preemption: _p, migration: _m, preemptionPolicy: _v, urgentPreemptionPolicy: _u, preemptionNoticeSeconds: _n, suspendedState: _s, nodesToCome: _c, ...rest } = config;
  return rest;
}

/** The scheduler's configuration the terms set. */
export function configOfTerms(terms: Terms): SchedulerConfig {
  const p = terms.preemption;
  return { ...terms.scheduling, preemption: p.how, migration: p.migrate, preemptionPolicy: p.victims, urgentPreemptionPolicy: p.urgentVictims, preemptionNoticeSeconds: p.noticeSeconds, suspendedState: DEFAULT_CONFIG.suspendedState, nodesToCome: DEFAULT_CONFIG.nodesToCome };
}

/** Who asks: the group the lease is for (if named), the groups the owner is in, and whether an administrator asks. */
export interface Asker {
  group: string | null;
  memberOf: readonly string[];
  admin: boolean;
}

/** A request the terms refuse: the rule (its path in the document), why, and the nearest request they accept, as fields to change. */
export interface TermsRefusal {
  rule: string;
  message: string;
  alternative: Partial<Pick<LeaseRequest, 'nodes' | 'duration' | 'requestedStart' | 'preemptible'>> | null;
}

const KIND_NAMES: Record<LeaseKind, string> = {
  'best-effort': 'best-effort lease', immediate: 'immediate lease', exact: 'advance reservation', urgent: 'urgent lease', deadline: 'deadline lease', periodic: 'periodic lease',
};

const mayAsk = (kt: KindTerms, asker: Asker): boolean =>
  asker.admin || kt.groups === null || (asker.group !== null ? kt.groups.includes(asker.group) : asker.memberOf.some((g) => kt.groups!.includes(g)));

/** The kinds this asker may ask for, best-effort first where it is one of them. */
export function kindsOffered(terms: Terms, asker: Asker): LeaseKind[] {
  return LEASE_KINDS.filter((k) => terms.kinds[k] !== undefined && mayAsk(terms.kinds[k]!, asker));
}

/** The terms' refusal of `req` asked by `asker` at `now`, or null when the terms allow it. */
export function termsRefusal(req: LeaseRequest, asker: Asker, terms: Terms, now: number): TermsRefusal | null {
  const kt = terms.kinds[req.kind];
  const name = KIND_NAMES[req.kind];
  if (!kt || !mayAsk(kt, asker)) {
    const others = kindsOffered(terms, asker);
    const instead = others.length > 0 ? `ask for a kind you may: ${others.join(', ')}` : 'this site offers you no kind of lease: ask its administrators to add your group to its terms';
    const why = !kt ? `this site does not offer ${name}s (kind '${req.kind}')` : `${name}s are offered to members of ${kt.groups!.join(', ')}${asker.group !== null ? `, not to group '${asker.group}'` : ''}`;
    // No request is offered instead: another kind asks for fields of its own (a start, a deadline).
    return { rule: kt ? `kinds.${req.kind}.groups` : `kinds.${req.kind}`, message: `${why}: ${instead}`, alternative: null };
  }
  const broken = brokenRules(req, kt, now);
  if (broken.length === 0) return null;
  const [first] = broken;
  // The nearest request the terms take: every broken limit brought to its bound at once (a
  // cluster's nodes are its roles' members: which to drop is the owner's choice, not ours).
  const alternative = req.roles && broken.some((b) => b.key === 'maxNodes') ? null : Object.assign({}, ...broken.map((b) => b.fix));
  return { rule: `kinds.${req.kind}.${first.key}`, message: first.message(name), alternative };
}

interface Broken {
  key: keyof KindTerms;
  message: (name: string) => string;
  fix: TermsRefusal['alternative'];
}

function brokenRules(req: LeaseRequest, kt: KindTerms, now: number): Broken[] {
  const out: Broken[] = [];
  if (kt.maxNodes !== null && req.nodes > kt.maxNodes) {
    const max = kt.maxNodes;
    out.push({ key: 'maxNodes', message: (name) => `a ${name} may have at most ${max} nodes, this one asks for ${req.nodes}: ask for ${max} or fewer`, fix: { nodes: max } });
  }
  if (kt.minDuration !== null && req.duration < kt.minDuration) {
    const min = kt.minDuration;
    out.push({ key: 'minDuration', message: (name) => `a ${name} must last at least ${min} s, this one asks for ${req.duration} s: ask for ${min} s or more`, fix: { duration: min } });
  }
  if (kt.maxDuration !== null && req.duration > kt.maxDuration) {
    const max = kt.maxDuration;
    out.push({ key: 'maxDuration', message: (name) => `a ${name} may last at most ${max} s, this one asks for ${req.duration} s: ask for ${max} s or less`, fix: { duration: max } });
  }
  if (kt.maxHorizon !== null) {
    const horizon = kt.maxHorizon;
    const latest = now + horizon;
    if (req.requestedStart !== null && req.requestedStart > latest) {
      out.push({ key: 'maxHorizon', message: (name) => `a ${name} may start at most ${horizon} s ahead (by ${latest}), this one asks for ${req.requestedStart}: ask for a start by ${latest}, or ask again later`, fix: { requestedStart: latest } });
    }
  }
  if (req.preemptible && !kt.preemptible) {
    out.push({ key: 'preemptible', message: (name) => `${name}s are not preemptible on this site: ask for one that is not (preemptible false)`, fix: { preemptible: false } });
  }
  return out;
}

/** The price factor of a request under the terms: its kind's, times the unit's preemptible factor for a preemptible lease. */
export function priceFactorOf(req: Pick<LeaseRequest, 'kind' | 'preemptible'>, terms: Terms): number {
  const kind = terms.kinds[req.kind]?.priceFactor ?? 1;
  return req.preemptible ? kind * terms.unit.preemptibleFactor : kind;
}
