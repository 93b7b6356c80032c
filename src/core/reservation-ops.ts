// Every change to a lease's reservations: placing a segment, moving its end, dropping what has
// not happened. Each keeps the slot table, the boundaries and the lease's chain and history in
// step; the table's version moves with each.

import { removeFrom } from './calendar.ts';
import type { CoreState } from './core-state.ts';
import type { LeaseRecord } from './lease-record.ts';
import { countsWork, type Segment } from './segment.ts';
import type { SegmentKind } from './types.ts';

/** At one instant, segments end before others start (what ends frees room for what starts). */
const ENDS = 0;
const STARTS = 1;

/** Places one segment; `role`: which role of a cluster lease it serves (it then holds that role's shape). */
export function place(s: CoreState, lease: LeaseRecord, kind: SegmentKind, start: number, end: number, nodes: readonly number[], role?: number): Segment {
  const begins = start <= s.now;
  const shape = role === undefined ? lease.req.perNode : lease.req.roles![role].perNode;
  const seg = s.table.reserve(lease.req.id, kind, start, end, nodes, shape.cpu, shape.memoryMiB, begins, shape.bandwidthMbps ?? 0);
  if (role !== undefined) (seg as { role?: number }).role = role;
  s.changed?.add(lease);
  // A first push would give the array room for 17; most leases keep one segment, and there are 232,562 on a whole log.
  if (lease.history.length === 0) lease.history = [seg];
  else lease.history.push(seg);
  s.boundaries.push(end, ENDS, seg);
  if (begins) startSegment(s, seg, lease);
  else s.boundaries.push(start, STARTS, seg);
  return seg;
}

/** A segment begins: it counts in the table's usage now (one placed to begin now already does), and its lease is active. */
export function startSegment(s: CoreState, seg: Segment, lease = s.book.mustGet(seg.leaseId)): void {
  s.table.activate(seg);
  s.started.push(seg);
  s.changed?.add(lease);
  if (lease.inFuture) {
    lease.inFuture = false;
    s.future.delete(lease);
  }
  lease.state = 'active';
  if (lease.firstStart === null) lease.firstStart = seg.start;
  if (seg.kind === 'migrate') lease.migrations++;
}

/** Moves a segment's end to `end`; one that is running and so ends by now is over at once. */
export function truncate(s: CoreState, seg: Segment, end: number): void {
  const lease = s.book.mustGet(seg.leaseId);
  s.changed?.add(lease);
  s.table.setEnd(seg, end);
  if (seg.active && end <= s.now) {
    s.table.deactivate(seg);
    if (countsWork(seg)) lease.done += end - seg.start;
    removeFrom(lease.chain, seg);
    return;
  }
  s.boundaries.push(end, ENDS, seg);
}

/** Drops every segment of the lease's chain after `seg`. */
export function cutChainAfter(s: CoreState, lease: LeaseRecord, seg: Segment): void {
  const i = lease.chain.indexOf(seg);
  // Most chains end with the segment (an early end of a lease planned in one run): nothing to copy or cut.
  if (i + 1 >= lease.chain.length) return;
  for (const later of lease.chain.slice(i + 1)) dropSegment(s, lease, later);
  lease.chain.length = i + 1;
}

/** Removes a segment that has not begun; one that has begun is cut at now. */
export function dropSegment(s: CoreState, lease: LeaseRecord, seg: Segment): void {
  if (seg.active || seg.start < s.now) {
    truncate(s, seg, Math.min(seg.end, s.now));
    return;
  }
  s.table.release(seg);
  s.changed?.add(lease);
  const h = lease.history.lastIndexOf(seg);
  if (h >= 0 && lease.history.length === 1) lease.history = [];
  else if (h >= 0) lease.history.splice(h, 1);
}

/** Gives up every segment of the lease's chain that has not happened, and its planned transfers. */
export function dropPlan(s: CoreState, lease: LeaseRecord, now: number): void {
  for (const seg of [...lease.chain]) dropSegment(s, lease, seg);
  lease.chain = [];
  if (lease.inFuture) {
    lease.inFuture = false;
    s.future.delete(lease);
  }
  s.link.cancel(lease.req.id, now);
}
