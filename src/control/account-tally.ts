// What each group's and owner's live leases hold and promise, kept up to date as the scheduler
// reports the leases it changed, so that admission (allocations.ts) costs the same with 10 or
// 10,000 live leases instead of metering every lease at every request.
//
// Per group, for the period in force: the whole price of every live lease (what it would be
// charged if it ran its whole duration: an upper bound on what it can still add, counted from
// its admission on) plus what each lease that ended since the period began was charged in it.
// A live lease begun in an earlier period is so counted whole: admission errs on the side of the
// allocation. Per owner and group: the cores and memory their live leases hold. A new period
// (a month turning, say) rebuilds the tally from every lease once.

import { chargedWithin, cpuOf, memoryOf, periodOf, type Period } from '../core/accounts.ts';
import { hasEnded, type LeaseRecord } from '../core/lease-record.ts';
import type { PeriodKind, Terms } from '../core/terms.ts';
import { type Ownership, ownershipOf } from './inputs.ts';
import { chargeOf, priceOf } from './prices.ts';
import type { Billing } from '../drivers/plugin.ts';

interface Counted {
  owner: string;
  group: string | null;
  /** Whole price while live; what it was charged in the period once ended. */
  units: number;
  cpus: number;
  memoryMiB: number;
  live: boolean;
}

interface Sums { units: number; cpus: number; memoryMiB: number }

export interface TallySources {
  owners: ReadonlyMap<string, Ownership>;
  allLeases(): readonly LeaseRecord[];
  terms(): Terms;
  billingOf(leaseId: string): Billing | undefined;
}

const ZERO: Sums = { units: 0, cpus: 0, memoryMiB: 0 };

/** One tally per kind of period the site's accounts use, each kept as the scheduler changes leases. */
export class AccountTallies {
  private readonly byKind = new Map<PeriodKind, AccountTally>();

  constructor(private readonly from: TallySources) {}

  /** The scheduler changed these leases (a step, an input): their counts follow. */
  observe(changed: Iterable<LeaseRecord>): void {
    if (this.byKind.size === 0) return;
    const leases = [...changed];
    for (const t of this.byKind.values()) t.observe(leases);
  }

  /** The terms changed (their prices, say): every count is made again when next asked. */
  reprice(): void {
    this.byKind.clear();
  }

  /** The tally for periods of this kind, brought to the period holding `now`. */
  at(kind: PeriodKind, now: number): AccountTally {
    let t = this.byKind.get(kind);
    if (!t) {
      t = new AccountTally(this.from, kind);
      this.byKind.set(kind, t);
    }
    t.moveTo(now);
    return t;
  }
}

export class AccountTally {
  private readonly leases = new Map<string, Counted>();
  private readonly groups = new Map<string, Sums>();
  private readonly users = new Map<string, Sums>();
  private period: Period | null = null;

  constructor(private readonly from: TallySources, private readonly kind: PeriodKind) {}

  observe(changed: Iterable<LeaseRecord>): void {
    if (this.period) for (const l of changed) this.count(l);
  }

  /** What a group's account counts in the period, and what its live leases hold. */
  group(name: string): Sums {
    return this.groups.get(name) ?? ZERO;
  }

  /** The cores and memory an owner's live leases hold. */
  user(name: string): Sums {
    return this.users.get(name) ?? ZERO;
  }

  /** Counts for the period holding `now`: made anew from every lease when the period turns. */
  moveTo(now: number): void {
    const period = periodOf(now, this.kind);
    if (this.period?.name === period.name) return;
    this.period = period;
    this.rebuild();
  }

  private rebuild(): void {
    this.leases.clear();
    this.groups.clear();
    this.users.clear();
    for (const l of this.from.allLeases()) this.count(l);
  }

  private count(l: LeaseRecord): void {
    const id = l.req.id;
    const before = this.leases.get(id);
    // A periodic series runs nothing itself (its occurrences are leases of their own); a refused lease holds nothing.
    if (l.req.recurrence || l.state === 'rejected') return void (before && this.remove(id, before));
    if (before && !before.live) return;
    const own = ownershipOf(this.from.owners, id);
    if (!own) return;
    const terms = this.from.terms();
    const live = !hasEnded(l);
    const billing = this.from.billingOf(id);
    // A billing back-end's charges are not split by period: an ended lease there counts them all.
    const units = live ? priceOf(l.req, terms, billing)?.amount ?? 0
      : billing ? chargeOf(l.req, {}, terms, billing).amount ?? 0 : chargedWithin(l, terms, this.period!.from, this.period!.to);
    const next: Counted = { owner: own.owner, group: own.group, units, cpus: live ? cpuOf(l.req) : 0, memoryMiB: live ? memoryOf(l.req) : 0, live };
    if (before) this.remove(id, before);
    this.leases.set(id, next);
    add(this.users, next.owner, next, 1);
    if (next.group !== null) add(this.groups, next.group, next, 1);
  }

  private remove(id: string, c: Counted): void {
    this.leases.delete(id);
    add(this.users, c.owner, c, -1);
    if (c.group !== null) add(this.groups, c.group, c, -1);
  }
}

function add(into: Map<string, Sums>, key: string, c: Counted, sign: 1 | -1): void {
  const s = into.get(key) ?? { units: 0, cpus: 0, memoryMiB: 0 };
  into.set(key, { units: s.units + sign * c.units, cpus: s.cpus + sign * c.cpus, memoryMiB: s.memoryMiB + sign * c.memoryMiB });
}
