import { DEPARTURE, type Segment } from './segment.ts';
import type { NodeSpec } from './types.ts';

// The slot table's pure pieces: queries over one node's calendar (its reservations ordered by
// start, then seq), and the sweep over the pool's free windows.

export const EPS = 1e-9;

/**
 * The common case, where no reservation on the node can share it with the request: free
 * until the first reservation that overlaps. Null when some reservation could share.
 */
export function exclusiveFreeUntil(cal: readonly Segment[], capCpu: number, capMem: number, t: number, cpu: number, mem: number, horizon: number): number | null {
  for (let k = 0; k < cal.length; k++) {
    const s = cal[k];
    if (s.start >= horizon) return horizon;
    if (s.end <= t) continue;
    if (s.cpu + cpu <= capCpu + EPS && s.memoryMiB + mem <= capMem + EPS) return null;
    if (s.start <= t) return t;
    return s.start;
  }
  return horizon;
}

export function sweepFreeUntil(cal: readonly Segment[], capCpu: number, capMem: number, t: number, cpu: number, mem: number, horizon: number, ignore: ReadonlySet<string> | undefined, ignoreFrom: number): number {
  let usedC = 0;
  let usedM = 0;
  let changes: number[] | null = null; // flat triples: time, dCpu, dMem
  for (let k = 0; k < cal.length; k++) {
    const s = cal[k];
    if (s.start >= horizon) break;
    let end = s.end;
    if (ignore !== undefined && ignore.has(s.leaseId)) end = Math.min(end, Math.max(s.start, ignoreFrom));
    if (end <= t) continue;
    if (s.start <= t) {
      usedC += s.cpu;
      usedM += s.memoryMiB;
      if (end < horizon) (changes ??= []).push(end, -s.cpu, -s.memoryMiB);
    } else {
      (changes ??= []).push(s.start, s.cpu, s.memoryMiB);
      if (end < horizon) changes.push(end, -s.cpu, -s.memoryMiB);
    }
  }
  if (usedC + cpu > capCpu + EPS || usedM + mem > capMem + EPS) return t;
  if (changes === null) return horizon;
  const order = sortedTripleIndices(changes);
  for (const i of order) {
    const dc = changes[i + 1];
    const dm = changes[i + 2];
    usedC += dc;
    usedM += dm;
    if ((dc > 0 || dm > 0) && (usedC + cpu > capCpu + EPS || usedM + mem > capMem + EPS)) return changes[i];
  }
  return horizon;
}

/** Gaps between reservations when none of them can share the node with the request; else null. */
export function exclusiveGaps(cal: readonly Segment[], spec: NodeSpec, from: number, cpu: number, mem: number): Array<[number, number]> | null {
  const out: Array<[number, number]> = [];
  let cursor = from;
  for (const s of cal) {
    if (s.end <= from) continue;
    if (s.cpu + cpu <= spec.cpu + EPS && s.memoryMiB + mem <= spec.memoryMiB + EPS) return null;
    if (s.start > cursor) out.push([cursor, s.start]);
    if (s.end > cursor) cursor = s.end;
  }
  out.push([cursor, Infinity]);
  return out;
}

/** Reports a node's free gaps when no reservation can share the node with the request; false (nothing reported) otherwise. */
export function addExclusiveGaps(cal: readonly Segment[], spec: NodeSpec, from: number, cpu: number, mem: number, latestOpen: number, add: (a: number, b: number) => void): boolean {
  for (const s of cal) if (s.end > from && s.cpu + cpu <= spec.cpu + EPS && s.memoryMiB + mem <= spec.memoryMiB + EPS) return false;
  let cursor = from;
  for (const s of cal) {
    if (cursor > latestOpen) return true;
    if (s.end <= from) continue;
    if (s.start > cursor) add(cursor, s.start);
    if (s.end > cursor) cursor = s.end;
  }
  add(cursor, Infinity);
  return true;
}

/** When the next reservation that holds the node at t (or, if none does, any later one) ends; those of leases in `ignore` left out. */
export function nextReleaseAfter(cal: readonly Segment[], t: number, ignore?: ReadonlySet<string>): number {
  let next = Infinity;
  const counts = (s: Segment): boolean => ignore === undefined || !ignore.has(s.leaseId);
  for (const s of cal) if (s.end > t && s.end < next && s.start <= t && counts(s)) next = s.end;
  if (next === Infinity) for (const s of cal) if (s.end > t && s.end < next && counts(s)) next = s.end;
  return next;
}

/**
 * SlotTable.roomForGoodFrom on a node that is open and big enough, the reservations of lease `skip`
 * left out: roomExplained's answer, without the why.
 */
export function roomFromOn(cal: readonly Segment[], spec: NodeSpec, t: number, cpu: number, mem: number, skip?: string): number | null {
  const v = roomExplained(cal, spec, t, cpu, mem, UNREAD, 0, skip);
  return v === v ? v : null;
}

/** Where roomFromOn lets roomExplained write the why it does not read. */
const UNREAD = new Float64Array(2);

