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

interface Timed {
  at: number;
  /** CPU-seconds and MiB-seconds. */
  cpu: number;
  memory: number;
}

interface Held {
  start: number;
  end: number;
  cpu: number;
  memory: number;
}

/**
 * A lower bound on the last best-effort lease's end. From any instant t, every best-effort lease
 * arriving at t or later must still run all its real work (stretched by the VM overhead, with its
 * boot and shutdown), and every reservation holds its share of the pool over [t, its real end): so the work
 * cannot be done before t + (that work) / (the pool's capacity), for CPU and for memory alike, the
 * reservations counted only up to the end they push out. No lease ends before its own arrival and
 * run either. Suspensions, migrations, image transfers and the shape of the pool (a lease needing
 * whole nodes) are left out: each can only make the real schedule later. Nodes are taken as always
 * there (a pilot's or a drained node would make the bound unsafe only if counted: leave them out).
 */
export function workBound(requests: readonly LeaseRequest[], nodes: readonly NodeSpec[], config: SchedulerConfig): WorkBound {
  const cpuCapacity = nodes.reduce((sum, n) => sum + n.cpu, 0);
  const memoryCapacity = nodes.reduce((sum, n) => sum + n.memoryMiB, 0);
  const arrivals: Timed[] = [];
  const held: Held[] = [];
  let best: WorkBound = { allBestEffort: 0, from: 0, reason: 'lease' };
  for (const req of requests) {
    const count = req.nodes;
    if (req.kind === 'best-effort') {
      const seconds = config.bootSeconds + realWorkOf(req, config) + config.shutdownSeconds;
      arrivals.push({ at: req.arrival, cpu: seconds * count * req.perNode.cpu, memory: seconds * count * req.perNode.memoryMiB });
      if (req.arrival + seconds > best.allBestEffort) best = { allBestEffort: req.arrival + seconds, from: req.arrival, reason: 'lease' };
    } else if (req.requestedStart !== null && req.kind === 'exact') {
      held.push({ start: req.requestedStart, end: req.requestedStart + realWorkOf(req, config), cpu: count * req.perNode.cpu, memory: count * req.perNode.memoryMiB });
    }
  }
  if (arrivals.length === 0) return { allBestEffort: 0, from: 0, reason: 'lease' };
  arrivals.sort((a, b) => a.at - b.at);
  // Work arriving at or after each arrival instant, summed from the last one back.
  let cpuAfter = 0;
  let memoryAfter = 0;
  for (let k = arrivals.length - 1; k >= 0; k--) {
    cpuAfter += arrivals[k].cpu;
    memoryAfter += arrivals[k].memory;
    if (k > 0 && arrivals[k - 1].at === arrivals[k].at) continue;
    const t = arrivals[k].at;
    const end = Math.max(filledUntil(t, cpuAfter, cpuCapacity, held, (h) => h.cpu), filledUntil(t, memoryAfter, memoryCapacity, held, (h) => h.memory));
    if (end > best.allBestEffort) best = { allBestEffort: end, from: t, reason: 'work' };
  }
  return best;
}

/**
 * The least T with (T - t) x capacity >= work + what reservations hold within [t, T): found by
 * raising T until it holds, since each rise can only bring more of the reservations in.
 */
function filledUntil(t: number, work: number, capacity: number, held: readonly Held[], amount: (h: Held) => number): number {
  if (capacity <= 0) return Infinity;
  let end = t + work / capacity;
  for (let round = 0; round < 1000; round++) {
    let reserved = 0;
    for (const h of held) {
      const overlap = Math.min(h.end, end) - Math.max(h.start, t);
      if (overlap > 0) reserved += overlap * amount(h);
    }
    const next = t + (work + reserved) / capacity;
    if (next <= end + 1e-6) return next;
    end = next;
  }
  return end;
}
