// The broker's rules, pure: when a member may have its context, what it still waits for, when a
// step has taken too long, and what follows from a failure. Time comes in as `now`; nothing here
// reads a clock, the store or the network, so a test can drive every order of events.
//
// A member's context lists every member of the cluster (its /etc/hosts and known_hosts need them
// all), so a member waits for every role to be ready, not only the roles it names in requires:
// a role is ready when each of its members that has not failed has reported, and no more of them
// failed than its partial-failure rule allows.

import { IMPLICIT_ENTRIES, splitRequirement } from '../core/roles.ts';
import type {
  BrokerMember, BrokerRole, ClusterContext, ContextStatus, ContextView, MemberProgress, MemberStep, Provided,
} from './types.ts';

export interface RoleTally {
  count: number;
  /** Members needed for the role to be up. */
  min: number;
  /** Members that reported and have not failed. */
  reported: number;
  done: number;
  failed: number;
}

export const minOf = (role: BrokerRole): number => role.minCount ?? role.count;

export function tallies(ctx: ClusterContext): Map<string, RoleTally> {
  const out = new Map<string, RoleTally>();
  for (const r of ctx.spec.roles) out.set(r.name, { count: r.count, min: minOf(r), reported: 0, done: 0, failed: 0 });
  for (const m of ctx.spec.members) counted(out.get(m.role)!, progressOf(ctx, m.id), 1);
  return out;
}

/** Adds (by 1) or takes away (by -1) what one member's progress counts for in its role's tally. */
export function counted(t: RoleTally, p: MemberProgress, by: 1 | -1): void {
  if (p.failedAt !== null) t.failed += by;
  else {
    if (p.reportedAt !== null) t.reported += by;
    if (p.doneAt !== null) t.done += by;
  }
}

export const progressOf = (ctx: ClusterContext, memberId: string): MemberProgress => {
  const p = ctx.progress.get(memberId);
  if (!p) throw new Error(`internal: member '${memberId}' of lease ${ctx.spec.leaseId} has no progress`);
  return p;
};

/** Failed: more members failed than the rule allows. Complete: every member settled and enough done. */
export function roleStatus(t: RoleTally): ContextStatus {
  if (t.failed > t.count - t.min) return 'failed';
  return t.done + t.failed === t.count && t.done >= t.min ? 'complete' : 'pending';
}

/** Whether what the role's members provide can be handed out: all its live members reported. */
export const roleReady = (t: RoleTally): boolean => roleStatus(t) !== 'failed' && t.reported === t.count - t.failed;

export function stepOf(p: MemberProgress): MemberStep {
  if (p.failedAt !== null) return 'failed';
  if (p.doneAt !== null) return 'complete';
  if (p.deliveredAt !== null) return 'done';
  if (p.reportedAt !== null) return 'context';
  if (p.exchangedAt !== null) return 'report';
  return 'exchange';
}

/**
 * What a member waiting for its context still waits for, in role order: for each role not ready,
 * the requirements its own role names on it, or that role's `hostname` (every member's /etc/hosts
 * needs it) when it names none. Empty once it may have its context, or when it is not waiting.
 */
export function waitsFor(ctx: ClusterContext, member: BrokerMember, t: Map<string, RoleTally> = tallies(ctx)): string[] {
  const p = progressOf(ctx, member.id);
  if (stepOf(p) !== 'context') return [];
  const own = roleNamed(ctx, member.role);
  const out: string[] = [];
  for (const r of ctx.spec.roles) {
    if (roleReady(t.get(r.name)!)) continue;
    const named = own.requires.filter((q) => splitRequirement(q)?.role === r.name);
    out.push(...(named.length > 0 ? named : [`${r.name}.hostname`]));
  }
  return out;
}

/**
 * Whether the member may have its context now: once delivered, again (a lost answer is fetched
 * twice, a rebooted guest runs its agent again).
 */
export function deliverable(ctx: ClusterContext, member: BrokerMember, t: Map<string, RoleTally> = tallies(ctx)): boolean {
  const step = stepOf(progressOf(ctx, member.id));
  return step === 'done' || step === 'complete' || (step === 'context' && [...t.values()].every(roleReady));
}

export function roleNamed(ctx: ClusterContext, name: string): BrokerRole {
  const r = ctx.spec.roles.find((x) => x.name === name);
  if (!r) throw new Error(`internal: lease ${ctx.spec.leaseId} has no role '${name}'`);
  return r;
}

/** Why a report is refused (its entries are not exactly the role's), or null. */
export function reportProblem(role: BrokerRole, provided: Provided): string | null {
  const given = Object.keys(provided.entries);
  for (const e of given) {
    if (IMPLICIT_ENTRIES.includes(e)) return `entries.${e}: '${e}' is reported in its own field (ip, hostname, hostKey), not among entries`;
    if (!role.provides.includes(e)) {
      const declared = role.provides.length > 0 ? `it provides only ${role.provides.join(', ')}` : 'it provides no entries beyond ip, hostname and host-key';
      return `entries.${e}: role '${role.name}' does not declare '${e}' (${declared}): leave it out`;
    }
  }
  const missing = role.provides.filter((e) => !given.includes(e));
  if (missing.length > 0) return `entries: role '${role.name}' provides ${missing.map((e) => `'${e}'`).join(', ')}: report ${missing.length > 1 ? 'them' : 'it'} too`;
  return null;
}

/** When a member's current step times out, or null when it has none (done or failed). */
export function deadlineOf(ctx: ClusterContext, p: MemberProgress): number | null {
  const t = ctx.spec.timeouts;
  switch (stepOf(p)) {
    case 'exchange': return ctx.spec.registeredAt + t.exchange;
    case 'report': return p.exchangedAt! + t.report;
    case 'context': return p.reportedAt! + t.context;
    case 'done': return p.deliveredAt! + t.done;
    case 'complete': case 'failed': return null;
  }
}

