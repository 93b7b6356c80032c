// A vws.schedule/v1 export (a what-if replay's two schedules come as one) as the slot table the
// Gantt draws: the header's nodes, each line's segments on them.

import type { LeaseKind, SegmentKind, SlotLease, Slots } from './model.ts';

interface Header { format: string; nodes: Array<{ id: string; cpu: number; memoryMiB: number }> }
interface Line { id: string; kind: LeaseKind; outcome: string; segments: Array<{ start: number; end: number; nodes: string[]; kind: SegmentKind }> }

export function slotsOfSchedule(lines: readonly string[], now: number): Slots {
  const header = JSON.parse(lines[0]) as Header;
  const index = new Map(header.nodes.map((n, i) => [n.id, i]));
  const leases: SlotLease[] = lines.slice(1).filter((l) => l.trim()).map((text) => {
    const l = JSON.parse(text) as Line;
    return {
      id: l.id, owner: null, kind: l.kind, status: l.outcome, preemptible: false,
      segments: l.segments.map((s) => [s.kind, s.start, s.end, s.nodes.map((n) => index.get(n) ?? -1).filter((n) => n >= 0)]),
      lost: [],
    };
  });
  const starts = leases.flatMap((l) => l.segments.map((s) => s[1]));
  const ends = leases.flatMap((l) => l.segments.map((s) => s[2]));
  return {
    now, from: starts.length ? Math.min(...starts) : now, to: ends.length ? Math.max(...ends) : now,
    nodes: header.nodes.map((n) => ({ ...n, status: 'active', departsAt: null })), leases,
  };
}
