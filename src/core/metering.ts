// What a lease has used, metered from its schedule (the segments it ran, and those of attempts a
// lost node cut short), by what it was doing: the same figures for a live lease's view and usage
// record as for a simulation's totals. Charged in the site's unit (terms.ts) is the time it runs,
// what a quote prices: deploying and ending are the site's overheads, as are saving and restoring
// it (suspending, resuming, moving) to make room for others or to move it; the time it waits
// suspended uses nothing.

import type { LeaseRecord } from './lease-record.ts';
import type { Segment } from './segment.ts';
import { priceFactorOf, type Terms } from './terms.ts';
import type { LeaseRequest, SegmentKind } from './types.ts';

export type MeteredPhase = 'deploying' | 'running' | 'suspending' | 'resuming' | 'ending';

export const PHASE_OF_SEGMENT: Record<SegmentKind, MeteredPhase> = {
  transfer: 'deploying',
  boot: 'deploying',
  run: 'running',
  suspend: 'suspending',
  resume: 'resuming',
  migrate: 'resuming',
  shutdown: 'ending',
};

export type MeteredUsage = Partial<Record<MeteredPhase, { coreSeconds: number; mibSeconds: number }>>;

const CHARGED: readonly MeteredPhase[] = ['running'];

/** The segments a lease has begun: those of attempts a lost node cut short, then its own. */
export function pastSegments(lease: LeaseRecord): Segment[] {
  return [...lease.lost.flatMap((a) => a.segments), ...lease.history];
}

/** What the lease has used up to `now` (from `from`), by phase. */
export function meteredUsage(lease: LeaseRecord, now: number, from = -Infinity): MeteredUsage {
  const usage: MeteredUsage = {};
  for (const s of pastSegments(lease)) {
    const seconds = Math.max(0, Math.min(s.end, now) - Math.max(s.start, from));
    if (seconds === 0) continue;
    const u = (usage[PHASE_OF_SEGMENT[s.kind]] ??= { coreSeconds: 0, mibSeconds: 0 });
    u.coreSeconds += seconds * s.cpu * s.nodes.length;
    u.mibSeconds += seconds * s.memoryMiB * s.nodes.length;
  }
  return usage;
}

// Sums of floating products: nine decimals are exact enough for any bill and hide the noise.
export const roundUnits = (x: number): number => Math.round(x * 1e9) / 1e9;

/** The units charged for this usage on the site's own pool: its charged phases at the unit's rates, times the lease's price factor. */
export function unitsCharged(req: Pick<LeaseRequest, 'kind' | 'preemptible'>, usage: MeteredUsage, terms: Terms): number {
  const { perCoreHour, perGiBHour } = terms.unit;
  let amount = 0;
  for (const phase of CHARGED) {
    const u = usage[phase];
    if (u) amount += (u.coreSeconds / 3600) * perCoreHour + (u.mibSeconds / 1024 / 3600) * perGiBHour;
  }
  return roundUnits(amount * priceFactorOf(req, terms));
}
