// What an owner (or an administrator) does to a lease once it is in: ends it early, suspends it
// and resumes it, cancels it, moves it live to other nodes. A "no" is a Refusal, not an exception.

import { bandwidthOf } from './bandwidth.ts';
import type { CoreState } from './core-state.ts';
import { unstretchedSeconds } from './costs.ts';
import { cutClusterRuns, firstRoleChain, phaseFits, placePhase } from './cluster-cuts.ts';
import { cancelLease, enqueue, settleIfChainDone } from './lease-lifecycle.ts';
import { hasEnded, type LeaseRecord } from './lease-record.ts';
import { cutChainAfter, place, truncate } from './reservation-ops.ts';
import { sameList } from './node-lists.ts';
import type { Segment } from './segment.ts';
import { type Done, type Refusal, refusal, type SegmentKind } from './types.ts';

const runningRun = (lease: LeaseRecord): Segment | undefined => lease.chain.find((seg) => seg.kind === 'run' && seg.active);

export type OwnerAction = 'finish' | 'suspend' | 'resume';

const DOING: Record<SegmentKind, string> = {
  transfer: 'receiving its image', boot: 'booting', run: 'running', shutdown: 'shutting down',
  suspend: 'suspending', resume: 'resuming', migrate: 'migrating',
};

/** What the lease is doing, in the words its owner sees ('suspending' rather than the record's 'active'). */
function doing(lease: LeaseRecord): string {
  const seg = lease.chain.find((x) => x.active);
  return seg ? DOING[seg.kind] : lease.state;
}

/**
 * Why the owner's action on lease `id` cannot be done now, or null if it can. Pure, so that the
 * service asks it before it logs the action: a logged input the core refuses would stop a replay.
 */
export function ownerActionRefusal(s: CoreState, id: string, action: OwnerAction): Refusal | null {
  const lease = s.book.get(id);
  if (!lease) return refusal('not-found', `no lease '${id}'`);
  switch (action) {
    case 'finish':
      return runningRun(lease) ? null : refusal('wrong-state', `lease '${id}' is not running (${doing(lease)}); cancel it instead`);
    case 'suspend':
      if (lease.req.kind !== 'best-effort') return refusal('policy', `lease '${id}' is ${lease.req.kind}: only a best-effort lease can be suspended by its owner (a reservation keeps its window; cancel it instead)`);
      if (!runningRun(lease)) return refusal('wrong-state', `lease '${id}' is not running (${doing(lease)}); only a running lease can be suspended`);
      // As for a live migration: a suspend in the run's first instant would leave a run of no length.
      if (runningRun(lease)!.start === s.now) return refusal('wrong-state', `lease '${id}' starts running at this very instant: suspend it once it runs`);
      return null;
    case 'resume':
      return lease.parked ? null : refusal('wrong-state', `lease '${id}' was not suspended by its owner (${doing(lease)}); there is nothing to resume`);
  }
}

/**
 * Ends a running lease's current run at `now` (its workload finished before the planned end, or
 * the client stopped it): what was planned after it is cancelled.
 */
export function finishEarly(s: CoreState, id: string, now: number): Done {
  const refused = ownerActionRefusal(s, id, 'finish');
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease)!;
  // Stopped at the instant its first run began, it never ran: withdrawn as a cancel, not completed
  // with no run at all (an accepted reservation that completes must have run; the checker says so).
  if (lease.done === 0 && run.start >= now) return cancel(s, id, now);
  if (run.role !== undefined) return finishCluster(s, lease, run, now);
  const heldUntil = contiguousEnd(lease.chain, lease.chain.indexOf(run));
  s.now = now;
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  lease.work = lease.done;
  lease.realDuration = lease.req.kind === 'best-effort' ? unstretchedSeconds(lease.done, s.config.runtimeOverheadPercent) : lease.done;
  lease.chainEndsIn = 'finish';
  placeShutdown(s, lease, now, heldUntil, run.nodes);
  settleIfChainDone(s, lease, now);
  s.mustReevaluate = true;
  return { ok: true };
}

