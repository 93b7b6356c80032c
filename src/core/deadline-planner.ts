import { bandwidthOf } from './bandwidth.ts';
import { chooseCluster, type ClusterChoice } from './cluster-choice.ts';
import { freeProfile } from './free-profile.ts';
import { splitByRole } from './roles.ts';
import { chooseNodes, type NodeChoice } from './node-choice.ts';
import { type PlanContext, type Planned, refuse } from './plan-context.ts';
import type { LeaseRequest } from './types.ts';

/** One stretch of a deadline lease on one set of nodes: boot or (migrate and) resume, run, then shutdown or suspend. */
export interface Piece {
  from: number;
  end: number;
  nodes: number[];
  /** The first piece boots; later ones resume, after a migration if `moved`. */
  first: boolean;
  moved: boolean;
  /** Runs to the end of the work (then shuts down) rather than suspending. */
  last: boolean;
  /** For a cluster lease: each role's nodes (by role number); `nodes` then lists them member by member. */
  roleNodes?: number[][];
}

export interface DeadlinePlan {
  pieces: Piece[];
  end: number;
  transferStart: number | null;
}

const MAX_PIECES = 64;

/**
 * A deadline lease takes the earliest windows from its earliest start on: the earliest
 * completion leaves the most slack before the deadline for whatever goes wrong, and keeps
 * later capacity for reservations that have not been asked for yet. A preemptible one may be
 * planned in pieces (suspended before a reservation in its way and resumed after it, on the
 * same nodes or migrated) as long as the last piece ends by the deadline. Best-effort leases
 * that backfilling placed in the future are not in its way: they are placed again after it.
 */
export function planDeadline(ctx: PlanContext, req: LeaseRequest): Planned<DeadlinePlan> {
  const plan = planEarliestCompletion(ctx, req);
  if (!plan.ok) return plan;
  const deadline = req.deadline!;
  if (plan.plan.end > deadline) {
    return refuse('insufficient-capacity', `cannot end by its deadline ${deadline}: the earliest it can end is ${plan.plan.end}`);
  }
  return plan;
}

/** The plan that ends earliest, whatever the deadline: what planDeadline checks, and what a refusal reports. */
export function planEarliestCompletion(ctx: PlanContext, req: LeaseRequest): Planned<DeadlinePlan> {
  const fit = req.roles ? req.nodes : ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB, bandwidthOf(req.perNode));
  if (req.nodes > fit) return refuse('exceeds-pool', `asks for ${req.nodes} nodes; the pool has ${fit} that can hold one of its VMs`);
  if (req.deadline === undefined) return refuse('invalid', 'a deadline lease needs a deadline');
  const { costs, config } = ctx;
  const cpu = req.perNode.cpu;
  const mem = req.perNode.memoryMiB;
  const transfer = costs.needsTransfer(req) ? costs.transferSeconds(req) : 0;
  const imageAt = transfer > 0 ? ctx.link.earliestSlot(ctx.now, transfer) + transfer : ctx.now;
  const notBefore = Math.max(ctx.now, req.requestedStart ?? ctx.now);
  const imageBy = (n: number): number => (transfer === 0 || ctx.imageReadyBy(req, n, notBefore) ? notBefore : Math.max(notBefore, imageAt));
  const suspend = costs.suspendSeconds(req);
  const ignore = ctx.tentative;
  const pieces: Piece[] = [];
  let remaining = req.duration;
  let t = notBefore;
  let previous: number[] | null = null;
  while (remaining > 0) {
    if (pieces.length === MAX_PIECES) return refuse('insufficient-capacity', `no plan in ${MAX_PIECES} pieces or fewer`);
    const resuming = previous !== null;
    const pre = resuming ? costs.resumeSeconds(req) : config.bootSeconds;
    const whole = pre + remaining + config.shutdownSeconds;
    const cutMin = req.preemptible && config.preemption === 'suspend' ? Math.max(costs.suspendThreshold(req, resuming), pre + suspend + 1) : null;
    const shortest = cutMin === null ? whole : Math.min(whole, cutMin);
    const window = { notBefore: resuming ? undefined : imageBy, ignore };
    const earliest = req.roles ? clusterBound(ctx, req, shortest, t, window) : ctx.table.earliestWindow(req.nodes, cpu, mem, shortest, t, { ...window, bandwidthMbps: bandwidthOf(req.perNode) });
    if (earliest === Infinity) return refuse('insufficient-capacity', `${req.nodes} nodes are never free for ${shortest} s`);
    const placed = (req.roles ? clusterPieceAt : pieceAt)(ctx, req, earliest, { previous, pre, whole, cutMin, imageBy: resuming ? null : imageBy, ignore });
    if (!placed) {
      // Only a reservation ending (or the image arriving) can change the answer.
      const next = Math.min(ctx.table.endsAfter(earliest)[0] ?? Infinity, imageAt > earliest ? imageAt : Infinity);
      if (next === Infinity) return refuse('insufficient-capacity', `no nodes for the lease from ${earliest} on`);
      t = next;
      continue;
    }
    const { choice, moved, overhead } = placed;
    const wholeFits = choice.end >= earliest + overhead + whole;
    // A window that holds the rest of the work but not its shutdown ends the lease too (the shutdown is cut short).
    const last = wholeFits || choice.end - earliest - overhead - pre - suspend >= remaining;
    const end = wholeFits ? earliest + overhead + whole : choice.end;
    pieces.push({ from: earliest, end, nodes: choice.nodes, first: !resuming, moved, last, roleNodes: placed.roleNodes });
    remaining -= last ? remaining : end - earliest - overhead - pre - suspend;
    previous = choice.nodes;
    t = end;
  }
  const first = pieces[0];
  const lacksImage = transfer > 0 && first.nodes.some((i) => !ctx.imageReadyBy(req, i, first.from));
  return { ok: true, plan: { pieces, end: pieces[pieces.length - 1].end, transferStart: lacksImage ? imageAt - transfer : null } };
}

