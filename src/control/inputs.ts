// What the scheduler is told, in order. Each input is written to the store before the scheduler
// hears it, so that replaying the log rebuilds the scheduler exactly (the core is deterministic).

import type { CostFigures } from '../core/cost-figures.ts';
import type { NodeLoss } from '../core/node-loss.ts';
import type { Decision, Scheduler, StepResult } from '../core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';

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
  | { type: 'node-add'; node: NodeSpec }
  | { type: 'node-drain'; id: string }
  /** The node's agent stayed away: its VMs are written off and its leases dealt with by policy (core/node-loss.ts). */
  | { type: 'node-unavailable'; id: string }
  /** Its agent said hello again: the node takes new work (unless drained). */
  | { type: 'node-available'; id: string }
  /**
   * Cost-model figures from what the agents measured, as the scheduler is to plan with them
   * (already made conservative: see drivers/qemu/measured-costs.ts). Missing ones are unchanged.
   */
  | ({ type: 'costs' } & CostFigures)
  /** An administrator moves a running lease to other nodes while it runs. */
  | { type: 'migrate'; id: string; to: string[] };

/** Who a lease belongs to, for the leases the inputs created. */
export interface Ownership {
  owner: string;
  group: string | null;
}

/** The pool's node ids in the scheduler's index order. */
export class NodeIndex {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

  add(id: string): number {
    if (this.index.has(id)) throw new RangeError(`node '${id}' is already in the pool`);
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
  drained?: { requeued: string[]; stillPlanned: string[] };
  loss?: NodeLoss;
  /** The scheduler's pass at `now` after the input: what freed up or arrived is acted on at once. */
  step: StepResult;
}

/**
 * Applies one input at `now`, then advances the scheduler at `now` so that what it changed is
 * acted on at once (a queue pass, a decision). The scheduler must already be at `now`. Live
 * running and replays both go through here, which keeps them the same.
 */
export function applyInput(scheduler: Scheduler, nodes: NodeIndex, owners: Map<string, Ownership>, input: Input, now: number): Applied {
  const direct = applyOne(scheduler, nodes, owners, input, now);
  const step = scheduler.advance(now);
  const decision = direct.decision ?? (input.type === 'submit' ? step.decisions.find((d) => d.leaseId === input.request.id) : undefined);
  return { ...direct, decision, step };
}

function applyOne(scheduler: Scheduler, nodes: NodeIndex, owners: Map<string, Ownership>, input: Input, now: number): Omit<Applied, 'step'> {
  switch (input.type) {
    case 'tick':
      return { leases: [] };
    case 'submit':
      owners.set(input.request.id, { owner: input.owner, group: input.group });
      scheduler.submit(input.request, now);
      return { leases: [input.request.id] };
    case 'hold':
      owners.set(input.request.id, { owner: input.owner, group: input.group });
      return { decision: scheduler.hold(input.request, now, input.ttl), leases: [input.request.id] };
    case 'commit':
      return { decision: scheduler.commit(input.id, now), leases: [input.id] };
    case 'cancel':
    case 'fail':
      scheduler.cancel(input.id, now);
      return { leases: [input.id] };
    case 'finish':
      scheduler.finishEarly(input.id, now);
      return { leases: [input.id] };
    case 'suspend':
      scheduler.suspendByOwner(input.id, now);
      return { leases: [input.id] };
    case 'resume':
      scheduler.resumeByOwner(input.id, now);
      return { leases: [input.id] };
    case 'node-add':
      scheduler.addNode(input.node, now);
      nodes.add(input.node.id);
      return { leases: [] };
    case 'migrate':
      scheduler.migrateLive(input.id, input.to.map((id) => nodes.of(id) ?? -1), now);
      return { leases: [input.id] };
    case 'node-drain': {
      const drained = scheduler.closeNode(mustFind(nodes, input.id), now);
      return { leases: [...drained.requeued, ...drained.stillPlanned], drained };
    }
    case 'node-unavailable': {
      const loss = scheduler.loseNode(mustFind(nodes, input.id), now);
      return { leases: [...loss.restarted, ...loss.requeued, ...loss.failed, ...loss.finished, ...loss.waiting], loss };
    }
    case 'node-available':
      scheduler.regainNode(mustFind(nodes, input.id), now);
      return { leases: [] };
    case 'costs': {
      const { type: _, ...figures } = input;
      scheduler.setCosts(figures, now);
      return { leases: [] };
    }
  }
}

function mustFind(nodes: NodeIndex, id: string): number {
  const n = nodes.of(id);
  if (n === undefined) throw new RangeError(`no node '${id}' in the pool`);
  return n;
}