/** finishEarly of a cluster: every role's run ends now, and every role shuts down. */
function finishCluster(s: CoreState, lease: LeaseRecord, run: Segment, now: number): Done {
  const lead = firstRoleChain(lease);
  const heldUntil = contiguousEnd(lead, lead.indexOf(run));
  s.now = now;
  const runs = cutClusterRuns(s, lease, run, now);
  lease.work = lease.done;
  lease.realDuration = lease.req.kind === 'best-effort' ? unstretchedSeconds(lease.done, s.config.runtimeOverheadPercent) : lease.done;
  lease.chainEndsIn = 'finish';
  const full = now + s.config.shutdownSeconds;
  const end = full <= heldUntil || phaseFits(s, lease.req.roles!, runs, now, full) ? full : heldUntil;
  if (end > now) placePhase(s, lease, 'shutdown', now, end, runs);
  settleIfChainDone(s, lease, now);
  s.mustReevaluate = true;
  return { ok: true };
}

/**
 * A shutdown that cannot finish before its nodes are promised to another lease is cut
 * short where the lease's own reservation ended: the VM is powered off.
 */
function placeShutdown(s: CoreState, lease: LeaseRecord, from: number, heldUntil: number, nodes: readonly number[]): void {
  const full = from + s.config.shutdownSeconds;
  if (full <= from) return;
  const { cpu, memoryMiB } = lease.req.perNode;
  const fits = full <= heldUntil || nodes.every((n) => s.table.freeUntil(n, from, cpu, memoryMiB, full, undefined, -Infinity, bandwidthOf(lease.req.perNode)) >= full);
  const end = fits ? full : heldUntil;
  if (end > from) lease.chain.push(place(s, lease, 'shutdown', from, end, nodes));
}

/**
 * Until when the lease's plan holds segment i's nodes without a gap: the segments after it that
 * follow on the same nodes. A plan that goes on elsewhere (a suspension, then a move) no longer
 * holds the nodes it leaves, however seamless its times.
 */
function contiguousEnd(chain: readonly Segment[], i: number): number {
  const nodes = chain[i].nodes;
  let end = chain[i].end;
  for (let k = i + 1; k < chain.length && chain[k].start === end && sameList(chain[k].nodes, nodes); k++) end = chain[k].end;
  return end;
}

/**
 * The owner suspends a running best-effort lease now: its run ends, its memory is saved, and it
 * waits, out of the queue, until resumeByOwner.
 */
export function suspendByOwner(s: CoreState, id: string, now: number): Done {
  const refused = ownerActionRefusal(s, id, 'suspend');
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease)!;
  const secs = s.costs.suspendSeconds(lease.req);
  if (run.role !== undefined) {
    const runs = cutClusterRuns(s, lease, run, now);
    lease.chainEndsIn = 'suspend';
    lease.parked = true;
    if (secs > 0) placePhase(s, lease, 'suspend', now, now + secs, runs);
    settleIfChainDone(s, lease, now);
    s.mustReevaluate = true;
    return { ok: true };
  }
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  lease.chainEndsIn = 'suspend';
  lease.parked = true;
  if (secs > 0) lease.chain.push(place(s, lease, 'suspend', now, now + secs, run.nodes));
  settleIfChainDone(s, lease, now, run.nodes);
  s.mustReevaluate = true;
  return { ok: true };
}

/** The owner lets a lease it suspended go back to the queue, by its original arrival. */
export function resumeByOwner(s: CoreState, id: string): Done {
  const refused = ownerActionRefusal(s, id, 'resume');
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  lease.parked = false;
  s.changed?.add(lease);
  // 'queued': its saved state was lost with a node, and it starts again from scratch.
  if (lease.state === 'suspended' || lease.state === 'queued') enqueue(s, lease);
  return { ok: true };
}

