import { bandwidthOf, nodesText } from './bandwidth.ts';
import { distinctNodes } from './cluster-chain.ts';
import { chooseCluster, type ClusterChoice, clusterAdmission } from './cluster-choice.ts';
import { freeProfile } from './free-profile.ts';
import { remainingWork } from './lease-record.ts';
import { chooseNodes, type NodeChoice } from './node-choice.ts';
import { type PlanContext, type Planned, refuse } from './plan-context.ts';
import type { Preemption } from './plan.ts';
import { preemptionKind, victimCandidates } from './preemption.ts';
import { orderVictims, type PreemptionPolicy } from './preemption-policy.ts';
import type { LeaseRequest } from './types.ts';

/** A lease placed at a fixed time on fixed nodes, and who must make way for it. */
export interface ReservationPlan {
  /** When its first segment (boot) begins. */
  from: number;
  /** When it starts running. */
  start: number;
  /** When its last segment ends. */
  end: number;
  nodes: number[];
  preempted: Preemption[];
  /** When its image leaves the repository, if it must be sent. */
  transferStart: number | null;
  /** For a cluster lease: each role's nodes (by role number); `nodes` then lists them member by member. */
  roleNodes?: number[][];
}

/** The run seconds a lease of this kind needs. */
export function workOf(req: LeaseRequest): number {
  return req.duration;
}

function exceedsPool(ctx: PlanContext, req: LeaseRequest): string | null {
  if (req.roles) return clusterAdmission(req, (cpu, mem, bw) => ctx.nodesThatFit(cpu, mem, bw), ctx.table)?.message ?? null;
  const fit = ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB, bandwidthOf(req.perNode));
  return req.nodes > fit ? `asks for ${nodesText(req.nodes, req.perNode)}; the pool has ${fit} such nodes` : null;
}

function victimsOn(ctx: PlanContext, nodes: readonly number[], from: number, to: number, ignore: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const n of nodes) for (const id of ctx.table.leasesOverlapping(n, from, to)) if (ignore.has(id) && !ctx.ignoring?.has(id) && !out.includes(id)) out.push(id);
  return out.sort((a, b) => ctx.leaseById(a).seq - ctx.leaseById(b).seq);
}

interface WindowAsk {
  req: LeaseRequest;
  from: number;
  length: number;
  eligible?: (node: number) => boolean;
  /** An urgent lease on a site that lets it: reservations not yet begun may give way too, after every best-effort lease. */
  breaking?: boolean;
}

/** The victims in the order they are tried: the policy's order, reservations (if any may give way) after every best-effort lease. */
function victimsInOrder(ctx: PlanContext, policy: PreemptionPolicy, from: number, to: number, breaking: boolean) {
  const all = victimCandidates(ctx, from, to, breaking);
  if (!breaking) return orderVictims(policy, all);
  const firm = new Set(all.filter((c) => ctx.leaseById(c.leaseId).req.kind !== 'best-effort').map((c) => c.leaseId));
  return [...orderVictims(policy, all.filter((c) => !firm.has(c.leaseId))), ...orderVictims(policy, all.filter((c) => firm.has(c.leaseId)))];
}

/** Nodes for [from, from + length): free ones if enough, else after ignoring victims one by one in the policy's order. */
function chooseWithVictims(ctx: PlanContext, ask: WindowAsk, policy: PreemptionPolicy | null): { choice: NodeChoice & { roleNodes?: number[][] }; victims: string[] } | null {
  const { req, from, length, eligible } = ask;
  if (req.roles) return clusterWithVictims(ctx, ask, policy);
  const shape = { t: from, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, bandwidthMbps: bandwidthOf(req.perNode), eligible };
  const nodeAsk = { n: req.nodes, fullLength: length, minLength: null };
  const self = ctx.ignoring;
  const free = firstWholeNodes(ctx, ask) ?? chooseNodes(freeProfile(ctx.table, self ? { ...shape, onlyFreeNow: false, ignore: self, ignoreFrom: from } : { ...shape, onlyFreeNow: from === ctx.now }), nodeAsk);
  if (free) return { choice: free, victims: [] };
  if (policy === null) return null;
  const ignore = new Set<string>(self);
  for (const v of victimsInOrder(ctx, policy, from, from + length, ask.breaking === true)) {
    ignore.add(v.leaseId);
    const choice = chooseNodes(freeProfile(ctx.table, { ...shape, onlyFreeNow: false, ignore, ignoreFrom: from }), nodeAsk);
    if (choice) return { choice, victims: victimsOn(ctx, choice.nodes, from, from + length, ignore) };
  }
  return null;
}

/** chooseWithVictims for a cluster: every role placed by the cluster's node choice, over free room or room its victims give up. */
function clusterWithVictims(ctx: PlanContext, ask: WindowAsk, policy: PreemptionPolicy | null): { choice: NodeChoice & { roleNodes: number[][] }; victims: string[] } | null {
  const { req, from, length, eligible } = ask;
  const roles = req.roles!;
  const as = (c: ClusterChoice) => ({ nodes: c.members, end: c.end, roleNodes: c.roleNodes });
  const self = ctx.ignoring ? { ignore: ctx.ignoring, ignoreFrom: from } : {};
  const free = chooseCluster(ctx.table, roles, { t: from, fullLength: length, minLength: null, eligible, ...self });
  if (free) return { choice: as(free), victims: [] };
  if (policy === null) return null;
  const ignore = new Set<string>(ctx.ignoring);
  for (const v of orderVictims(policy, victimCandidates(ctx, from, from + length))) {
    ignore.add(v.leaseId);
    const choice = chooseCluster(ctx.table, roles, { t: from, fullLength: length, minLength: null, eligible, ignore, ignoreFrom: from });
    if (choice) return { choice: as(choice), victims: victimsOn(ctx, distinctNodes(choice.members), from, from + length, ignore) };
  }
  return null;
}

