// The waits of best-effort leases by their size: which leases a policy makes wait. The leases and
// the wait are the metrics' (waits.ts): completed best-effort leases past the first 5% by arrival,
// each waiting from its arrival to its first start.

import type { LeaseRecord } from '../../core/lease-record.ts';
import { pastRampUp, waitsOf } from '../waits.ts';

/** Leases of `low` to `high` nodes (powers of two: 1, 2-3, 4-7, ...). */
export interface SizeClass {
  low: number;
  high: number;
  leases: number;
  /** Zero where no lease is of the class. */
  meanWait: number;
  maxWait: number;
}

/** `byListOrder`: ties in arrival go by position in `leases`, as with a pool of several back-ends or cells (metrics.ts). */
export function waitsBySize(leases: readonly LeaseRecord[], byListOrder: boolean): SizeClass[] {
  const done = leases.filter((l) => l.req.kind === 'best-effort' && l.state === 'completed');
  const measured = pastRampUp(done, byListOrder);
  const byClass: LeaseRecord[][] = [];
  for (const l of measured) (byClass[31 - Math.clz32(Math.max(1, l.req.nodes))] ??= []).push(l);
  return Array.from(byClass, (members = [], k) => ({
    low: 2 ** k,
    high: 2 ** (k + 1) - 1,
    leases: members.length,
    meanWait: waitsOf(members).meanWait,
    maxWait: members.reduce((most, l) => Math.max(most, l.firstStart! - l.req.arrival), 0),
  }));
}
