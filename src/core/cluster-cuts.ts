// Cutting a cluster lease's running phase short, all roles at once: a suspension (by preemption
// or its owner) or an early end stops every role's run at the same instant and places what
// follows (suspend or shutdown) once per role, so that a cluster is never partly running.

import { bandwidthOf } from './bandwidth.ts';
import { phaseOf } from './cluster-chain.ts';
import type { CoreState } from './core-state.ts';
import type { LeaseRecord } from './lease-record.ts';
import { cutChainAfter, place, truncate } from './reservation-ops.ts';
import type { Segment } from './segment.ts';
import type { ClusterRole, SegmentKind } from './types.ts';

/** Ends every role's run of `run`'s phase at `at` and drops what was planned after them; answers the phase's runs. */
export function cutClusterRuns(s: CoreState, lease: LeaseRecord, run: Segment, at: number): Segment[] {
  const runs = phaseOf(lease, run);
  cutChainAfter(s, lease, runs[runs.length - 1]);
  for (const r of runs) truncate(s, r, at);
  return runs;
}

/** One segment of `kind` over [start, end) per role, each on the nodes its role held in `like`. */
export function placePhase(s: CoreState, lease: LeaseRecord, kind: SegmentKind, start: number, end: number, like: readonly Segment[]): void {
  for (const r of like) lease.chain.push(place(s, lease, kind, start, end, r.nodes, r.role));
}

/** Whether every node of a phase can hold what all its roles put there, over [from, to). */
export function phaseFits(s: CoreState, roles: readonly ClusterRole[], like: readonly Segment[], from: number, to: number): boolean {
  const demand = new Map<number, { cpu: number; memoryMiB: number; bw: number }>();
  for (const r of like) {
    const shape = roles[r.role!].perNode;
    for (const n of r.nodes) {
      const d = demand.get(n) ?? { cpu: 0, memoryMiB: 0, bw: 0 };
      d.cpu += shape.cpu;
      d.memoryMiB += shape.memoryMiB;
      d.bw += bandwidthOf(shape);
      demand.set(n, d);
    }
  }
  for (const [n, d] of demand) if (s.table.freeUntil(n, from, d.cpu, d.memoryMiB, to, undefined, -Infinity, d.bw) < to) return false;
  return true;
}

/** The chain's segments of role 0: one per phase, which tell the phases' times. */
export function firstRoleChain(lease: LeaseRecord): Segment[] {
  return lease.chain.filter((x) => x.role === 0);
}
