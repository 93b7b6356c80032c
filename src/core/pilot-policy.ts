// When vws asks a batch system for pilot jobs, and when it lets them go: a pure function of what
// waits and what pilots there are, shared by the simulator and the live pilot back-end.

import type { Resources } from './types.ts';

export interface PilotPolicy {
  /** Pilots pending and running at once, at most. */
  maxPilots: number;
  nodesPerPilot: number;
  /** The pilot job's time limit: its node leaves the pool then, at the latest. */
  timeLimitSeconds: number;
  /** A running pilot with nothing on its nodes for this long is let go. */
  idleTimeoutSeconds: number;
  /** Between the batch system's preemption signal and the node's loss. */
  graceSeconds: number;
}

/** A lease that waits for nodes: no node holds it or is planned to. */
export interface WaitingLease {
  nodes: number;
  perNode: Resources;
}

export interface PilotView {
  id: string;
  state: 'pending' | 'running';
  nodes: number;
  /** When a running pilot's job ends (its time limit, or its preemption's grace time). */
  endsAt: number | null;
  /** Since when a running pilot's nodes hold nothing; null while they hold a lease or it is pending. */
  idleSince: number | null;
  /** The batch system told it to go: it gives nothing more and is not let go (it is going). */
  signalled: boolean;
}

export interface PilotDecision {
  /** Pilots to submit: each of `nodes` nodes for `timeLimitSeconds`. */
  submit: Array<{ nodes: number; timeLimitSeconds: number }>;
  /** Running pilots to let go: idle for at least the idle timeout. */
  release: string[];
  /** Waiting leases no pilot could hold (more nodes than the policy's pilots have, or a VM larger than a pilot's node): they are not counted. */
  unfit: number;
}

/** Why this policy cannot be followed, or null. */
export function pilotPolicyProblem(p: PilotPolicy): string | null {
  const whole = (k: keyof PilotPolicy, min: number): string | null =>
    Number.isInteger(p[k]) && p[k] >= min ? null : `${k} must be a whole number >= ${min}, got ${p[k]}`;
  return whole('maxPilots', 1) ?? whole('nodesPerPilot', 1) ?? whole('timeLimitSeconds', 1) ?? whole('idleTimeoutSeconds', 0) ?? whole('graceSeconds', 0)
    ?? (p.graceSeconds < p.timeLimitSeconds ? null : `graceSeconds (${p.graceSeconds}) must be shorter than timeLimitSeconds (${p.timeLimitSeconds})`);
}

/**
 * Which pilots to submit and which to let go at `now`. Demand is the nodes the waiting leases ask
 * for (those a pilot's node could hold); pending pilots count against it, then idle running
 * pilots with more than the grace time left (those with the most time first). Pilots are
 * submitted, whole, for what is left, within maxPilots. A running pilot idle for
 * idleTimeoutSeconds is let go unless it is one of those counted: a lease that waits for more
 * nodes beside it keeps it (letting it go would only ask for another).
 */
export function pilotDecision(now: number, waiting: readonly WaitingLease[], pilots: readonly PilotView[], policy: PilotPolicy, pilotNode: Resources): PilotDecision {
  const ceiling = policy.maxPilots * policy.nodesPerPilot;
  let demand = 0;
  let unfit = 0;
  for (const l of waiting) {
    const fits = l.nodes <= ceiling && l.perNode.cpu <= pilotNode.cpu && l.perNode.memoryMiB <= pilotNode.memoryMiB && l.perNode.diskMiB <= pilotNode.diskMiB;
    if (fits) demand += l.nodes;
    else unfit++;
  }
  let need = demand;
  for (const p of pilots) if (p.state === 'pending') need -= p.nodes;
  const idle = pilots.filter((p) => p.state === 'running' && !p.signalled && p.idleSince !== null);
  const usable = idle.filter((p) => p.endsAt !== null && p.endsAt - now > policy.graceSeconds).sort((a, b) => b.endsAt! - a.endsAt! || (a.id < b.id ? -1 : 1));
  const kept = new Set<string>();
  for (const p of usable) {
    if (need <= 0) break;
    kept.add(p.id);
    need -= p.nodes;
  }
  const release = idle.filter((p) => !kept.has(p.id) && now - p.idleSince! >= policy.idleTimeoutSeconds).map((p) => p.id);
  const room = policy.maxPilots - pilots.length + release.length;
  const count = Math.max(0, Math.min(Math.ceil(Math.max(0, need) / policy.nodesPerPilot), room));
  const submit = Array.from({ length: count }, () => ({ nodes: policy.nodesPerPilot, timeLimitSeconds: policy.timeLimitSeconds }));
  return { submit, release, unfit };
}
