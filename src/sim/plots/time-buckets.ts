// A quantity that changes by steps over simulated time (CPUs held, leases waiting), averaged over
// buckets of one width: a month of a few thousand leases becomes a line of a few hundred points
// whose area is the quantity's integral, exactly.

/** A change of the quantity by `delta` at instant `at`. */
export interface Change {
  at: number;
  delta: number;
}

/** The quantity over [from, to): its time-weighted mean, and the most it held for any time there. */
export interface Bucket {
  from: number;
  to: number;
  mean: number;
  peak: number;
}

/** Widths a reader counts in: seconds, minutes, hours, days, weeks. */
const WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];

/** The narrowest of those widths that cuts [0, end) into at most `most` buckets (a whole week at most, then whole weeks). */
export function bucketWidth(end: number, most = 240): number {
  const width = WIDTHS.find((w) => end / w <= most);
  return width ?? 604_800 * Math.ceil(end / most / 604_800);
}

/**
 * The quantity, zero before the first change, bucket by bucket over [0, end); the last bucket
 * stops at `end`, its mean taken over what it covers. Changes at one instant are applied
 * together: a lease that ends as another starts does not count as a peak of both.
 */
export function bucketed(changes: readonly Change[], end: number, width: number): Bucket[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const buckets: Bucket[] = [];
  let value = 0;
  let i = 0;
  // Changes before 0 set the level the first bucket starts at.
  while (i < sorted.length && sorted[i].at <= 0) value += sorted[i++].delta;
  for (let from = 0; from < end; from += width) {
    const to = Math.min(end, from + width);
    let area = 0;
    let peak = -Infinity;
    let t = from;
    while (i < sorted.length && sorted[i].at < to) {
      const at = sorted[i].at;
      if (at > t) {
        area += value * (at - t);
        peak = Math.max(peak, value);
        t = at;
      }
      while (i < sorted.length && sorted[i].at === at) value += sorted[i++].delta;
    }
    area += value * (to - t);
    if (to > t) peak = Math.max(peak, value);
    buckets.push({ from, to, mean: area / (to - from), peak });
  }
  return buckets;
}
