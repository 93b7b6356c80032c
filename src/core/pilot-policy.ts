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
 * for (those a pilot's node could hold); supply is what pending pilots will bring and what idle
 * running pilots hold for longer than the grace time. Pilots are submitted, whole, for the
 * shortfall, within maxPilots. A running pilot idle for idleTimeoutSeconds is let go even if
 * leases wait: they could not use it (too short a time left, or too few nodes beside it), and a
 * new pilot (with a whole time limit) is asked for in its stead.
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
  const release: string[] = [];
  let supply = 0;
  for (const p of pilots) {
    if (p.state === 'pending') supply += p.nodes;
    else if (!p.signalled && p.idleSince !== null) {
      if (now - p.idleSince >= policy.idleTimeoutSeconds) release.push(p.id);
      else if (p.endsAt !== null && p.endsAt - now > policy.graceSeconds) supply += p.nodes;
    }
  }
  const room = policy.maxPilots - pilots.length + release.length;
  const wanted = Math.ceil(Math.max(0, demand - supply) / policy.nodesPerPilot);
  const count = Math.max(0, Math.min(wanted, room));
  const submit = Array.from({ length: count }, () => ({ nodes: policy.nodesPerPilot, timeLimitSeconds: policy.timeLimitSeconds }));
  return { submit, release, unfit };
}
