// A lease's changes of state: queued, suspended and queued again, completed, cancelled, failed.

import { clusterMemoryNodes, firstPhaseNodes } from './cluster-chain.ts';
import { stretchedSeconds } from './costs.ts';
import type { CoreState } from './core-state.ts';
import { type LeaseRecord, queueBefore, remainingWork } from './lease-record.ts';
import { cutChainAfter, dropPlan, dropSegment, truncate } from './reservation-ops.ts';

/** Puts a lease in the queue, in queue order. */
export function enqueue(s: CoreState, lease: LeaseRecord): void {
  if (lease.state !== 'suspended') lease.state = 'queued';
  s.changed?.add(lease);
  insertSorted(s.queue, lease);
}

export function insertSorted(q: LeaseRecord[], lease: LeaseRecord): void {
  let lo = 0;
  let hi = q.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (queueBefore(q[mid], lease)) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 0, lease);
}

/** Once a lease's chain has run out it is either complete or suspended and queued again. */
export function settleIfChainDone(s: CoreState, lease: LeaseRecord, at: number, lastNodes?: readonly number[]): void {
  if (lease.chain.length > 0 || (lease.state !== 'active' && lease.state !== 'scheduled')) return;
  s.changed?.add(lease);
  if (lease.chainEndsIn === 'suspend' && remainingWork(lease) > 0) {
    lease.state = 'suspended';
    lease.suspensions++;
    if (s.config.suspendedQueueOrder === 'suspension') lease.queuedAt = at;
    lease.suspendedOn = memoryHome(s, lease, lease.req.roles ? clusterMemoryNodes(lease, at) ?? lastNodes ?? null : lastNodes ?? lease.history[lease.history.length - 1]?.nodes ?? null);
    if (!lease.parked) enqueue(s, lease);
  } else {
    complete(s, lease, at);
    s.completed.push(lease);
  }
}

function complete(s: CoreState, lease: LeaseRecord, at: number): void {
  lease.state = 'completed';
  lease.endedAt = at;
  s.images.release(lease, s.now);
}

/** Takes a lease that has not begun its chain back to the queue, keeping its work. */
export function unschedule(s: CoreState, lease: LeaseRecord, now: number): void {
  const wasSuspendedOn = lease.chain.length > 0 && lease.chain[0].kind !== 'boot' && lease.chain[0].kind !== 'run' ? previousMemoryNodes(s, lease) : null;
  dropPlan(s, lease, now);
  if (wasSuspendedOn) {
    lease.state = 'suspended';
    lease.suspendedOn = memoryHome(s, lease, wasSuspendedOn);
  } else {
    s.images.release(lease, s.now);
    lease.state = 'queued';
  }
  enqueue(s, lease);
}

/** Where a suspended lease's memory waits: on `nodes`, or in the depot (no node: []) where the back-end keeps it there. */
function memoryHome(s: CoreState, lease: LeaseRecord, nodes: readonly number[] | null): readonly number[] | null {
  return s.config.suspendedState === 'depot' && !lease.req.roles && nodes !== null ? [] : nodes;
}

function previousMemoryNodes(s: CoreState, lease: LeaseRecord): readonly number[] | null {
  if (lease.req.roles) return clusterMemoryNodes(lease, s.now) ?? firstPhaseNodes(lease);
  for (let i = lease.history.length - 1; i >= 0; i--) {
    const seg = lease.history[i];
    if (seg.kind === 'suspend' && seg.end <= s.now) return seg.nodes;
  }
  return lease.chain[0]?.nodes ?? null;
}

/** Cancels a lease that has begun and queues it again from scratch: the work done so far is lost. */
export function restartLosingWork(s: CoreState, lease: LeaseRecord, now: number): void {
  dropPlan(s, lease, now);
  s.changed?.add(lease);
  lease.lost = [...lease.lost, { segments: lease.history }];
  lease.history = [];
  lease.done = 0;
  lease.work = lease.req.kind === 'best-effort' ? stretchedSeconds(lease.req.duration, s.config.runtimeOverheadPercent) : lease.req.duration;
  lease.firstStart = null;
  lease.suspendedOn = null;
  s.images.release(lease, s.now);
  lease.state = 'queued';
  enqueue(s, lease);
}

/** Withdraws a lease for good: out of the queue, its reservations given up, a running one stopped now. */
export function cancelLease(s: CoreState, lease: LeaseRecord, now: number): void {
  if (lease.state === 'queued' || lease.state === 'suspended') {
    const i = s.queue.indexOf(lease);
    if (i >= 0) s.queue.splice(i, 1);
  }
  const running = lease.chain.find((seg) => seg.active);
  if (running) {
    cutChainAfter(s, lease, running);
    truncate(s, running, now);
  }
  dropPlan(s, lease, now);
  s.images.release(lease, s.now);
  if (lease.renegotiateUntil !== null) s.book.settle(lease);
  lease.state = 'cancelled';
  lease.endedAt = now;
  s.changed?.add(lease);
  s.mustReevaluate = true;
}

/** Stops a lease for good, with a reason its owner can read (lease.failure). */
export function failLease(s: CoreState, lease: LeaseRecord, now: number, code: string, message: string): void {
  cancelLease(s, lease, now);
  lease.failure = { code, message };
}

/**
 * A lease whose work is done, or whose planned runs end by `at`, has only its shutdown left after
 * them: whatever of its chain falls after `at` is cut.
 */
export function powerOffAt(s: CoreState, lease: LeaseRecord, at: number): void {
  for (const seg of [...lease.chain]) {
    if (seg.start >= at) {
      dropSegment(s, lease, seg);
      const i = lease.chain.indexOf(seg);
      if (i >= 0) lease.chain.splice(i, 1);
    } else if (seg.end > at) truncate(s, seg, at);
  }
  settleIfChainDone(s, lease, at);
}
