// Plans a change to a live lease the way a new lease is planned (plan-then-apply): a lease not
// yet begun is planned again as its changed request, as if its own reservations were not there;
// a begun lease's last run is lengthened or shortened where it runs. Changes nothing.

import { bandwidthOf, nodesText } from './bandwidth.ts';
import type { CoreState } from './core-state.ts';
import { stretchedSeconds, unstretchedSeconds } from './costs.ts';
import type { AcceptedChange, ChangeAlternative, ChangeHow, ChangePlan, LeaseChange } from './change-plan.ts';
import { workOf } from './holds.ts';
import { hasEnded, type LeaseRecord } from './lease-record.ts';
import { exactOffer } from './negotiation.ts';
import { checkRoles, clusterEnvelope } from './roles.ts';
import { clusterAdmission } from './cluster-choice.ts';
import { seriesOf } from './periodic.ts';
import type { PlanContext } from './plan-context.ts';
import type { Preemption } from './plan.ts';
import { preemptionKind, victimCandidates } from './preemption.ts';
import { orderVictims } from './preemption-policy.ts';
import { deadlineReservation, type Policies, reservationOf } from './request-planner.ts';
import { planDeadline } from './deadline-planner.ts';
import { planExact } from './reservation-planner.ts';
import type { Segment } from './segment.ts';
import type { TransferLink } from './transfer-link.ts';
import type { LeaseRequest, RefusalCode } from './types.ts';

/**
 * Planners' view of the state with one lease's own reservations treated as absent: they are
 * ignored in the slot table, its transfers not yet begun are off the image link, and an image
 * only its own transfer brings to a node is not counted as coming.
 */
class WithoutLease implements PlanContext {
  readonly ignoring: ReadonlySet<string>;
  readonly keepNodes: readonly number[];
  private ownLink: TransferLink | null = null;

  constructor(private readonly s: CoreState, private readonly lease: LeaseRecord) {
    this.ignoring = new Set([lease.req.id]);
    this.keepNodes = lease.chain.find((seg) => seg.kind === 'run')?.nodes ?? [];
  }

  get table() { return this.s.table; }
  get config() { return this.s.config; }
  get costs() { return this.s.costs; }
  get now() { return this.s.now; }
  get version() { return this.s.version; }
  /** The deadline planner plans around tentative leases and the ignored lease alike. */
  get tentative() { return new Set([...this.s.tentative, this.lease.req.id]); }
  leaseById(id: string) { return this.s.leaseById(id); }
  nodesThatFit(cpu: number, memoryMiB: number, bw = 0) { return this.s.nodesThatFit(cpu, memoryMiB, bw); }

  get link(): TransferLink {
    if (!this.sendsImage) return this.s.link;
    if (this.ownLink === null) {
      this.ownLink = this.s.link.clone();
      this.ownLink.cancel(this.lease.req.id, this.s.now);
    }
    return this.ownLink;
  }

  imageReadyBy(req: LeaseRequest, node: number, t: number): boolean {
    const img = this.lease.req.image;
    if (this.sendsImage && img && this.lease.imageRefs.includes(node) && this.s.images.holdersOf(img.id, node) === 1) return false;
    return this.s.imageReadyBy(req, node, t);
  }

  private get sendsImage(): boolean {
    return this.s.link.scheduled.some((x) => x.leaseId === this.lease.req.id);
  }
}

