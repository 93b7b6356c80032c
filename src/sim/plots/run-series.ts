// The pool and its queue over the time of a finished simulation, read from the leases' segments
// (those of attempts a requeue cut short too: they held the pool as much as any).

import type { LeaseRecord } from '../../core/lease-record.ts';
import { pastSegments } from '../../core/metering.ts';
import { bucketed, type Bucket, type Change } from './time-buckets.ts';

/** Leases that stand for others (a periodic lease's occurrences are leases of their own) hold nothing themselves. */
function real(leases: readonly LeaseRecord[]): LeaseRecord[] {
  return leases.filter((l) => l.state !== 'expanded');
}

/** The instant the last thing happens: a segment ends, a lease arrives or ends. */
export function horizonOf(leases: readonly LeaseRecord[]): number {
  let end = 0;
  for (const l of real(leases)) {
    end = Math.max(end, l.req.arrival, l.endedAt ?? 0);
    for (const s of pastSegments(l)) end = Math.max(end, s.end);
  }
  return end;
}

export interface UtilizationSeries {
  /** The share of the pool's CPUs held by leases' runs. */
  runs: Bucket[];
  /** The share held by their overheads: boot, shutdown, suspension, resumption, migration (anything not a run). */
  overheads: Bucket[];
}

/** The pool's CPUs held over time, as shares of `poolCpu`; `leases`: those that ran on the pool. */
export function utilizationSeries(leases: readonly LeaseRecord[], poolCpu: number, end: number, width: number): UtilizationSeries {
  const runs: Change[] = [];
  const overheads: Change[] = [];
  for (const l of real(leases)) {
    for (const s of pastSegments(l)) {
      if (s.end <= s.start) continue;
      const share = (s.cpu * s.nodes.length) / poolCpu;
      const to = s.kind === 'run' ? runs : overheads;
      to.push({ at: s.start, delta: share }, { at: s.end, delta: -share });
    }
  }
  return { runs: bucketed(runs, end, width), overheads: bucketed(overheads, end, width) };
}

/**
 * When a best-effort lease waited: from its arrival until it first held anything, and then
 * whenever it held nothing before it ended (suspended, waiting to resume; requeued, waiting to
 * start again). One still waiting when the run stopped waits until `end`. Unless a requeue made it start again, its
 * first interval is its wait as the metrics count it (waits.ts: from arrival to its first start).
 */
export function waitingIntervals(lease: LeaseRecord, end: number): Array<[number, number]> {
  const segments = [...pastSegments(lease)].sort((a, b) => a.start - b.start);
  const out: Array<[number, number]> = [];
  let since = lease.req.arrival;
  for (const s of segments) {
    if (s.start > since) out.push([since, s.start]);
    since = Math.max(since, s.end);
  }
  // A lease is refused when it is asked for (rejected ones have no end): it never queued.
  const last = lease.state === 'rejected' ? since : lease.endedAt ?? end;
  if (last > since) out.push([since, last]);
  return out;
}

/** How many best-effort leases wait over time (waitingIntervals), per bucket: the mean and the most at once. */
export function queueSeries(leases: readonly LeaseRecord[], end: number, width: number): Bucket[] {
  const changes: Change[] = [];
  for (const l of real(leases)) {
    if (l.req.kind !== 'best-effort') continue;
    for (const [from, to] of waitingIntervals(l, end)) changes.push({ at: from, delta: 1 }, { at: to, delta: -1 });
  }
  return bucketed(changes, end, width);
}