/**
 * The first n nodes, in index order, free for the whole window: what chooseNodes would pick from
 * the full profile when enough nodes hold the whole window, found without building the profile.
 */
function firstWholeNodes(ctx: PlanContext, ask: WindowAsk): NodeChoice | null {
  const { req, from, length, eligible } = ask;
  const end = from + length;
  const nodes: number[] = [];
  const fits = (i: number): boolean => (!eligible || eligible(i)) && ctx.table.freeUntil(i, from, req.perNode.cpu, req.perNode.memoryMiB, end, ctx.ignoring, from, bandwidthOf(req.perNode)) >= end;
  // A lease being changed keeps the nodes it has where it can: its image is there, and its owner knows them.
  const kept = ctx.keepNodes ? new Set(ctx.keepNodes.filter(fits).slice(0, req.nodes)) : null;
  if (kept) nodes.push(...kept);
  for (let i = 0; i < ctx.table.size && nodes.length < req.nodes; i++) if (!kept?.has(i) && fits(i)) nodes.push(i);
  if (kept) nodes.sort((a, b) => a - b);
  return nodes.length === req.nodes ? { nodes, end } : null;
}

const describe = (ctx: PlanContext, victims: readonly string[], at: number): Preemption[] =>
  victims.map((id) => ({ leaseId: id, how: preemptionKind(ctx, ctx.leaseById(id), at) }));

/**
 * An exact lease: every node free, or freed by preemption (unless `policy` is null), over
 * [start - boot, start + duration + shutdown).
 */
export function planExact(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy | null): Planned<ReservationPlan> {
  const tooBig = exceedsPool(ctx, req);
  if (tooBig) return refuse('exceeds-pool', tooBig);
  const { bootSeconds, shutdownSeconds } = ctx.config;
  const start = req.requestedStart ?? ctx.now;
  const from = start - bootSeconds;
  if (from < ctx.now) return refuse('too-late', `must start at ${start} but its ${bootSeconds} s boot cannot begin before now (${ctx.now})`);
  const length = bootSeconds + workOf(req) + shutdownSeconds;
  const transfer = ctx.costs.needsTransfer(req) ? ctx.link.latestSlot(ctx.now, from, ctx.costs.transferSeconds(req)) : null;
  const eligible = (i: number): boolean => ctx.imageReadyBy(req, i, from) || transfer !== null;
  // Victims are told when the reservation is made: it may preempt only if it begins after their notice.
  const notice = ctx.config.preemptionNoticeSeconds;
  const mayPreempt = from >= ctx.now + notice ? policy : null;
  const found = chooseWithVictims(ctx, { req, from, length, eligible }, mayPreempt);
  if (!found) {
    const late = policy && !mayPreempt ? `; it begins too soon to preempt (victims get ${notice} s notice)` : '';
    return refuse('insufficient-capacity', `${req.nodes} nodes are not free${mayPreempt ? ' and cannot be freed' : ''} for [${start}, ${start + req.duration})${late}`);
  }
  const { choice, victims } = found;
  const needsTransfer = transfer !== null && choice.nodes.some((i) => !ctx.imageReadyBy(req, i, from));
  return { ok: true, plan: { from, start, end: from + length, nodes: choice.nodes, preempted: describe(ctx, victims, from), transferStart: needsTransfer ? transfer : null, roleNodes: choice.roleNodes } };
}

/**
 * An urgent lease: as soon as possible from now, preempting what it must. A victim that is running
 * is suspended first, so the lease starts once the slowest suspension is done (at once when
 * victims are requeued or had not started).
 */
export function planUrgent(ctx: PlanContext, req: LeaseRequest, policy: PreemptionPolicy): Planned<ReservationPlan> {
  const tooBig = exceedsPool(ctx, req);
  if (tooBig) return refuse('exceeds-pool', tooBig);
  const { bootSeconds, shutdownSeconds } = ctx.config;
  const length = bootSeconds + workOf(req) + shutdownSeconds;
  const transfer = ctx.costs.needsTransfer(req) ? ctx.costs.transferSeconds(req) : 0;
  const imageAt = transfer > 0 ? ctx.link.earliestSlot(ctx.now, transfer) + transfer : ctx.now;
  let from = ctx.now;
  const noticeEnds = ctx.now + ctx.config.preemptionNoticeSeconds;
  // Each round's suspensions (and the victims' notice) can only push the start later; a few rounds settle it.
  for (let round = 0; round < 5; round++) {
    const found = chooseWithVictims(ctx, { req, from, length, breaking: ctx.config.urgentBreaksReservations }, policy);
    if (!found) break;
    if (found.victims.length > 0 && from < noticeEnds) {
      from = noticeEnds;
      continue;
    }
    const lacksImage = found.choice.nodes.some((i) => !ctx.imageReadyBy(req, i, from));
    let at = lacksImage ? Math.max(from, imageAt) : from;
    for (const id of found.victims) {
      const victim = ctx.leaseById(id);
      const s = ctx.costs.suspendSeconds(victim.req);
      if (remainingWork(victim) > 0 && preemptionKind(ctx, victim, ctx.now + s) === 'suspend') at = Math.max(at, ctx.now + s);
    }
    if (at === from) {
      const transferStart = lacksImage ? imageAt - transfer : null;
      return { ok: true, plan: { from, start: from + bootSeconds, end: from + length, nodes: found.choice.nodes, preempted: describe(ctx, found.victims, from), transferStart, roleNodes: found.choice.roleNodes } };
    }
    from = at;
  }
  return refuse('insufficient-capacity', `${req.nodes} nodes cannot be freed now, even by preempting every preemptible lease`);
}

