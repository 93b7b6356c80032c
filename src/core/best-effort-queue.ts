// The best-effort queue: queued and suspended leases placed in queue order, now or (backfilling)
// in the future, and those placed in the future given another chance when room frees up early.

import { distinctNodes } from './cluster-chain.ts';
import { clusterLowerBound, findClusterChainAt, rolesFitNow } from './cluster-queue.ts';
import type { CoreState } from './core-state.ts';
import { insertSorted, unschedule } from './lease-lifecycle.ts';
import { type LeaseRecord, queueBefore, remainingWork } from './lease-record.ts';
import type { ChainSpec, QueuePlacement } from './queue-placement.ts';
import { layoutChain, moveImage, placeChain } from './vm-chain.ts';

/** A pass over the queue at `now`; `placed` hears of each lease placed. */
export function processQueue(s: CoreState, placement: QueuePlacement, now: number, placed: (lease: LeaseRecord) => void): void {
  if (s.queue.length === 0) return;
  // The queue is kept in place, the placed leases taken out as it goes (w trails i): copying a queue
  // of thousands at each of 400,000 instants of the whole SDSC log was most of the garbage made.
  const q = s.queue;
  s.queue = [];
  let w = 0;
  let i = 0;
  for (; i < q.length; i++) {
    const allowFuture = canPlaceInFuture(s);
    if (!allowFuture && s.table.nodesNotFullNow === 0) break;
    const lease = q[i];
    // Most of a long queue cannot start now and may not be placed later: told apart without planning.
    const hopeless = !allowFuture && placement.onlyNow(lease) && lease.req.nodes > s.table.nodesNotFullNow && lease.req.roles === undefined;
    if (!hopeless && scheduleBestEffort(s, placement, lease, now, allowFuture)) {
      placed(lease);
      continue;
    }
    q[w++] = lease;
    if (s.config.backfill === 'none') {
      i++;
      break;
    }
  }
  if (w < i) {
    for (; i < q.length; i++) q[w++] = q[i];
    q.length = w;
  }
  // Leases preempted while the queue was processed were enqueued into s.queue meanwhile.
  for (const l of s.queue) insertSorted(q, l);
  s.queue = q;
}

/** EASY backfilling places only the first lease that cannot start now in the future; conservative, every one. */
function canPlaceInFuture(s: CoreState): boolean {
  const b = s.config.backfill;
  return b === 'conservative' || (b === 'easy' && s.future.size < 1);
}

/** Places a queued lease to start at t (now, or when its image could arrive), if it can. */
function placeNear(s: CoreState, placement: QueuePlacement, lease: LeaseRecord, t: number, now: number): boolean {
  if (t === now && lease.req.nodes > s.table.nodesNotFullNow) return false;
  // A cheap necessary condition, asked of a profile shared by the whole queue pass: most leases
  // that cannot start now fail it. Of a lease not resuming it says exactly what findChainAt would
  // (free-profile.test.ts), but counting is cheaper than choosing nodes where most fail: left out,
  // the 30-day runs with reservations of repro:hpdc08 took 1.6 times as long.
  if (!placement.windowAtLeast(lease, t, now)) return false;
  const spec = placement.findChainAt(lease, t, now, true);
  if (!spec) return false;
  placeQueued(s, lease, spec, now);
  return true;
}

