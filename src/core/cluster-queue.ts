// Where a queued (best-effort) cluster lease's next chain goes: the cluster's node choice
// (cluster-choice.ts) asked at an instant, the way QueuePlacement.findChainAt asks a plain
// lease's, and the instants worth asking. Reads the state, changes nothing.

import { bandwidthOf } from './bandwidth.ts';
import { chooseCluster, type ClusterChoice } from './cluster-choice.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';
import type { ChainSpec, QueuePlacement } from './queue-placement.ts';
import { splitByRole } from './roles.ts';
import type { SlotTable } from './slot-table.ts';
import type { ClusterRole } from './types.ts';

/** The cluster's chain from t, whole or (if it may be) cut short; a suspended one stays on its nodes if it can, else moves as a whole. */
export function findClusterChainAt(ctx: PlanContext, placement: QueuePlacement, lease: LeaseRecord, t: number, now: number, mayCut: boolean): ChainSpec | null {
  const req = lease.req;
  const roles = req.roles!;
  const suspended = lease.state === 'suspended' && lease.suspendedOn !== null;
  const cut = mayCut && ctx.config.preemption === 'suspend' && req.preemptible;
  const threshold = ctx.costs.suspendThreshold(req, lease.state === 'suspended');
  const suspendTime = ctx.costs.suspendSeconds(req);
  const minLengthWith = (pre: number): number | null => (cut ? Math.max(threshold, pre + suspendTime + 1) : null);
  const transfer = ctx.costs.needsTransfer(req) && !suspended;
  const transferStart = transfer ? ctx.link.earliestSlot(now, ctx.costs.transferSeconds(req)) : null;
  // An image that cannot arrive by t leaves only the nodes that hold it already.
  const eligible = transfer && placement.imageArrival(req, now) > t ? (i: number) => ctx.imageReadyBy(req, i, t) : undefined;
  const tail = remainingWork(lease) + ctx.config.shutdownSeconds;
  const atNow = t === now;
  const spec = (choice: ClusterChoice | null, moved: boolean, fullLength: number): ChainSpec | null => {
    if (!choice) return null;
    const full = choice.end >= t + fullLength;
    const needsTransfer = transferStart !== null && choice.members.some((i) => !ctx.imageReadyBy(req, i, t));
    return { t, nodes: choice.members, roleNodes: choice.roleNodes, end: full ? t + fullLength : choice.end, full, moved, transferStart: needsTransfer ? transferStart : null };
  };
  if (!suspended) {
    const boot = ctx.config.bootSeconds;
    return spec(chooseCluster(ctx.table, roles, { t, fullLength: boot + tail, minLength: minLengthWith(boot), eligible, atNow }), false, boot + tail);
  }
  const home = splitByRole(roles, lease.suspendedOn!);
  const resume = ctx.costs.resumeSeconds(req);
  const migrate = ctx.costs.migrateSeconds(req);
  const stayLength = resume + tail;
  const moveLength = migrate + stayLength;
  const stay = (minLength: number | null) => chooseCluster(ctx.table, roles, { t, fullLength: stayLength, minLength, only: home });
  const move = (minLength: number | null) => chooseCluster(ctx.table, roles, { t, fullLength: moveLength, minLength, preferred: home, atNow });
  const moved = (c: ClusterChoice | null): boolean => c !== null && c.roleNodes.some((nodes, r) => !sameSet(nodes, home[r]));
  const stayFull = stay(null);
  if (stayFull) return spec(stayFull, false, stayLength);
  if (!ctx.config.migration) return spec(stay(minLengthWith(resume)), false, stayLength);
  const moveFull = move(null);
  if (moveFull) return spec(moveFull, moved(moveFull), moved(moveFull) ? moveLength : stayLength);
  if (!cut) return null;
  const stayCut = stay(minLengthWith(resume));
  if (stayCut) return spec(stayCut, false, stayLength);
  const moveCut = move(minLengthWith(migrate + resume));
  return spec(moveCut, moved(moveCut), moveLength);
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((n) => set.has(n));
}

/**
 * A lower bound on when a cluster could start from `from`: no role can start before `count`
 * nodes can each hold one of its VMs for the cluster's shortest acceptable chain.
 */
export function clusterLowerBound(ctx: PlanContext, placement: QueuePlacement, lease: LeaseRecord, from: number): number {
  const length = placement.shortestAcceptableChain(lease);
  let bound = from;
  for (const r of lease.req.roles!) bound = Math.max(bound, ctx.table.earliestWindow(r.count, r.perNode.cpu, r.perNode.memoryMiB, length, from, { bandwidthMbps: bandwidthOf(r.perNode) }));
  return bound;
}

/**
 * Whether each role has `count` nodes with room for one of its VMs now: necessary for a cluster
 * to start now, and far cheaper than its node choice, which most queued clusters fail. Read from
 * the usage counters, not from free profiles: a profile per role shape would push the plain
 * leases' profiles and node memo (kept for one shape) out.
 */
export function rolesFitNow(table: SlotTable, roles: readonly ClusterRole[]): boolean {
  if (table.nodesNotFullNow < Math.max(...roles.map((r) => r.count))) return false;
  for (const r of roles) {
    let found = 0;
    for (let n = table.nextNotFullNow(0); n >= 0 && found < r.count; n = table.nextNotFullNow(n + 1)) if (table.fitsNow(n, r.perNode.cpu, r.perNode.memoryMiB, bandwidthOf(r.perNode))) found++;
    if (found < r.count) return false;
  }
  return true;
}
