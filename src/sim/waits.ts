// The wait figures of the metrics (shared/traces/README.md's definitions): the pool's and, with
// bursting, each back-end's.

import type { LeaseRecord } from '../core/lease-record.ts';

const RAMP_UP_FRACTION = 0.05;
const SLOWDOWN_BOUND = 10;

/**
 * The completed best-effort leases (given in list order) whose waits count: by arrival, ties by
 * submission (`byListOrder`: by position in the list), less the first 5%.
 */
export function pastRampUp(bestEffort: LeaseRecord[], byListOrder: boolean): LeaseRecord[] {
  // Array.prototype.sort is stable: list order breaks ties by itself.
  bestEffort.sort(byListOrder ? (a, b) => a.req.arrival - b.req.arrival : (a, b) => a.req.arrival - b.req.arrival || a.seq - b.seq);
  return bestEffort.slice(Math.floor(bestEffort.length * RAMP_UP_FRACTION));
}

export function waitsOf(measured: readonly LeaseRecord[]): { meanWait: number; meanBoundedSlowdown: number } {
  let waitSum = 0;
  let slowdownSum = 0;
  for (const l of measured) {
    waitSum += l.firstStart! - l.req.arrival;
    // As the export writes it (schedule-export.ts): a live lease stopped early learnt its real duration then.
    const dedicated = Math.min(l.req.realDuration ?? l.realDuration ?? l.req.duration, l.req.duration);
    slowdownSum += (l.endedAt! - l.req.arrival) / Math.max(dedicated, SLOWDOWN_BOUND);
  }
  return {
    meanWait: measured.length ? waitSum / measured.length : 0,
    meanBoundedSlowdown: measured.length ? slowdownSum / measured.length : 0,
  };
}