function scheduleBestEffort(s: CoreState, placement: QueuePlacement, lease: LeaseRecord, now: number, allowFuture: boolean): boolean {
  if (lease.req.roles) return scheduleCluster(s, placement, lease, now, allowFuture);
  // Now, then when its image could arrive: asked of every queued lease at every step, without a list of the two.
  const last = placement.lastNearTime(lease, now);
  if (placeNear(s, placement, lease, now, now)) return true;
  if (last > now && placeNear(s, placement, lease, last, now)) return true;
  if (!allowFuture) return false;
  const bound = placement.earliestPossibleStart(lease, last, now);
  // Only a pool that lost nodes (drained) can leave a lease with nowhere to go: it waits for nodes to be added.
  if (bound === Infinity) return false;
  let spec = placement.findChainAt(lease, bound, now, true);
  // The bound ignores which nodes a suspended lease prefers and its images; later ends are tried only if it misses.
  for (const t of spec ? [] : s.table.endsAfter(bound)) {
    spec = placement.findChainAt(lease, t, now, true);
    if (spec) break;
  }
  if (spec) {
    lease.lastPlannedStart = null;
    placeQueued(s, lease, spec, now);
    lease.inFuture = true;
    s.future.add(lease);
    return true;
  }
  // A suspended lease that may not migrate waits for all its nodes; one of them may have been drained, or leave the pool.
  const stranded = lease.state === 'suspended' && !s.config.migration && (lease.suspendedOn ?? []).some((n) => !s.table.isOpen(n) || s.table.departureOf(n) !== Infinity);
  if (stranded) return false;
  // Nodes that leave the pool (pilots) may leave no window the lease can use before they go, the
  // bound above being only a lower one: the lease waits for nodes to come.
  for (let n = 0; n < s.table.size; n++) if (s.table.departureOf(n) !== Infinity) return false;
  throw new Error(`internal: no place found for best-effort lease ${lease.req.id} even after every reservation ends`);
}

/**
 * scheduleBestEffort for a cluster: now (or when its image could arrive), else, if it may be
 * placed later, at the first instant from a lower bound on, among the ends of reservations, at
 * which every role fits.
 */
function scheduleCluster(s: CoreState, placement: QueuePlacement, lease: LeaseRecord, now: number, allowFuture: boolean): boolean {
  const last = placement.lastNearTime(lease, now);
  for (const t of last > now ? [now, last] : [now]) {
    const spec = t > now || rolesFitNow(s.table, lease.req.roles!) ? findClusterChainAt(s, placement, lease, t, now, true) : null;
    if (spec) {
      placeQueued(s, lease, spec, now);
      return true;
    }
  }
  if (!allowFuture) return false;
  const bound = clusterLowerBound(s, placement, lease, last);
  if (bound === Infinity) return false;
  for (const t of [bound, ...s.table.endsAfter(bound)]) {
    const spec = findClusterChainAt(s, placement, lease, t, now, true);
    if (!spec) continue;
    lease.lastPlannedStart = null;
    placeQueued(s, lease, spec, now);
    lease.inFuture = true;
    s.future.add(lease);
    return true;
  }
  return false;
}

/** Lays out boot (or migrate and resume), run, and shutdown or suspend on the chosen nodes, and places them. */
function placeQueued(s: CoreState, lease: LeaseRecord, spec: ChainSpec, now: number): void {
  const suspended = lease.state === 'suspended';
  const piece = { from: spec.t, end: spec.end, nodes: spec.nodes, first: !suspended, moved: spec.moved, last: spec.full || 'if-work-fits' as const, roleNodes: spec.roleNodes };
  placeChain(s, lease, layoutChain(s.config, s.costs, lease.req, remainingWork(lease), [piece]));
  const cached = lease.req.image && s.config.images === 'transfer' && !suspended;
  const nodes = spec.roleNodes ? distinctNodes(spec.nodes) : spec.nodes;
  moveImage(s, lease, spec.transferStart !== null ? { nodes, sendAt: spec.transferStart } : cached ? { nodes, sendAt: null } : null, now);
  if (suspended) lease.suspendedOn = null;
}

/** Leases placed in the future by backfilling get another chance once resources free up early. */
export function reevaluateFuture(s: CoreState, placement: QueuePlacement, now: number): void {
  s.mustReevaluate = false;
  const freed = { until: s.table.freedUntil, nodes: s.table.freedNodes };
  s.table.forgetFreed();
  if (s.future.size === 0) return;
  // EASY's one reservation, first in the queue's order, stays put when nothing freed since could move it.
  if (s.config.backfill === 'easy' && s.future.size === 1) {
    const [head] = s.future;
    // A cluster is placed again every time: its node choice is not the one StaysPut knows.
    if ((s.queue.length === 0 || queueBefore(head, s.queue[0])) && head.req.roles === undefined && placement.staysPut(head, now, freed)) return;
  }
  const again = [...s.future].sort((a, b) => a.seq - b.seq);
  for (const lease of again) {
    if (lease.chain.length === 0 || lease.chain[0].start <= now) continue;
    lease.lastPlannedStart = lease.chain[0].start;
    unschedule(s, lease, now);
  }
}