/** What is wrong with the change itself, whatever the lease: null if nothing. */
export function changeProblem(change: LeaseChange): string | null {
  const given = (['duration', 'start', 'nodes', 'cpu', 'memoryMiB', 'bandwidthMbps', 'roles', 'backend'] as const).filter((k) => change[k] !== undefined);
  if (given.length === 0) return 'a change names at least one of duration, start, nodes, cpu, memoryMiB, bandwidthMbps, roles, backend';
  if (change.backend !== undefined && !(typeof change.backend === 'string' && change.backend.length > 0)) return `backend must be the name of one of the site's back-ends, got ${JSON.stringify(change.backend)}`;
  for (const [name, count] of Object.entries(change.roles ?? {})) {
    if (!(Number.isSafeInteger(count) && count >= 1)) return `roles.${name} must be a whole number of members >= 1, got ${count}`;
  }
  for (const k of ['duration', 'nodes', 'memoryMiB'] as const) {
    const v = change[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) return `${k} must be a whole number >= 1, got ${v}`;
  }
  if (change.start !== undefined && !(Number.isSafeInteger(change.start) && change.start >= 0)) return `start must be a whole number of seconds >= 0, got ${change.start}`;
  if (change.cpu !== undefined && !(Number.isFinite(change.cpu) && change.cpu > 0)) return `cpu must be a number > 0, got ${change.cpu}`;
  if (change.bandwidthMbps !== undefined && !(Number.isFinite(change.bandwidthMbps) && change.bandwidthMbps > 0)) return `bandwidthMbps must be a number > 0, got ${change.bandwidthMbps}`;
  if (change.realDuration !== undefined && !(Number.isSafeInteger(change.realDuration) && change.realDuration >= 1)) return `realDuration must be a whole number >= 1, got ${change.realDuration}`;
  return null;
}

/** The lease's request as changed. */
export function changedRequest(req: LeaseRequest, change: LeaseChange): LeaseRequest {
  const duration = change.duration ?? req.duration;
  const out: LeaseRequest = {
    ...req, duration, nodes: change.nodes ?? req.nodes,
    perNode: { ...req.perNode, cpu: change.cpu ?? req.perNode.cpu, memoryMiB: change.memoryMiB ?? req.perNode.memoryMiB },
  };
  if (change.bandwidthMbps !== undefined) out.perNode.bandwidthMbps = change.bandwidthMbps;
  if (change.start !== undefined) out.requestedStart = change.start;
  if (change.backend !== undefined) out.backend = change.backend;
  if (req.roles && change.roles) {
    const roles = req.roles.map((r) => (change.roles![r.name] === undefined ? r : { ...r, count: change.roles![r.name] }));
    const { nodes, perNode } = clusterEnvelope(roles);
    Object.assign(out, { roles, nodes, perNode });
  }
  // Kept whole, not cut to the duration asked now: a later change may lengthen the lease again,
  // and what reads it takes the shorter of the two (realWorkOf, the export's checkers).
  const real = change.realDuration ?? req.realDuration;
  if (real !== undefined) out.realDuration = real;
  return out;
}

/** Whether the lease has run, or runs: a deadline lease waiting between its pieces has (its work done is kept), so it is not planned again from scratch. */
const begun = (s: CoreState, lease: LeaseRecord): boolean => lease.state === 'active' || lease.done > 0 || (lease.chain.length > 0 && lease.chain[0].start <= s.now);

const changesShape = (req: LeaseRequest, c: LeaseChange): boolean =>
  (c.roles !== undefined && Object.entries(c.roles).some(([name, count]) => req.roles?.find((r) => r.name === name)?.count !== count))
  || (c.nodes !== undefined && c.nodes !== req.nodes) || (c.cpu !== undefined && c.cpu !== req.perNode.cpu) || (c.memoryMiB !== undefined && c.memoryMiB !== req.perNode.memoryMiB)
  || (c.bandwidthMbps !== undefined && c.bandwidthMbps !== req.perNode.bandwidthMbps);


/**
 * The plan for changing lease `id` now. A refusal says why (its code: not-found, wrong-state,
 * unsupported, invalid, policy, exceeds-pool, insufficient-capacity) and offers the changes
 * nearest to it that would be accepted (up to `maxAlternatives`).
 */