/**
 * roomFromOn(cal, spec, t, cpu, mem, skip), NaN for null, and for null why, written to out[at] and
 * out[at + 1] (in the same walk: the index takes a null answer for some 3 million nodes of the SDSC
 * log). First, how long it stays null, the calendar unchanged: until the reservation that made it
 * null no longer decides. One the request could share the node with does until it ends; one that
 * begins after a gap, until it begins (at later instants the walk from t follows the same
 * reservations, its front only moved to max(t, front)). Second, for a gap, that front: where the
 * reservations that follow one another from t end, before it; NaN for a reservation that could be shared.
 */
export function roomExplained(cal: readonly Segment[], spec: NodeSpec, t: number, cpu: number, mem: number, out: Float64Array, at: number, skip?: string): number {
  let from = t;
  for (const s of cal) {
    if (s.end <= from || s.leaseId === skip) continue;
    if (s.cpu + cpu <= spec.cpu + EPS && s.memoryMiB + mem <= spec.memoryMiB + EPS) {
      out[at] = s.end;
      out[at + 1] = Number.NaN;
      return Number.NaN;
    }
    if (s.start > from) {
      out[at] = s.start;
      out[at + 1] = from;
      return Number.NaN;
    }
    from = s.end;
  }
  return from;
}

/**
 * Takes `seg` out of a calendar or a chain, keeping the order. By hand rather than with splice, which makes
 * an array of what it removed: ten million of them on the whole SDSC log, all garbage at once.
 */
export function removeFrom(cal: Segment[], seg: Segment): void {
  // A segment that ends is first on each of its nodes (12.9 million times on the whole SDSC log): no search then.
  const i = cal[0] === seg ? 0 : cal.indexOf(seg);
  if (i < 0) return;
  for (let k = i + 1; k < cal.length; k++) cal[k - 1] = cal[k];
  cal.pop();
}

export function insertByStart(cal: Segment[], seg: Segment): void {
  const last = cal.length > 0 ? cal[cal.length - 1] : undefined;
  // Most reservations begin after every other one on their nodes.
  if (last === undefined || last.start < seg.start || (last.start === seg.start && last.seq < seg.seq)) {
    cal.push(seg);
    return;
  }
  let lo = 0;
  let hi = cal.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = cal[mid];
    if (m.start < seg.start || (m.start === seg.start && m.seq < seg.seq)) lo = mid + 1;
    else hi = mid;
  }
  cal.push(seg);
  for (let k = cal.length - 1; k > lo; k--) cal[k] = cal[k - 1];
  cal[lo] = seg;
}

/**
 * The earliest instant at which k windows are open together: window i can be started from
 * opens[i] to closes[i] (its last start). Sorts both arrays in place.
 */
export function firstOfK(opens: Float64Array, closes: Float64Array, k: number): number {
  // Typed arrays sort numerically without a comparator, which is what makes this sweep cheap.
  opens.sort();
  closes.sort();
  let open = 0;
  let c = 0;
  for (let i = 0; i < opens.length; i++) {
    const t = opens[i];
    while (c < closes.length && closes[c] < t) {
      c++;
      open--;
    }
    open++;
    if (open >= k) return t;
  }
  return Infinity;
}

/**
 * The k-th smallest (1-based) of xs[0..count), reordering them: a selection, not a sort, as the
 * earliest window of a pool where room stays is asked for each placement in the future.
 */
export function kthSmallest(xs: Float64Array, count: number, k: number): number {
  let lo = 0;
  let hi = count - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i] < pivot) i++;
      while (xs[j] > pivot) j--;
      if (i <= j) {
        const x = xs[i];
        xs[i] = xs[j];
        xs[j] = x;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return xs[want];
  }
  return xs[want];
}

/** Indices of (time, dCpu, dMem) triples by time, releases before claims at equal times. */
function sortedTripleIndices(changes: number[]): number[] {
  const idx: number[] = [];
  for (let i = 0; i < changes.length; i += 3) idx.push(i);
  idx.sort((a, b) => changes[a] - changes[b] || changes[a + 1] - changes[b + 1] || a - b);
  return idx;
}

/**
 * A whole number of seconds as V8's small integer where it fits: times computed in typed arrays come
 * back as heap numbers, 16 bytes each, and every segment of a whole log is kept to its end.
 */
export function small(t: number): number {
  return t === (t | 0) ? t | 0 : t;
}

/** Leases with a reservation in `cal` that overlaps [t, end). */
export function leasesOverlappingIn(cal: readonly Segment[], t: number, end: number): string[] {
  const out: string[] = [];
  for (const s of cal) {
    if (s.start >= end) break;
    if (s.end > t && s.leaseId !== DEPARTURE && !out.includes(s.leaseId)) out.push(s.leaseId);
  }
  return out;
}

/** Distinct end times of the calendars' reservations that end after t, ascending (a departure never ends). */
export function endsAfterIn(calendars: readonly (readonly Segment[])[], t: number): number[] {
  const ends = new Set<number>();
  for (const cal of calendars) for (const s of cal) if (s.end > t && s.leaseId !== DEPARTURE) ends.add(s.end);
  return [...ends].sort((a, b) => a - b);
}
