// How early the last best-effort lease of a workload could possibly end, whatever the scheduler:
// the floor under `allBestEffort` against which a policy's loss to reservations is measured
// (docs/beyond-hpdc08.md).
import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import { realWorkOf } from './real-work.ts';

export interface WorkBound {
  /** No schedule ends its best-effort work earlier (seconds from the trace's start). */
  allBestEffort: number;
  /** The instant t whose work gave it: what arrives from t on fills the pool until the bound. */
  from: number;
  /** What gave it: the pool filled from `from` on, or one lease that cannot end earlier alone. */
  reason: 'work' | 'lease';
}

/** A span of time over which a lease holds `amount` of each resource (CPUs, MiB). */
interface Span {
  start: number;
  end: number;
  amount: Record<Resource, number>;
}

type Resource = 'cpu' | 'memoryMiB';
const RESOURCES: readonly Resource[] = ['cpu', 'memoryMiB'];

/**
 * A lower bound on the last best-effort lease's end. From any instant t, every best-effort lease
 * arriving at t or later must still run all its real work (stretched by the VM overhead, with its
 * boot and shutdown), the leases that arrived before t what of them would still be running at t had
 * each started the instant it arrived, and every reservation holds its share of the pool over
 * [t, its real end): so the work cannot be done before t + (that work) / (the pool's capacity), for
 * CPU and for memory alike, the reservations counted only up to the end they push out. No lease
 * ends before its own arrival and run either. Suspensions, migrations, image transfers and the shape
 * of the pool (a lease needing whole nodes) are left out: each can only make the real schedule
 * later. Nodes are taken as always there (a pilot's or a drained node would make the bound unsafe
 * only if counted: leave them out).
 */
export function workBound(requests: readonly LeaseRequest[], nodes: readonly NodeSpec[], config: SchedulerConfig): WorkBound {
  const runs: Span[] = [];
  const held: Span[] = [];
  let best: WorkBound = { allBestEffort: 0, from: 0, reason: 'lease' };
  for (const req of requests) {
    const amount = { cpu: req.nodes * req.perNode.cpu, memoryMiB: req.nodes * req.perNode.memoryMiB };
    if (req.kind === 'best-effort') {
      const end = req.arrival + config.bootSeconds + realWorkOf(req, config) + config.shutdownSeconds;
      runs.push({ start: req.arrival, end, amount });
      if (end > best.allBestEffort) best = { allBestEffort: end, from: req.arrival, reason: 'lease' };
    } else if (req.requestedStart !== null && req.kind === 'exact') {
      held.push({ start: req.requestedStart, end: req.requestedStart + realWorkOf(req, config), amount });
    }
  }
  if (runs.length === 0) return best;
  // Each run from its arrival: sorted by arrival, and by end for carriedWork.
  runs.sort((a, b) => a.start - b.start);
  const byEnd = [...runs].sort((a, b) => a.end - b.end);
  for (const r of RESOURCES) {
    const filled = filledFrom(runs, byEnd, held, nodes.reduce((sum, n) => sum + n[r], 0), r);
    if (filled.allBestEffort > best.allBestEffort) best = filled;
  }
  return best;
}

/** The bound of one resource: the latest end over the arrival instants t of the work from t on. */
function filledFrom(runs: readonly Span[], byEnd: readonly Span[], held: readonly Span[], capacity: number, r: Resource): WorkBound {
  const carried = carriedWork(runs, byEnd, r);
  let best: WorkBound = { allBestEffort: 0, from: 0, reason: 'work' };
  // Work arriving at or after each arrival instant, summed from the last one back.
  let after = 0;
  for (let k = runs.length - 1; k >= 0; k--) {
    after += runs[k].amount[r] * (runs[k].end - runs[k].start);
    if (k > 0 && runs[k - 1].start === runs[k].start) continue;
    const t = runs[k].start;
    const end = filledUntil(t, after + carried[k], capacity, held, r);
    if (end > best.allBestEffort) best = { allBestEffort: end, from: t, reason: 'work' };
  }
  return best;
}

/**
 * For each run k (sorted by arrival), the work of the runs that arrived before it that is still to
 * do at its arrival even had each started the instant it arrived: the sum of amount x (end - t) over
 * those with end > t, kept as running sums of amount and of amount x end, added over arrivals
 * before t and taken off over ends by t, both in time order.
 */
function carriedWork(runs: readonly Span[], byEnd: readonly Span[], r: Resource): Float64Array {
  const carried = new Float64Array(runs.length);
  let rate = 0;
  let weightedEnds = 0;
  let a = 0;
  let e = 0;
  for (let k = 0; k < runs.length; k++) {
    const t = runs[k].start;
    for (; a < runs.length && runs[a].start < t; a++) {
      rate += runs[a].amount[r];
      weightedEnds += runs[a].amount[r] * runs[a].end;
    }
    for (; e < byEnd.length && byEnd[e].end <= t; e++) {
      rate -= byEnd[e].amount[r];
      weightedEnds -= byEnd[e].amount[r] * byEnd[e].end;
    }
    carried[k] = Math.max(0, weightedEnds - t * rate);
  }
  return carried;
}

/**
 * The least T with (T - t) x capacity >= work + what reservations hold within [t, T): found by
 * raising T until it holds, since each rise can only bring more of the reservations in.
 */
function filledUntil(t: number, work: number, capacity: number, held: readonly Span[], r: Resource): number {
  if (capacity <= 0) return Infinity;
  let end = t + work / capacity;
  for (let round = 0; round < 1000; round++) {
    let reserved = 0;
    for (const h of held) {
      const overlap = Math.min(h.end, end) - Math.max(h.start, t);
      if (overlap > 0) reserved += overlap * h.amount[r];
    }
    const next = t + (work + reserved) / capacity;
    if (next <= end + 1e-6) return next;
    end = next;
  }
  return end;
}