export function planChange(s: CoreState, id: string, change: LeaseChange, policies: Policies, maxAlternatives = 3): ChangePlan {
  const head = { leaseId: id, change, at: s.now, version: s.version };
  const no = (code: RefusalCode, message: string, alternatives: ChangeAlternative[] = []): ChangePlan => ({ ...head, ok: false, code, message, alternatives });
  const problem = changeProblem(change);
  if (problem) return no('invalid', problem);
  const lease = s.book.get(id);
  if (!lease) return no('not-found', `no lease '${id}'`);
  // A site of several back-ends takes such a change before its back-end's scheduler (backend-moves.ts).
  if (change.backend !== undefined) return no('invalid', `lease '${id}' cannot move to back-end '${change.backend}': this scheduler is a single back-end`);
  const req = lease.req;
  if (hasEnded(lease)) return no('wrong-state', `lease '${id}' has ended (${lease.state}): there is nothing to change; request a new lease`);
  if (lease.state === 'expanded') return no('unsupported', `lease '${id}' is a periodic series: change one of its occurrences (${lease.occurrenceIds?.[0] ?? `${id}#0`}, ...)`);
  if (req.roles) {
    if (change.nodes !== undefined || change.cpu !== undefined || change.memoryMiB !== undefined || change.bandwidthMbps !== undefined) return no('invalid', `lease '${id}' is a cluster lease: change its members by role (roles: {"worker": 4}), not nodes, cpu, memory or bandwidth`);
    const unknown = Object.keys(change.roles ?? {}).find((name) => !req.roles!.some((r) => r.name === name));
    if (unknown !== undefined) return no('invalid', `lease '${id}' has no role '${unknown}': its roles are ${req.roles.map((r) => r.name).join(', ')}`);
    if (begun(s, lease)) return no('wrong-state', `lease '${id}' is a cluster that has begun: a cluster's members and times change only before it begins (cancel it and request it anew)`);
    const roles = changedRequest(req, change);
    const bad = checkRoles(roles.roles!);
    if (bad) return no('invalid', `lease '${id}': ${bad.message}`);
    // A queued cluster is planned only when it runs: one the pool can never hold is refused now, as a new one is.
    const never = clusterAdmission(roles, (cpu, mem, bw) => s.nodesThatFit(cpu, mem, bw), s.table);
    if (never) return no(never.reason, `lease '${id}' cannot be changed so: ${never.message}`);
  } else if (change.roles !== undefined) return no('invalid', `lease '${id}' has no roles: change its nodes instead`);
  if (change.start !== undefined && !hasFixedStart(req) && lease.state !== 'renegotiating') return no('unsupported', `lease '${id}' is ${req.kind}: only an exact lease (or one occurrence of a periodic one) has a start to move`);
  const next = changedRequest(req, change);
  const accept = (how: ChangeHow, start: number | null, end: number | null, nodes: readonly number[], note?: string): AcceptedChange =>
    ({ ...head, ok: true, request: next, how, start, end, nodes, ...(note ? { note } : {}) });
  // A cluster's roles may share nodes: the planner judges it role by role.
  const fit = s.nodesThatFit(next.perNode.cpu, next.perNode.memoryMiB, bandwidthOf(next.perNode));
  if (!next.roles && changesShape(req, change) && next.nodes > fit) {
    return no('exceeds-pool', `asks for ${nodesText(next.nodes, next.perNode)}; the pool has ${fit} such nodes`);
  }
  if (req.kind === 'best-effort') return planBestEffort(s, lease, change, next, maxAlternatives, accept, no);
  if (begun(s, lease)) {
    if (change.start !== undefined) return no('wrong-state', `lease '${id}' has begun: its start cannot move`);
    if (changesShape(req, change)) return no('wrong-state', `lease '${id}' has begun: a running lease keeps its nodes, CPUs and memory; change its duration, or cancel it and request the shape anew`);
    return planInPlace(s, lease, next, policies, maxAlternatives, accept, no);
  }
  return planAgain(s, lease, change, next, policies, maxAlternatives, accept, no);
}

/**
 * The plan for placing a reservation not yet begun again, as it is, elsewhere where it can: what a
 * node drained with evacuation asks of the leases planned on it (a change of nothing).
 */
export function planPlacedAgain(s: CoreState, lease: LeaseRecord, policies: Policies): ChangePlan {
  const head = { leaseId: lease.req.id, change: {}, at: s.now, version: s.version };
  const accept: Accept = (how, start, end, nodes) => ({ ...head, ok: true, request: lease.req, how, start, end, nodes });
  const no: Refuse = (code, message, alternatives = []) => ({ ...head, ok: false, code, message, alternatives });
  return planAgain(s, lease, {}, lease.req, policies, 0, accept, no);
}

/**
 * The plan for placing here a lease that renegotiates on another back-end of the site (`arriving`: a
 * record of it, renegotiating, in no book), as changed by `change` (its back-end aside): planned as
 * the lease's own back-end plans it again, here.
 */
export function planArrival(s: CoreState, arriving: LeaseRecord, change: LeaseChange, policies: Policies, maxAlternatives: number): ChangePlan {
  const head = { leaseId: arriving.req.id, change, at: s.now, version: s.version };
  const next = changedRequest(arriving.req, change);
  const accept: Accept = (how, start, end, nodes) => ({ ...head, ok: true, request: next, how, start, end, nodes });
  const no: Refuse = (code, message, alternatives = []) => ({ ...head, ok: false, code, message, alternatives });
  const fit = s.nodesThatFit(next.perNode.cpu, next.perNode.memoryMiB, bandwidthOf(next.perNode));
  if (next.nodes > fit) {
    return no('exceeds-pool', `lease '${head.leaseId}' asks for ${nodesText(next.nodes, next.perNode)}; back-end '${change.backend}' has ${fit} such nodes`);
  }
  return planAgain(s, arriving, change, next, policies, maxAlternatives, accept, no);
}

type Accept = (how: ChangeHow, start: number | null, end: number | null, nodes: readonly number[], note?: string) => AcceptedChange;
type Refuse = (code: RefusalCode, message: string, alternatives?: ChangeAlternative[]) => ChangePlan;

/** A best-effort lease: queued ones take the change in the queue; begun ones change their work. */
function planBestEffort(s: CoreState, lease: LeaseRecord, change: LeaseChange, next: LeaseRequest, maxAlternatives: number, accept: Accept, no: Refuse): ChangePlan {
  const id = lease.req.id;
  const work = workOf(s, next);
  const suspended = lease.state === 'suspended' || lease.done > 0;
  if (suspended && changesShape(lease.req, change)) return no('wrong-state', `lease '${id}' has run and is suspended: its memory was saved at its shape; change its duration only, or cancel it and request the shape anew`);
  if (work <= lease.done) return no('invalid', `lease '${id}' has already run ${lease.done} s: ask for a duration over ${unstretchedSeconds(lease.done, s.config.runtimeOverheadPercent)} s, or stop it`);
  if (!begun(s, lease)) {
    const length = s.costs.wholeChain(work - lease.done);
    const room = s.table.earliestWindow(next.nodes, next.perNode.cpu, next.perNode.memoryMiB, length, s.now, { bandwidthMbps: bandwidthOf(next.perNode) });
    const note = 'queued; the start is the earliest the pool has room, not a promise';
    return room === Infinity ? accept({ kind: 'requeue' }, null, null, [], note) : accept({ kind: 'requeue' }, room + s.config.bootSeconds, room + length, [], note);
  }
  if (changesShape(lease.req, change)) return no('wrong-state', `lease '${id}' has begun: a running lease keeps its nodes, CPUs and memory; change its duration, or cancel it and request the shape anew`);
  if (lease.chainEndsIn === 'suspend') {
    // Its runs planned before the suspension happen as planned: the work asked for must outlast them.
    const planned = lease.done + lease.chain.filter((seg) => seg.kind === 'run').reduce((sum, seg) => sum + seg.end - seg.start, 0);
    if (work <= planned) return no('wrong-state', `lease '${id}' is to run ${planned} s of its work before it is suspended as planned: ask for more than that, or shorten it once it resumes, or stop it`);
    return accept({ kind: 'work' }, null, null, lease.chain[0]?.nodes ?? [], 'it is to be suspended as planned; the work it has left is run when it resumes');
  }
  return planInPlace(s, lease, next, null, maxAlternatives, accept, no);
}

/**
 * A begun lease: its last run ends earlier or later where it runs, its shutdown after. Growing
 * needs the room on its nodes; a reservation may take it from preemptible best-effort leases
 * given their notice. Refused, the longest extension that fits is offered.
 */
function planInPlace(s: CoreState, lease: LeaseRecord, next: LeaseRequest, policies: Policies | null, maxAlternatives: number, accept: Accept, no: Refuse): ChangePlan {
  const id = lease.req.id;
  const last = lastRun(lease);
  if (!last || lease.chainEndsIn !== 'finish') return no('wrong-state', `lease '${id}' is ${doingNow(lease)}: its run cannot change now; try again once it runs`);
  const delta = workOf(s, next) - lease.work;
  const runEnd = last.end + delta;
  const shutdown = s.config.shutdownSeconds;
  const floor = last.active ? s.now : last.start;
  if (runEnd <= floor) {
    const ran = lease.done + (last.active ? s.now - last.start : 0);
    return no('invalid', `lease '${id}' has run ${ran} s of its ${lease.work} s: a shorter duration must leave it running past now (over ${lease.req.duration - (last.end - floor)} s); stop it to end it now`);
  }
  const { cpu, memoryMiB } = lease.req.perNode;
  const bw = bandwidthOf(lease.req.perNode);
  const ctx = new WithoutLease(s, lease);
  if (delta <= 0) {
    // A shutdown a reservation took the room of (the lease powered off for it) is not given back.
    const shutdownEnd = Math.min(...last.nodes.map((n) => s.table.freeUntil(n, runEnd, cpu, memoryMiB, runEnd + shutdown, ctx.ignoring, runEnd, bw)));
    return accept({ kind: 'in-place', runEnd, shutdownEnd, preemptions: [] }, runStart(lease), shutdownEnd, last.nodes);
  }
  const deadline = lease.req.deadline;
  if (lease.req.kind === 'deadline' && deadline !== undefined && runEnd + shutdown > deadline) {
    const most = deadline - shutdown - last.end;
    const alternatives: ChangeAlternative[] = most >= 1 && maxAlternatives > 0 ? [{ kind: 'longest-extension', change: { duration: lease.req.duration + most }, start: runStart(lease), end: deadline }] : [];
    const within = planInPlace(s, lease, { ...next, duration: lease.req.duration + most }, policies, 0, accept, no);
    return no('policy', `lease '${id}' must end by its deadline ${deadline}: ${delta} s more would end it at ${runEnd + shutdown}`, within.ok ? alternatives : []);
  }
  const to = runEnd + shutdown;
  const blocked = (ignore: ReadonlySet<string>) => last.nodes.filter((n) => s.table.freeUntil(n, last.end, cpu, memoryMiB, to, ignore, last.end, bw) < to);
  if (blocked(ctx.ignoring).length === 0) return accept({ kind: 'in-place', runEnd, shutdownEnd: to, preemptions: [] }, runStart(lease), to, last.nodes);
  const policy = policies && last.end >= s.now + s.config.preemptionNoticeSeconds ? policies.preemption : null;
  if (policy) {
    const ignore = new Set(ctx.ignoring);
    const onNodes = new Set(last.nodes.flatMap((n) => s.table.leasesOverlapping(n, last.end, to)));
    const victims: Preemption[] = [];
    for (const v of orderVictims(policy, victimCandidates(ctx, last.end, to).filter((c) => onNodes.has(c.leaseId)))) {
      ignore.add(v.leaseId);
      victims.push({ leaseId: v.leaseId, how: preemptionKind(ctx, s.book.mustGet(v.leaseId), last.end) });
      if (blocked(ignore).length === 0) return accept({ kind: 'in-place', runEnd, shutdownEnd: to, preemptions: victims }, runStart(lease), to, last.nodes);
    }
  }
  const roomEnd = Math.min(...last.nodes.map((n) => s.table.freeUntil(n, last.end, cpu, memoryMiB, Infinity, ctx.ignoring, last.end, bw)));
  const most = roomEnd - shutdown - last.end;
  const message = `lease '${id}' cannot run ${delta} s longer on its nodes: ${blocked(ctx.ignoring).length} of them are promised to other leases from ${roomEnd}`;
  if (most < 1 || maxAlternatives < 1) return no('insufficient-capacity', message);
  const duration = durationFor(s, lease, lease.work + most);
  if (duration <= lease.req.duration) return no('insufficient-capacity', message);
  return no('insufficient-capacity', message, [{ kind: 'longest-extension', change: { duration }, start: runStart(lease), end: last.end + (workOf(s, { ...lease.req, duration }) - lease.work) + shutdown }]);
}

/** The largest duration whose work fits in `work` run seconds. */
function durationFor(s: CoreState, lease: LeaseRecord, work: number): number {
  if (lease.req.kind !== 'best-effort') return work;
  let d = unstretchedSeconds(work, s.config.runtimeOverheadPercent);
  while (d > 1 && stretchedSeconds(d, s.config.runtimeOverheadPercent) > work) d--;
  return d;
}

/**
 * A reservation not yet begun: planned again, as an exact lease at its (new) start, as if its own
 * reservations were not there. Refused, the offers are the exact lease's: the earliest start
 * that works, fewer nodes, shorter.
 */
function planAgain(s: CoreState, lease: LeaseRecord, change: LeaseChange, next: LeaseRequest, policies: Policies, maxAlternatives: number, accept: Accept, no: Refuse): ChangePlan {
  const id = lease.req.id;
  if (s.link.scheduled.some((t) => t.leaseId === id && t.start < s.now)) return no('wrong-state', `lease '${id}' has its image on its way to its nodes: change it once the image is there`);
  const ctx = new WithoutLease(s, lease);
  if (next.kind === 'deadline' && change.start === undefined) {
    const planned = planDeadline(ctx, next);
    if (!planned.ok) return no(planned.reason, `lease '${id}' cannot be changed so: ${planned.message}`);
    const r = deadlineReservation(ctx, next, planned.plan);
    return accept({ kind: 'replan', reservation: r }, r.start, r.end, r.nodes);
  }
  // A lease renegotiating holds nothing: it starts where the change says, or where it asked to, or now.
  const start = lease.state === 'renegotiating'
    ? change.start ?? Math.max(next.requestedStart ?? 0, s.now + s.config.bootSeconds)
    : hasFixedStart(next) ? next.requestedStart! : runStart(lease);
  const asExact: LeaseRequest = { ...next, requestedStart: start };
  const policy = next.kind === 'immediate' ? null : next.kind === 'urgent' ? policies.urgent : policies.preemption;
  const planned = planExact(ctx, asExact, policy);
  if (planned.ok) {
    const r = reservationOf(ctx, next, planned.plan);
    return accept({ kind: 'replan', reservation: r }, r.start, r.end, r.nodes);
  }
  const offer = exactOffer(ctx, asExact, asExact, policy, planned.reason, maxAlternatives);
  const alternatives = offer.alternatives.map((a): ChangeAlternative => ({
    kind: a.kind === 'later-start' ? 'later-start' : a.kind === 'fewer-nodes' ? 'fewer-nodes' : 'shorter',
    change: a.kind === 'later-start' ? { ...change, start: a.request.requestedStart! } : a.kind === 'fewer-nodes' ? fewer(change, a.request) : { ...change, duration: a.request.duration },
    start: a.start, end: a.end,
  })).filter((a) => a.kind !== 'later-start' || hasFixedStart(next));
  return no(planned.reason, `lease '${id}' cannot be changed so: ${planned.message}`, alternatives);
}

/** The change that asks for an alternative's fewer members: by role for a cluster. */
function fewer(change: LeaseChange, offered: LeaseRequest): LeaseChange {
  return offered.roles ? { ...change, roles: Object.fromEntries(offered.roles.map((r) => [r.name, r.count])) } : { ...change, nodes: offered.nodes };
}

/** An exact lease, or an occurrence of a periodic one: a lease placed at the start its owner named. */
function hasFixedStart(req: LeaseRequest): boolean {
  return req.kind === 'exact' || (req.kind === 'periodic' && seriesOf(req.id) !== null);
}

function lastRun(lease: LeaseRecord): Segment | undefined {
  for (let i = lease.chain.length - 1; i >= 0; i--) {
    const seg = lease.chain[i];
    if (seg.kind === 'run') return lease.chain.slice(i + 1).every((x) => x.kind === 'shutdown') ? seg : undefined;
  }
  return undefined;
}

function runStart(lease: LeaseRecord): number {
  return lease.chain.find((seg) => seg.kind === 'run')?.start ?? lease.chain[0]?.start ?? lease.firstStart ?? 0;
}

function doingNow(lease: LeaseRecord): string {
  const seg = lease.chain.find((x) => x.active);
  return seg ? `in its ${seg.kind}` : lease.state;
}
