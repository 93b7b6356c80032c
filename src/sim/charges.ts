// What a simulated site would have charged, in its unit, metered from the schedule by the same
// code that charges a live lease (core/metering.ts): per lease kind and in all.

import type { LeaseRecord } from '../core/lease-record.ts';
import { meteredUsage, roundUnits, unitsCharged } from '../core/metering.ts';
import { DEFAULT_TERMS, type Terms } from '../core/terms.ts';
import type { LeaseKind } from '../core/types.ts';

export interface SimCharges {
  unit: string;
  total: number;
  byKind: Partial<Record<LeaseKind, number>>;
}

export function simCharges(leases: readonly LeaseRecord[], terms: Terms = DEFAULT_TERMS): SimCharges {
  const byKind: Partial<Record<LeaseKind, number>> = {};
  let total = 0;
  for (const l of leases) {
    if (l.history.length === 0 && l.lost.length === 0) continue;
    const units = unitsCharged(l.req, meteredUsage(l, Infinity), terms);
    byKind[l.req.kind] = (byKind[l.req.kind] ?? 0) + units;
    total += units;
  }
  for (const k of Object.keys(byKind) as LeaseKind[]) byKind[k] = roundUnits(byKind[k]!);
  return { unit: terms.unit.name, total: roundUnits(total), byKind };
}
