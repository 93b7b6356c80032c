// The slot table as GET /v1/slots sends it, indexed for drawing: per node, its bars sorted by start,
// each in a lane so that leases sharing a node (fractions of its CPUs) sit side by side.

export type SegmentKind = 'transfer' | 'boot' | 'run' | 'shutdown' | 'suspend' | 'resume' | 'migrate';
export type LeaseKind = 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic';

export interface SlotNode {
  id: string;
  cpu: number;
  memoryMiB: number;
  status: string;
  departsAt: number | null;
}

export interface SlotLease {
  id: string | null;
  owner: string | null;
  kind: LeaseKind;
  status: string;
  preemptible: boolean;
  segments: Array<[SegmentKind, number, number, number[]]>;
  lost: Array<[SegmentKind, number, number, number[]]>;
}

export interface Slots {
  now: number;
  from: number;
  to: number;
  nodes: SlotNode[];
  leases: SlotLease[];
}

export interface Bar {
  start: number;
  end: number;
  kind: SegmentKind;
  lease: number;
  lane: number;
  lost: boolean;
}

export interface Row {
  bars: Bar[];
  lanes: number;
  /** The longest bar: how far before a window's start a bar that reaches into it can begin. */
  longest: number;
}

export interface Model {
  slots: Slots;
  rows: Row[];
  /** Index of each visible lease id in slots.leases. */
  byId: Map<string, number>;
}

export function buildModel(slots: Slots): Model {
  const rows: Row[] = slots.nodes.map(() => ({ bars: [], lanes: 1, longest: 0 }));
  const byId = new Map<string, number>();
  slots.leases.forEach((l, i) => {
    if (l.id !== null) byId.set(l.id, i);
    const add = (segs: SlotLease['segments'], lost: boolean) => {
      for (const [kind, start, end, nodes] of segs) for (const n of nodes) rows[n]?.bars.push({ start, end, kind, lease: i, lane: 0, lost });
    };
    add(l.segments, false);
    add(l.lost, true);
  });
  for (const row of rows) {
    row.bars.sort((a, b) => a.start - b.start || a.end - b.end);
    // Greedy interval colouring: a bar takes the first lane free at its start. Segments of one
    // lease follow each other, so a lease mostly keeps its lane.
    const laneEnds: number[] = [];
    const laneOf = new Map<number, number>();
    for (const bar of row.bars) {
      const prefer = laneOf.get(bar.lease);
      let lane = prefer !== undefined && laneEnds[prefer] <= bar.start ? prefer : laneEnds.findIndex((e) => e <= bar.start);
      if (lane < 0) lane = laneEnds.length;
      laneEnds[lane] = bar.end;
      laneOf.set(bar.lease, lane);
      bar.lane = lane;
      row.longest = Math.max(row.longest, bar.end - bar.start);
    }
    row.lanes = Math.max(1, laneEnds.length);
  }
  return { slots, rows, byId };
}

/** The first bar of a row that may reach into [t0, ...): bars are sorted by start. */
export function firstBarFrom(row: Row, t0: number): number {
  const from = t0 - row.longest;
  let lo = 0;
  let hi = row.bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (row.bars[mid].start < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bar under a point of a row, if any. */
export function barAt(model: Model, node: number, t: number, lane: number): Bar | null {
  const row = model.rows[node];
  if (!row) return null;
  for (let i = firstBarFrom(row, t); i < row.bars.length && row.bars[i].start <= t; i++) {
    const b = row.bars[i];
    if (b.end > t && b.lane === lane) return b;
  }
  return null;
}
