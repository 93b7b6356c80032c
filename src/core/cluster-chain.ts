// Reading a cluster lease's chain: one segment per role for each phase, all of a phase with the
// same kind and times. What a plain lease keeps in one segment's nodes, a cluster keeps across
// the segments of a phase, listed member by member (roles.ts membersOf).

import type { LeaseRecord } from './lease-record.ts';
import type { Segment } from './segment.ts';

/** The segments of the lease's chain in the same phase as `seg` (itself only, for a plain lease), by role. */
export function phaseOf(lease: LeaseRecord, seg: Segment): Segment[] {
  if (seg.role === undefined) return [seg];
  return lease.chain.filter((x) => x.kind === seg.kind && x.start === seg.start);
}

/** The nodes of one phase's segments, member by member (role by role in the request's order). */
export function memberNodes(phase: readonly Segment[]): number[] {
  const byRole = [...phase].sort((a, b) => a.role! - b.role!);
  const out: number[] = [];
  for (const seg of byRole) out.push(...seg.nodes);
  return out;
}

/**
 * Where a cluster's memory lies once its latest phase that has ended by `by` is over (its
 * suspension, or a run cut short with nothing to save), member by member; null if some role has
 * no such segment.
 */
export function clusterMemoryNodes(lease: LeaseRecord, by: number): number[] | null {
  const roles = lease.req.roles!;
  const found: Array<Segment | undefined> = new Array(roles.length);
  for (const seg of lease.history) {
    if (seg.end > by || seg.end <= seg.start || seg.role === undefined) continue;
    const had = found[seg.role];
    if (had === undefined || seg.end >= had.end) found[seg.role] = seg;
  }
  for (let r = 0; r < roles.length; r++) if (found[r] === undefined) return null;
  return memberNodes(found as Segment[]);
}

/** The nodes of the first phase of the chain, member by member. */
export function firstPhaseNodes(lease: LeaseRecord): number[] | null {
  const first = lease.chain[0];
  return first === undefined ? null : memberNodes(phaseOf(lease, first));
}

/** The segments that hold a lease's VMs now: every role's active one (the one active segment of a plain lease). */
export function activePhase(lease: LeaseRecord): Segment[] {
  return lease.chain.filter((x) => x.active);
}

/** A cluster's member nodes, each once and ascending (a node may hold members of several roles). */
export function distinctNodes(nodes: readonly number[]): number[] {
  return [...new Set(nodes)].sort((a, b) => a - b);
}

/**
 * What a lease's VMs are doing now and where, one node per VM: a plain lease's active segment's
 * nodes; a cluster's active phase member by member (roles.ts membersOf), so that workspace k is
 * member k. Null when nothing of the lease is active.
 */
export function membersNow(lease: LeaseRecord): { kind: Segment['kind']; nodes: readonly number[] } | null {
  const active = activePhase(lease);
  if (active.length === 0) return null;
  return { kind: active[0].kind, nodes: active[0].role === undefined ? active[0].nodes : memberNodes(active) };
}