interface PieceAsk {
  previous: number[] | null;
  pre: number;
  whole: number;
  cutMin: number | null;
  imageBy: ((n: number) => number) | null;
  ignore: ReadonlySet<string>;
}

/** Nodes for a piece starting at t: staying where the last piece was if it can, else moving (paying a migration). */
interface PiecePlace {
  choice: NodeChoice;
  moved: boolean;
  overhead: number;
  roleNodes?: number[][];
}

/** No role of a cluster can start before `count` nodes can hold one of its VMs for `length`: a lower bound on the cluster's start. */
function clusterBound(ctx: PlanContext, req: LeaseRequest, length: number, from: number, opts: { notBefore?: (n: number) => number; ignore: ReadonlySet<string> }): number {
  let bound = from;
  for (const r of req.roles!) bound = Math.max(bound, ctx.table.earliestWindow(r.count, r.perNode.cpu, r.perNode.memoryMiB, length, from, { ...opts, bandwidthMbps: bandwidthOf(r.perNode) }));
  return bound;
}

/** pieceAt for a cluster: every role by the cluster's node choice, staying where the last piece was if the whole cluster can. */
function clusterPieceAt(ctx: PlanContext, req: LeaseRequest, t: number, ask: PieceAsk): PiecePlace | null {
  const roles = req.roles!;
  const eligible = ask.imageBy ? (n: number) => ask.imageBy!(n) <= t : undefined;
  const base = { t, eligible, ignore: ask.ignore, minLength: ask.cutMin };
  const as = (c: ClusterChoice, moved: boolean, overhead: number): PiecePlace => ({ choice: { nodes: c.members, end: c.end }, moved, overhead, roleNodes: c.roleNodes });
  if (ask.previous === null) {
    const choice = chooseCluster(ctx.table, roles, { ...base, fullLength: ask.whole });
    return choice && as(choice, false, 0);
  }
  const home = splitByRole(roles, ask.previous);
  const stay = chooseCluster(ctx.table, roles, { ...base, fullLength: ask.whole, only: home });
  if (stay) return as(stay, false, 0);
  if (!ctx.config.migration) return null;
  const migrate = ctx.costs.migrateSeconds(req);
  const move = chooseCluster(ctx.table, roles, { ...base, fullLength: migrate + ask.whole, minLength: ask.cutMin === null ? null : migrate + ask.cutMin, preferred: home });
  if (!move) return null;
  const moved = move.roleNodes.some((nodes, r) => nodes.length !== home[r].length || nodes.some((i) => !home[r].includes(i)));
  return as(move, moved, moved ? migrate : 0);
}

function pieceAt(ctx: PlanContext, req: LeaseRequest, t: number, ask: PieceAsk): PiecePlace | null {
  const eligible = ask.imageBy ? (n: number) => ask.imageBy!(n) <= t : undefined;
  const profile = freeProfile(ctx.table, { t, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, bandwidthMbps: bandwidthOf(req.perNode), eligible, onlyFreeNow: t === ctx.now && ask.ignore.size === 0, ignore: ask.ignore });
  const base = { n: req.nodes };
  if (ask.previous === null) {
    const choice = chooseNodes(profile, { ...base, fullLength: ask.whole, minLength: ask.cutMin });
    return choice && { choice, moved: false, overhead: 0 };
  }
  const home = new Set(ask.previous);
  const stay = chooseNodes(profile, { ...base, fullLength: ask.whole, minLength: ask.cutMin, eligible: (i) => home.has(i), preferred: ask.previous });
  if (stay) return { choice: stay, moved: false, overhead: 0 };
  if (!ctx.config.migration) return null;
  const migrate = ctx.costs.migrateSeconds(req);
  const move = chooseNodes(profile, { ...base, fullLength: migrate + ask.whole, minLength: ask.cutMin === null ? null : migrate + ask.cutMin, preferred: ask.previous });
  if (!move) return null;
  const moved = move.nodes.length !== home.size || move.nodes.some((i) => !home.has(i));
  return { choice: move, moved, overhead: moved ? migrate : 0 };
}
