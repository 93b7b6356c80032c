// Leases making way for others: which ones could (candidates), how each would (suspended,
// requeued, taken back to the queue, powered off), and doing it.

import { cutClusterRuns, placePhase } from './cluster-cuts.ts';
import type { CoreState } from './core-state.ts';
import { powerOffAt, restartLosingWork, settleIfChainDone, unschedule } from './lease-lifecycle.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';
import type { PreemptionKind } from './plan.ts';
import type { VictimCandidate } from './preemption-policy.ts';
import { cutChainAfter, place, truncate } from './reservation-ops.ts';
import { countsWork } from './segment.ts';

/**
 * Decides how `lease` makes way from `at` on: one that has not begun is taken back to the queue
 * (its work kept); one whose work is done, or will be by `at` (only its shutdown is in the way),
 * powers off; one running is suspended so that the suspension has ended by `at`, if preemption
 * is by suspension and its run allows it; otherwise it is cancelled and queued again, losing its
 * work.
 */
export function preemptionKind(ctx: PlanContext, lease: LeaseRecord, at: number): PreemptionKind {
  // Only an urgent lease on a site that lets it (victimCandidates' reservations) takes a reservation's place.
  if (lease.req.kind !== 'best-effort') return 'renegotiate';
  const chain = lease.chain;
  if (chain.length === 0) return 'unschedule';
  if (remainingWork(lease) <= 0 || workDoneBy(lease, at)) return 'power-off';
  if (chain[0].start >= at && !resumedThere(lease)) return 'unschedule';
  if (ctx.config.preemption === 'suspend' && suspensionPoint(ctx, lease, at) !== null) return 'suspend';
  if (chain[0].start >= ctx.now && !chain[0].active) return 'unschedule';
  return 'requeue';
}

/**
 * Whether the lease's first run has just begun on memory it resumed there: its state is in that
 * run, not in a saved image, so taking it back to the queue would lose it (a begun run that
 * cannot be suspended in time is requeued instead).
 */
function resumedThere(lease: LeaseRecord): boolean {
  const first = lease.chain[0];
  if (!first.active || first.kind !== 'run') return false;
  const before = lease.history[lease.history.indexOf(first) - 1];
  return before !== undefined && before.kind === 'resume' && before.end === first.start;
}

/**
 * Whether the runs planned in the lease's chain hold all its remaining work and end by `at`.
 * Such a lease is not suspended at `at`: its suspension would begin after its work is done, and
 * moving its run's end out to there would run it longer than its work (and add a suspension).
 */
function workDoneBy(lease: LeaseRecord, at: number): boolean {
  let planned = 0;
  for (const seg of lease.chain) {
    if (!countsWork(seg)) continue;
    if (seg.end > at) return false;
    planned += seg.end - seg.start;
  }
  return planned >= remainingWork(lease);
}

/** Where the run to cut is, and when its suspension begins so that it ends by `at`; null if it cannot. */
export function suspensionPoint(ctx: PlanContext, lease: LeaseRecord, at: number): { runIndex: number; suspendAt: number } | null {
  const s = ctx.costs.suspendSeconds(lease.req);
  let runIndex = -1;
  for (let i = lease.chain.length - 1; i >= 0; i--) {
    if (lease.chain[i].kind === 'run' && lease.chain[i].start < at) {
      runIndex = i;
      break;
    }
  }
  if (runIndex < 0) return null;
  const run = lease.chain[runIndex];
  // A run planned to end before then (its lease already suspended, or moving on) is never lengthened: that time is others'.
  const suspendAt = Math.min(at - s, run.end);
  if (suspendAt < ctx.now || suspendAt <= run.start) return null;
  if (at - run.start < ctx.costs.suspendThreshold(lease.req, lease.state === 'suspended')) return null;
  return { runIndex, suspendAt };
}

