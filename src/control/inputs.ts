// What the scheduler is told, in order. Each input is written to the store before the scheduler
// hears it, so that replaying the log rebuilds the scheduler exactly (the core is deterministic).

import type { CostFigures } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import type { Drained } from '../core/pool-membership.ts';
import type { NodeDeparture } from '../core/node-departure.ts';
import type { Backends } from '../core/backends.ts';
import type { ChangePlan, Decision, LeaseChange, Plan, StepResult } from '../core/scheduler.ts';
import type { LeaseRequest, NodeSpec, Refusal } from '../core/types.ts';
import { configOfTerms, type Terms } from '../core/terms.ts';
import { seriesOf } from '../core/periodic.ts';

export type Input =
  /** The scheduler was brought to this instant with nothing else to do (a quote was asked). */
  | { type: 'tick' }
  | { type: 'submit'; owner: string; group: string | null; request: LeaseRequest; idempotencyKey?: string }
  | { type: 'hold'; owner: string; group: string | null; request: LeaseRequest; ttl: number }
  | { type: 'commit'; id: string }
  | { type: 'cancel'; id: string; by: string }
  /** The owner suspends a running best-effort lease, or lets it resume. */
  | { type: 'suspend'; id: string }
  | { type: 'resume'; id: string }
  /** A lease's VMs ended by themselves: its work is done. */
  | { type: 'finish'; id: string }
  /** A lease's VMs failed or vanished: it is stopped and marked failed. */
  | { type: 'fail'; id: string; detail: string }
  /** `backend`: the back-end it joins; absent, the site's own pool. */
  | { type: 'node-add'; node: NodeSpec; backend?: string }
  /** `evacuate`: the reservations planned there that have not begun move elsewhere, or renegotiate. */
  | { type: 'node-drain'; id: string; evacuate?: true }
  /** The node's agent stayed away: its VMs are written off and its leases dealt with by policy (core/node-loss.ts). */
  | { type: 'node-unavailable'; id: string }
  /** Its agent said hello again: the node takes new work (unless drained). */
  | { type: 'node-available'; id: string }
  /** The node leaves the pool at `at` (a pilot's job ends, or is preempted); null: it stays after all (core/node-departure.ts). */
  | { type: 'node-departs'; id: string; at: number | null; promptly?: true }
  /**
   * Cost-model figures from what the agents measured, as the scheduler is to plan with them
   * (already made conservative: see drivers/qemu/measured-costs.ts). Missing ones are unchanged.
   */
  | ({ type: 'costs' } & CostFigures)
  /** The owner renegotiates a live lease (core/lease-change.ts): what it changes, as asked. */
  | { type: 'change'; id: string; change: LeaseChange }
  /** An administrator moves a running lease to other nodes while it runs. */
  | { type: 'migrate'; id: string; to: string[] }
  /** The site's terms changed (site-terms.ts): whole, as read, so that a replay needs no reading of its own. */
  | { type: 'terms'; terms: Terms; by: string };

/** Who a lease belongs to, for the leases the inputs created. */
export interface Ownership {
  owner: string;
  group: string | null;
}

/** Who owns a lease: an occurrence of a periodic lease is its series' owner's (the inputs name the series). */
export function ownershipOf(owners: ReadonlyMap<string, Ownership>, id: string): Ownership | undefined {
  const series = seriesOf(id);
  return owners.get(id) ?? (series === null ? undefined : owners.get(series));
}

/** The pool's node ids in the scheduler's index order. */
export class NodeIndex {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

  add(id: string): number {
    // The service refuses a second node of a name before logging it: here it is a bug, or a log written by another.
    if (this.index.has(id)) throw new Error(`internal: node '${id}' was added twice to the input log`);
    this.index.set(id, this.ids.length);
    this.ids.push(id);
    return this.ids.length - 1;
  }

  of(id: string): number | undefined {
    return this.index.get(id);
  }
}

export interface Applied {
  decision?: Decision;
  /** Leases the input touched directly (others follow from the step). */
  leases: string[];
  drained?: Drained;
  loss?: NodeLoss;
  departure?: NodeDeparture;
  /** The scheduler's pass at `now` after the input: what freed up or arrived is acted on at once. */
  step: StepResult;
}

/**
 * Applies one input at `now`, then advances the scheduler at `now` so that what it changed is
 * acted on at once (a queue pass, a decision). The scheduler must already be at `now`. Live
 * running and replays both go through here, which keeps them the same.
 */
export function applyInput(scheduler: Backends, nodes: NodeIndex, owners: Map<string, Ownership>, input: Input, now: number, plan?: Plan | ChangePlan): Applied {
  const direct = applyOne(scheduler, nodes, owners, input, now, plan);
  const step = scheduler.advance(now);
  const decision = direct.decision ?? (input.type === 'submit' ? step.decisions.find((d) => d.leaseId === input.request.id) : undefined);
  return { ...direct, decision, step };
}

