// The slot table as the dashboard draws it: every lease's segments, past and planned, that fall in
// a window of time, on the pool's nodes by index. Pure: a function of the scheduler's records, so a
// follower or a replay would show the same.

import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { SegmentKind } from '../core/types.ts';
import type { LeaseStatus } from '../store/store.ts';
import { statusOf } from './lease-view.ts';

/** [kind, start, end, node indices]: a tuple, since a busy pool has tens of thousands of them. */
export type SlotSegment = [SegmentKind, number, number, readonly number[]];

export interface SlotLease {
  id: string;
  kind: LeaseRecord['req']['kind'];
  status: LeaseStatus;
  preemptible: boolean;
  segments: SlotSegment[];
  /** Segments of attempts that were cut short and started again (their work was lost). */
  lost: SlotSegment[];
}

const overlaps = (seg: Segment, from: number, to: number): boolean => seg.end > seg.start && seg.end > from && seg.start < to;
const tuple = (seg: Segment): SlotSegment => [seg.kind, seg.start, seg.end, seg.nodes];

/** The leases with a segment in [from, to), each with its segments there; in the scheduler's order. */
export function slotView(leases: readonly LeaseRecord[], from: number, to: number): SlotLease[] {
  const out: SlotLease[] = [];
  for (const lease of leases) {
    const segments = lease.history.filter((s) => overlaps(s, from, to)).map(tuple);
    const lost = lease.lost.flatMap((a) => a.segments.filter((s) => overlaps(s, from, to)).map(tuple));
    if (segments.length === 0 && lost.length === 0) continue;
    out.push({ id: lease.req.id, kind: lease.req.kind, status: statusOf(lease), preemptible: lease.req.preemptible, segments, lost });
  }
  return out;
}