export function nextDeadline(ctx: ClusterContext): number | null {
  let next: number | null = null;
  for (const m of ctx.spec.members) {
    const d = deadlineOf(ctx, progressOf(ctx, m.id));
    if (d !== null && (next === null || d < next)) next = d;
  }
  return next;
}

function timeoutReason(ctx: ClusterContext, m: BrokerMember, p: MemberProgress, t: Map<string, RoleTally>): string {
  const s = ctx.spec.timeouts;
  switch (stepOf(p)) {
    case 'exchange': return `${m.hostname} did not exchange its secret within ${s.exchange} s of its deployment (its VM did not boot, or its context agent did not start)`;
    case 'report': return `${m.hostname} did not report within ${s.report} s of exchanging its secret`;
    case 'context': return `${m.hostname} waited ${s.context} s for its context and still waits for ${waitsFor(ctx, m, t).join(', ') || 'nothing (it did not come to fetch it)'}`;
    case 'done': case 'complete': case 'failed': return `${m.hostname} did not report done within ${s.done} s of receiving its context`;
  }
}

/** How a failure that follows from another role's reads, to tell it from a member's own. */
const UNMET = 'which can no longer be met:';

export const failed = (p: MemberProgress, now: number, failure: string): MemberProgress => ({ ...p, failedAt: now, failure });

/**
 * The members whose progress changes at `now`: those whose step timed out fail, then, until
 * nothing more changes, members still waiting for their context fail when a role they wait for
 * has failed. Applying the result and calling again at the same `now` changes nothing.
 */
export function advance(ctx: ClusterContext, now: number): Map<string, MemberProgress> {
  const changed = new Map<string, MemberProgress>();
  const view: ClusterContext = { spec: ctx.spec, progress: overlay(ctx.progress, changed) };
  const before = tallies(view);
  for (const m of ctx.spec.members) {
    const p = progressOf(view, m.id);
    const d = deadlineOf(view, p);
    if (d !== null && d <= now) changed.set(m.id, failed(p, now, timeoutReason(view, m, p, before)));
  }
  for (let again = true; again;) {
    again = false;
    const t = tallies(view);
    const down = ctx.spec.roles.find((r) => roleStatus(t.get(r.name)!) === 'failed');
    if (!down) break;
    const cause = firstFailure(view, down.name);
    for (const m of ctx.spec.members) {
      const p = progressOf(view, m.id);
      if (p.failedAt !== null || p.deliveredAt !== null) continue;
      const wanted = roleNamed(view, m.role).requires.find((q) => splitRequirement(q)?.role === down.name) ?? `${down.name}.hostname`;
      changed.set(m.id, failed(p, now, `${m.hostname} waits for ${wanted}, ${UNMET} role '${down.name}' failed (${cause})`));
      again = true;
    }
  }
  return changed;
}

/** A map that reads through to `changes` first: the state as it would be with them applied. */
export function overlay(base: ReadonlyMap<string, MemberProgress>, changes: Map<string, MemberProgress>): ReadonlyMap<string, MemberProgress> {
  return { get: (id: string) => changes.get(id) ?? base.get(id) } as ReadonlyMap<string, MemberProgress>;
}

/** The earliest failure among a role's members, in member order on a tie. */
function firstFailure(ctx: ClusterContext, role: string | null): string {
  let first: MemberProgress | null = null;
  for (const m of ctx.spec.members) {
    if (role !== null && m.role !== role) continue;
    const p = progressOf(ctx, m.id);
    if (p.failedAt !== null && (first === null || p.failedAt < first.failedAt!)) first = p;
  }
  return first?.failure ?? 'no member failed';
}

/** The owner's view: the cluster's state, each role's progress, what each member waits for. */
export function viewOf(ctx: ClusterContext): ContextView {
  const t = tallies(ctx);
  const roles = ctx.spec.roles.map((r) => {
    const tally = t.get(r.name)!;
    return {
      name: r.name, count: r.count, minCount: tally.min, status: roleStatus(tally),
      reported: tally.reported, done: tally.done, failed: tally.failed,
      members: ctx.spec.members.filter((m) => m.role === r.name).map((m) => {
        const p = progressOf(ctx, m.id);
        return { id: m.id, index: m.index, hostname: m.hostname, step: stepOf(p), waitsFor: waitsFor(ctx, m, t), failure: p.failure };
      }),
    };
  });
  const down = roles.filter((r) => r.status === 'failed');
  const status: ContextStatus = down.length > 0 ? 'failed' : roles.every((r) => r.status === 'complete') ? 'complete' : 'pending';
  return { leaseId: ctx.spec.leaseId, status, reason: down.length > 0 ? clusterReason(ctx, down.map((r) => r.name)) : null, roles };
}

/**
 * The first failure that brought a failed role down, preferring a member's own failure over one
 * that followed from another role's (those name their cause themselves).
 */
function clusterReason(ctx: ClusterContext, downRoles: string[]): string {
  let first: { at: number; own: boolean; reason: string; role: string } | null = null;
  for (const m of ctx.spec.members) {
    if (!downRoles.includes(m.role)) continue;
    const p = progressOf(ctx, m.id);
    if (p.failedAt === null) continue;
    const own = !p.failure!.includes(UNMET);
    if (first === null || p.failedAt < first.at || (p.failedAt === first.at && own && !first.own)) first = { at: p.failedAt, own, reason: p.failure!, role: m.role };
  }
  return first ? `role '${first.role}' failed: ${first.reason}` : 'failed';
}