/**
 * Withdraws a lease: a queued one leaves the queue; a placed one gives its reservations up;
 * a running one stops now. Its outcome is `cancelled`. Refused if it had already ended.
 */
export function cancel(s: CoreState, id: string, now: number): Done {
  const lease = s.book.get(id);
  if (!lease) return refusal('not-found', `no lease '${id}' to cancel`);
  const live = s.book.partsOf(lease).filter((p) => !hasEnded(p));
  if (live.length === 0) return refusal('wrong-state', `lease '${id}' has already ended (${lease.state})`);
  if (lease.heldUntil !== null) s.book.unhold(lease);
  for (const p of live) cancelLease(s, p, now);
  if (lease.state === 'expanded') lease.state = 'cancelled';
  s.changed?.add(lease);
  return { ok: true };
}

/**
 * Why the running lease `id` cannot move to `toNodes` now (live, as it runs), or null if it can:
 * it must be running, on as many nodes as it has, open ones it is not on, with room there for
 * the rest of its chain.
 */
export function liveMigrationRefusal(s: CoreState, id: string, toNodes: readonly number[], now: number): Refusal | null {
  const lease = s.book.get(id);
  if (!lease) return refusal('not-found', `no lease ${id}`);
  // The schedule contract keeps a reservation's run in one piece on its nodes; only leases whose runs may be split move.
  if (lease.req.roles) return refusal('unsupported', `lease '${id}' is a cluster: it moves only as a whole, suspended and resumed elsewhere, not live`);
  if (lease.req.kind !== 'best-effort' && lease.req.kind !== 'deadline') return refusal('policy', `lease '${id}' is ${lease.req.kind}: only best-effort and deadline leases migrate (a reservation keeps its nodes)`);
  const run = runningRun(lease);
  if (!run || run.start > now) return refusal('wrong-state', `lease '${id}' is not running (${doing(lease)}); only a running lease migrates live`);
  if (run.start === now) return refusal('wrong-state', `lease '${id}' starts running at this very instant: migrate it once it runs`);
  if (toNodes.length !== run.nodes.length) return refusal('invalid', `lease '${id}' runs on ${run.nodes.length} node(s): name as many to move to, not ${toNodes.length}`);
  if (new Set(toNodes).size !== toNodes.length) return refusal('invalid', 'name each node to move to once');
  const { cpu, memoryMiB } = lease.req.perNode;
  for (const n of toNodes) {
    if (n < 0 || n >= s.table.size) return refusal('not-found', `no node ${n} in a pool of ${s.table.size}`);
    const name = `node '${s.table.nodes[n].id}'`;
    if (!s.table.isOpen(n)) return refusal('node-unavailable', `${name} is not open to new work (draining or unavailable): pick another`);
    if (run.nodes.includes(n)) return refusal('invalid', `lease '${id}' already runs on ${name}: name nodes it is not on`);
    for (const seg of lease.chain.slice(lease.chain.indexOf(run))) {
      const from = Math.max(seg.start, now);
      if (s.table.freeUntil(n, from, cpu, memoryMiB, seg.end, undefined, -Infinity, bandwidthOf(lease.req.perNode)) < seg.end) return refusal('insufficient-capacity', `${name} has no room for lease '${id}' from ${from} to ${seg.end}`);
    }
  }
  return null;
}

/** Moves a running lease to `toNodes` now: its run goes on there, and the rest of its chain follows. */
export function migrateLive(s: CoreState, id: string, toNodes: readonly number[], now: number): Done {
  const refused = liveMigrationRefusal(s, id, toNodes, now);
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease)!;
  const rest = lease.chain.slice(lease.chain.indexOf(run)).map((seg) => ({ kind: seg.kind, start: Math.max(seg.start, now), end: seg.end }));
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  for (const seg of rest) if (seg.end > seg.start) lease.chain.push(place(s, lease, seg.kind, seg.start, seg.end, toNodes));
  lease.migrations++;
  s.mustReevaluate = true;
  return { ok: true };
}
