// The instants at which planned segments start and end, and what happens then.

import { removeFrom } from './calendar.ts';
import type { CoreState } from './core-state.ts';
import { failLease, settleIfChainDone } from './lease-lifecycle.ts';
import { breakPromise } from './promise-break.ts';
import type { LeaseRecord } from './lease-record.ts';
import { startSegment } from './reservation-ops.ts';
import { countsWork, type Segment } from './segment.ts';

/** What became true at one instant: the plan's actions that took effect. */
export interface StepEffects {
  ended: Segment[];
  /** Leases that could not begin where they were planned, a node there being lost: see `failure`. */
  failed: LeaseRecord[];
}

/**
 * The next instant at which a planned segment starts or ends, Infinity if none. Stale entries are
 * dropped first, but the time answered is that of the entry on top before they were (an instant
 * at which nothing may happen): kept so, as schedules depend on the instants the clock visits.
 */
export function nextBoundary(s: CoreState): number {
  const heap = s.boundaries;
  for (;;) {
    const t = heap.peekTime();
    if (t === Infinity) return t;
    for (let u = t; u !== Infinity; u = heap.peekTime()) {
      if (isLive(heap.peek()!, u)) return t;
      heap.pop();
    }
  }
}

/**
 * Boundaries are pushed again when a segment's end moves or it is dropped: an entry counts only
 * while it still matches its segment.
 */
function isLive(seg: Segment, t: number): boolean {
  if (seg.removed) return false;
  if (seg.active) return seg.end === t;
  return seg.start === t && seg.end > t;
}

/** Starts and ends every segment due by `now`. */
export function applyBoundaries(s: CoreState, now: number, out: StepEffects): void {
  const heap = s.boundaries;
  while (heap.peekTime() <= now) {
    const t = heap.peekTime();
    const seg = heap.pop()!;
    if (!isLive(seg, t)) continue;
    if (t < now) throw new Error(`internal: missed a boundary at ${t} (now ${now})`);
    if (seg.active) endSegment(s, seg, out);
    else if (s.lost.size > 0 && seg.nodes.some((n) => s.lost.has(n))) failOnLostNode(s, seg, now, out);
    else startSegment(s, seg);
  }
}

function endSegment(s: CoreState, seg: Segment, out: StepEffects): void {
  const lease = s.book.mustGet(seg.leaseId);
  s.table.deactivate(seg);
  out.ended.push(seg);
  s.changed?.add(lease);
  if (countsWork(seg)) lease.done += seg.end - seg.start;
  removeFrom(lease.chain, seg);
  if (seg.kind === 'suspend' && lease.chain.length > 0) {
    // A deadline lease planned in pieces waits, suspended, for its next piece.
    lease.suspensions++;
    lease.state = 'scheduled';
  }
  settleIfChainDone(s, lease, seg.end, seg.nodes);
}

/** A reservation that waited for a lost node is due to begin there, and the node is still lost. */
function failOnLostNode(s: CoreState, seg: Segment, now: number, out: StepEffects): void {
  const lease = s.book.mustGet(seg.leaseId);
  const names = seg.nodes.filter((n) => s.lost.has(n)).map((n) => `'${s.table.nodes[n].id}'`).join(', ');
  const why = `its ${seg.kind} was due to begin at ${now} on node ${names}, which is still unavailable`;
  if (breakPromise(s, lease, now, 'node-unavailable', why)) return;
  failLease(s, lease, now, 'node-unavailable', why);
  out.failed.push(lease);
}