/**
 * `plan`: for a submit or hold, the plan the service quoted for this very request, applied if
 * nothing changed since (a replay has none, and plans again: the same plan, the core being deterministic).
 */
function applyOne(scheduler: Backends, nodes: NodeIndex, owners: Map<string, Ownership>, input: Input, now: number, given: Plan | ChangePlan | undefined): Omit<Applied, 'step'> {
  const plan = given !== undefined && 'request' in given && !('change' in given) ? given : undefined;
  switch (input.type) {
    case 'tick':
      return { leases: [] };
    case 'submit':
      owners.set(input.request.id, { owner: input.owner, group: input.group });
      done(scheduler.submit(input.request, now, plan));
      return { leases: [input.request.id] };
    case 'hold':
      owners.set(input.request.id, { owner: input.owner, group: input.group });
      return { decision: decided(scheduler.hold(input.request, now, input.ttl, plan)), leases: [input.request.id] };
    case 'commit':
      return { decision: decided(scheduler.commit(input.id, now)), leases: [input.id] };
    case 'cancel':
    case 'fail': {
      // A lease that has already ended stays as it was; one the scheduler never heard of is a bug.
      const cancelled = scheduler.cancel(input.id, now);
      if (!cancelled.ok && cancelled.code === 'not-found') done(cancelled);
      return { leases: [input.id] };
    }
    case 'finish':
      done(scheduler.finishEarly(input.id, now));
      return { leases: [input.id] };
    case 'suspend':
      done(scheduler.suspendByOwner(input.id, now));
      return { leases: [input.id] };
    case 'resume':
      done(scheduler.resumeByOwner(input.id, now));
      return { leases: [input.id] };
    case 'node-add':
      scheduler.addNode(input.node, now, input.backend);
      nodes.add(input.node.id);
      return { leases: [] };
    case 'change': {
      const quoted = given !== undefined && 'change' in given ? given : undefined;
      const { plan: p } = done(scheduler.change(input.id, input.change, now, quoted));
      const preempted = p.how.kind === 'replan' ? p.how.reservation.preemptions : p.how.kind === 'in-place' ? p.how.preemptions : [];
      const decision: Decision = { ok: true, leaseId: input.id, state: p.how.kind === 'requeue' ? 'queued' : 'scheduled', ...(p.start !== null ? { start: p.start } : {}), ...(p.end !== null ? { end: p.end } : {}), nodes: [...p.nodes], preempted };
      return { decision, leases: [input.id] };
    }
    case 'migrate':
      done(scheduler.migrateLive(input.id, input.to.map((id) => nodes.of(id) ?? -1), now));
      return { leases: [input.id] };
    case 'node-drain': {
      const { ok: _, ...drained } = done(scheduler.closeNode(mustFind(nodes, input.id), now, input.evacuate === true));
      return { leases: [...drained.requeued, ...drained.stillPlanned, ...drained.moved, ...drained.renegotiating], drained };
    }
    case 'node-unavailable': {
      const { ok: _, ...loss } = done(scheduler.loseNode(mustFind(nodes, input.id), now));
      return { leases: [...loss.restarted, ...loss.requeued, ...loss.failed, ...loss.finished, ...loss.waiting, ...loss.renegotiating], loss };
    }
    case 'node-available':
      scheduler.regainNode(mustFind(nodes, input.id), now);
      return { leases: [] };
    case 'node-departs': {
      const { ok: _, ...departure } = done(scheduler.departNode(mustFind(nodes, input.id), input.at ?? Infinity, now, input.promptly === true));
      return { leases: [...departure.suspended, ...departure.requeued, ...departure.restarted, ...departure.finished, ...departure.failed, ...departure.renegotiating], departure };
    }
    case 'costs': {
      const { type: _, ...figures } = input;
      done(scheduler.setCosts(figures, now));
      return { leases: [] };
    }
    case 'terms':
      done(scheduler.setPolicy(configOfTerms(input.terms), now));
      return { leases: [] };
  }
}

/** The service checks an input before it logs it: the scheduler refusing a logged input is a bug, as it was when it threw. */
function done<T extends { ok: boolean }>(r: T | Refusal): T {
  if (!r.ok && 'code' in r) throw new Error(`internal: the scheduler refused a logged input (${(r as Refusal).code}): ${(r as Refusal).message}`);
  return r as T;
}

function decided(r: Decision | Refusal): Decision {
  if (!r.ok && 'code' in r) throw new Error(`internal: the scheduler refused a logged input (${r.code}): ${r.message}`);
  return r as Decision;
}

function mustFind(nodes: NodeIndex, id: string): number {
  const n = nodes.of(id);
  // The service refuses inputs about nodes it does not have before logging them: here it is a bug.
  if (n === undefined) throw new Error(`internal: the input log names node '${id}', which it never added`);
  return n;
}