/** Preemptible leases with a reservation overlapping [from, to), and what each would cost to preempt. */
export function victimCandidates(ctx: PlanContext, from: number, to: number, reservations = false): VictimCandidate[] {
  const seen = new Set<string>();
  const out: VictimCandidate[] = [];
  for (let n = 0; n < ctx.table.size; n++) {
    for (const id of ctx.table.leasesOverlapping(n, from, to)) {
      if (seen.has(id) || ctx.ignoring?.has(id)) continue;
      seen.add(id);
      const l = ctx.leaseById(id);
      if (l.req.kind !== 'best-effort') {
        // A reservation gives way only to an urgent lease, where the site lets it, and only before it begins.
        if (reservations && !l.req.roles && l.req.kind !== 'urgent' && l.state === 'scheduled' && l.chain.length > 0 && l.chain[0].start > ctx.now) {
          out.push({ leaseId: id, arrival: l.req.arrival, seq: l.seq, workAtRisk: 0, memoryMiB: l.req.perNode.memoryMiB * l.req.nodes });
        }
        continue;
      }
      if (!l.req.preemptible || justResumed(l, ctx.now)) continue;
      const running = l.chain.find((s) => s.kind === 'run' && s.active);
      const ranSeconds = l.done + (running ? ctx.now - running.start : 0);
      out.push({
        leaseId: id, arrival: l.req.arrival, seq: l.seq,
        workAtRisk: preemptionKind(ctx, l, from) === 'requeue' ? ranSeconds * l.req.nodes : 0,
        memoryMiB: l.req.perNode.memoryMiB * l.req.nodes,
      });
    }
  }
  return out;
}

/**
 * A lease whose run begins this very instant after a resume cannot give way now: it has run
 * nothing that a suspension could save, yet cancelling it would lose the work its memory holds.
 */
function justResumed(l: LeaseRecord, now: number): boolean {
  const first = l.chain[0];
  return first !== undefined && first.active && first.kind === 'run' && first.start === now && l.done > 0;
}

/** Makes a lease give up its resources from `at` on, as the plan said (`how`, from preemptionKind). */
export function preempt(s: CoreState, lease: LeaseRecord, how: PreemptionKind, at: number, now: number): void {
  lease.preemptions++;
  switch (how) {
    case 'power-off':
      return powerOffAt(s, lease, at);
    case 'unschedule':
      return lease.chain.length > 0 ? unschedule(s, lease, now) : undefined;
    case 'suspend':
      return suspendBy(s, lease, at);
    case 'requeue':
      return restartLosingWork(s, lease, now);
    case 'renegotiate':
      throw new Error(`internal: reservation ${lease.req.id} is to renegotiate, which applying the plan does (admission.ts), not preempt`);
  }
}

/** Cuts the lease's run so that its suspension ends by `at`. */
function suspendBy(s: CoreState, lease: LeaseRecord, at: number): void {
  const point = suspensionPoint(s, lease, at);
  if (point === null) throw new Error(`internal: lease ${lease.req.id} was planned to be suspended by ${at}, but cannot be`);
  const run = lease.chain[point.runIndex];
  if (run.role !== undefined) {
    const runs = cutClusterRuns(s, lease, run, point.suspendAt);
    lease.chainEndsIn = 'suspend';
    const secs = s.costs.suspendSeconds(lease.req);
    if (secs > 0) placePhase(s, lease, 'suspend', point.suspendAt, point.suspendAt + secs, runs);
    settleIfChainDone(s, lease, point.suspendAt + secs);
    return;
  }
  cutChainAfter(s, lease, run);
  truncate(s, run, point.suspendAt);
  lease.chainEndsIn = 'suspend';
  const secs = s.costs.suspendSeconds(lease.req);
  if (secs > 0) lease.chain.push(place(s, lease, 'suspend', point.suspendAt, point.suspendAt + secs, run.nodes));
  settleIfChainDone(s, lease, point.suspendAt + secs, run.nodes);
}
