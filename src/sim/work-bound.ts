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
  /** When it would end, started at once. */
  end: number;
  /** CPUs and MiB it holds while it runs. */
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
 * reservations counted only up to the end they push out; and the leases that arrived before t add
 * what of them would still be running at t had each started the instant it arrived. No lease ends before its own arrival and
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
      arrivals.push({ at: req.arrival, end: req.arrival + seconds, cpu: count * req.perNode.cpu, memory: count * req.perNode.memoryMiB });
      if (req.arrival + seconds > best.allBestEffort) best = { allBestEffort: req.arrival + seconds, from: req.arrival, reason: 'lease' };
    } else if (req.requestedStart !== null && req.kind === 'exact') {
      held.push({ start: req.requestedStart, end: req.requestedStart + realWorkOf(req, config), cpu: count * req.perNode.cpu, memory: count * req.perNode.memoryMiB });
    }
  }
  if (arrivals.length === 0) return { allBestEffort: 0, from: 0, reason: 'lease' };
  arrivals.sort((a, b) => a.at - b.at);
  const carried = carriedWork(arrivals);
  // Work arriving at or after each arrival instant, summed from the last one back, with what must still be running then of the leases before it.
  let cpuAfter = 0;
  let memoryAfter = 0;
  for (let k = arrivals.length - 1; k >= 0; k--) {
    cpuAfter += arrivals[k].cpu * (arrivals[k].end - arrivals[k].at);
    memoryAfter += arrivals[k].memory * (arrivals[k].end - arrivals[k].at);
    if (k > 0 && arrivals[k - 1].at === arrivals[k].at) continue;
    const t = arrivals[k].at;
    const end = Math.max(
      filledUntil(t, cpuAfter + carried.cpu[k], cpuCapacity, held, (h) => h.cpu),
      filledUntil(t, memoryAfter + carried.memory[k], memoryCapacity, held, (h) => h.memory),
    );
    if (end > best.allBestEffort) best = { allBestEffort: end, from: t, reason: 'work' };
  }
  return best;
}

/**
 * For each lease k (sorted by arrival), the work of the leases that arrived before it that is
 * still to do at its arrival even had each started the instant it arrived: sum of rate x (end - t)
 * over those with end > t, kept as running sums over arrivals and over ends, both in time order.
 */
function carriedWork(arrivals: readonly Timed[]): { cpu: Float64Array; memory: Float64Array } {
  const byEnd = [...arrivals].sort((a, b) => a.end - b.end);
  const cpu = new Float64Array(arrivals.length);
  const memory = new Float64Array(arrivals.length);
  // Over leases arrived before t: sums of rate and of rate x end; the same over leases ended by t, taken off.
  let rateC = 0;
  let endC = 0;
  let rateM = 0;
  let endM = 0;
  let a = 0;
  let e = 0;
  for (let k = 0; k < arrivals.length; k++) {
    const t = arrivals[k].at;
    for (; a < arrivals.length && arrivals[a].at < t; a++) {
      rateC += arrivals[a].cpu;
      endC += arrivals[a].cpu * arrivals[a].end;
      rateM += arrivals[a].memory;
      endM += arrivals[a].memory * arrivals[a].end;
    }
    for (; e < byEnd.length && byEnd[e].end <= t; e++) {
      rateC -= byEnd[e].cpu;
      endC -= byEnd[e].cpu * byEnd[e].end;
      rateM -= byEnd[e].memory;
      endM -= byEnd[e].memory * byEnd[e].end;
    }
    cpu[k] = Math.max(0, endC - t * rateC);
    memory[k] = Math.max(0, endM - t * rateM);
  }
  return { cpu, memory };
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
