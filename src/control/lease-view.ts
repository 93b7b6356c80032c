// How a lease in the scheduler looks from outside: its status, what its VMs should be doing, and
// when it is planned to run (what it used is metered by core/metering.ts). Pure functions of the
// scheduler's record, so that a service rebuilt by replaying its inputs shows exactly what it showed before.

import { PHASE_OF_SEGMENT } from '../core/metering.ts';
import { memberNodes, membersNow } from '../core/cluster-chain.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { SegmentKind } from '../core/types.ts';
import type { LeaseStatus } from '../store/store.ts';

const STATUS_OF_SEGMENT: Record<SegmentKind, LeaseStatus> = PHASE_OF_SEGMENT;

export function activeSegment(lease: LeaseRecord): Segment | undefined {
  return lease.chain.find((s) => s.active);
}

export function statusOf(lease: LeaseRecord): LeaseStatus {
  switch (lease.state) {
    case 'queued':
      return 'pending';
    case 'held':
      return 'held';
    case 'suspended':
      return 'suspended';
    case 'completed':
      return 'done';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
      return 'cancelled';
    case 'expanded':
      return 'scheduled';
    case 'renegotiating':
      return 'renegotiating';
    case 'scheduled':
      // Placed again after running some of its work (a resumption, a deadline lease's next piece): its VMs wait suspended.
      return lease.done > 0 ? 'suspended' : 'scheduled';
    case 'active': {
      const seg = activeSegment(lease);
      return seg ? STATUS_OF_SEGMENT[seg.kind] : 'running';
    }
  }
}

/** What each VM of a lease should be doing now, and where. */
/** `moving`: the VM is on its way to `node` (a migration planned now): its saved state goes there, from a depot too. */
export type DesiredVm = { state: 'absent' } | { state: 'running' | 'suspended'; node: number; moving?: true };

export function desiredVms(lease: LeaseRecord): DesiredVm[] {
  const count = lease.req.nodes;
  const absent = (): DesiredVm[] => Array.from({ length: count }, () => ({ state: 'absent' }));
  const on = (state: 'running' | 'suspended', nodes: readonly number[]): DesiredVm[] => nodes.map((node) => ({ state, node }));
  const now = membersNow(lease);
  if (now) {
    if (now.kind === 'boot' || now.kind === 'run' || now.kind === 'resume') return on('running', now.nodes);
    if (now.kind === 'suspend') return on('suspended', now.nodes);
    if (now.kind === 'migrate') return now.nodes.map((node) => ({ state: 'suspended', node, moving: true }));
    return absent();
  }
  // In a depot (no home node: []) the state waits on no node: it is wanted where it was suspended, which leaves it where it is.
  const savedOn = lease.suspendedOn?.length ? lease.suspendedOn : lastSuspendNodes(lease);
  const hasSavedState = lease.parked || (lease.done > 0 && lease.done < lease.work);
  if ((lease.state === 'suspended' || lease.state === 'scheduled') && savedOn && hasSavedState) return on('suspended', savedOn);
  return absent();
}

function lastSuspendNodes(lease: LeaseRecord): readonly number[] | null {
  for (let i = lease.history.length - 1; i >= 0; i--) {
    const seg = lease.history[i];
    if (seg.kind === 'suspend') return vmNodes(phaseOf(lease.history, seg));
  }
  return null;
}

/**
 * The segments among `segments` (a chain or a history) of the same phase as `seg`: every role's,
 * for a cluster (the core keeps one segment per role per phase); itself only otherwise.
 */
export function phaseOf(segments: readonly Segment[], seg: Segment): Segment[] {
  return seg.role === undefined ? [seg] : segments.filter((s) => s.kind === seg.kind && s.start === seg.start && s.role !== undefined);
}

/** One node per VM, in workspace order, from the segments of one phase: a cluster's member by member (the core's memberNodes), so that VM k is member k. */
export function vmNodes(phase: readonly Segment[]): readonly number[] {
  return phase.length === 1 ? phase[0].nodes : memberNodes(phase);
}

/** Core-seconds and MiB-seconds held on nodes up to `now`, by the status each segment stands for. */
/** When the lease is planned to run (its first run segment) and to end (its last segment). */
export function plannedTimes(lease: LeaseRecord): { start: number | null; end: number | null } {
  const all = [...lease.history, ...lease.chain.filter((s) => !lease.history.includes(s))];
  const run = all.find((s) => s.kind === 'run');
  const last = all.reduce<number | null>((e, s) => (e === null || s.end > e ? s.end : e), null);
  return { start: run?.start ?? null, end: last };
}
