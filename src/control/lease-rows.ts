// A lease's row, as the store keeps it and the API shows it, made from the scheduler's record and
// what the inputs said (who owns it, why it was stopped). One function for the live service and
// for a service rebuilt by replaying its log, so that both show the same rows.

import type { LeaseRecord } from '../core/lease-record.ts';
import type { LeaseRow, LeaseStatus } from '../store/store.ts';
import type { Ownership } from './inputs.ts';
import { phaseOf, plannedTimes, statusOf, vmNodes } from './lease-view.ts';
import { meteredUsage } from '../core/metering.ts';

/** Why a lease was stopped from outside the scheduler (a cancel, a VM that failed), from the inputs. */
export interface Ending {
  status: 'failed' | 'cancelled';
  code: string;
  message: string;
}

/** What a row is made from besides the lease's own record. */
export interface RowSources {
  lease(id: string): LeaseRecord | undefined;
  ownerOf(id: string): Ownership | undefined;
  endingOf(id: string): Ending | undefined;
  nodeId(index: number): string;
  /** The back-end the lease runs on (or is planned on). */
  backendOf(id: string): string;
  /** What the lease has been charged for this usage. */
  chargeOf(req: LeaseRecord['req'], usage: LeaseRow['usage']): NonNullable<LeaseRow['charge']>;
}

/** The lease's row at `now`; `before` is the row the store has, if any (its creation time is kept). */
export function leaseRow(lease: LeaseRecord, from: RowSources, before: LeaseRow | null, now: number): LeaseRow {
  const own = from.ownerOf(lease.req.id) ?? { owner: 'unknown', group: null };
  const planned = plannedTimes(lease);
  const ending = lease.state === 'cancelled' ? from.endingOf(lease.req.id) ?? (lease.failure ? { status: 'failed' as const, ...lease.failure } : undefined) : undefined;
  const status = ending?.status ?? (lease.occurrenceIds ? seriesStatus(from, lease.occurrenceIds) : statusOf(lease));
  const runs = lease.history.filter((s) => s.kind === 'run');
  const usage = meteredUsage(lease, now);
  return {
    id: lease.req.id,
    owner: own.owner,
    group: own.group,
    kind: lease.req.kind,
    request: lease.req,
    status,
    reason: ending ? { code: ending.code, message: ending.message } : lease.rejectReason ? { code: lease.rejectReason, message: lease.rejectMessage ?? lease.rejectReason }
      : lease.state === 'renegotiating' && lease.failure ? { ...lease.failure, offers: lease.offers ?? [], until: lease.renegotiateUntil ?? now } : null,
    plannedStart: planned.start,
    plannedEnd: planned.end,
    actualStart: lease.firstStart,
    actualEnd: lease.endedAt ?? (runs.length && lease.state === 'completed' ? runs[runs.length - 1].end : null),
    nodes: [...new Set(placedOn(lease))].map((n) => from.nodeId(n)),
    usage,
    createdAt: before?.createdAt ?? lease.req.arrival,
    updatedAt: now,
    backend: from.backendOf(lease.req.id),
    charge: from.chargeOf(lease.req, usage),
  };
}

/** Where the lease is planned, or last was: every VM's node (all roles' of a cluster). */
function placedOn(lease: LeaseRecord): readonly number[] {
  const [list, seg] = lease.chain[0] ? [lease.chain, lease.chain[0]] : [lease.history, lease.history[lease.history.length - 1]];
  return seg ? vmNodes(phaseOf(list, seg)) : [];
}

/** A periodic lease is done once every occurrence has ended, and running while one runs. */
function seriesStatus(from: RowSources, ids: readonly string[]): LeaseStatus {
  const statuses = ids.map((id) => statusOf(from.lease(id)!));
  if (statuses.every((st) => st === 'done' || st === 'rejected' || st === 'cancelled')) return statuses.some((st) => st === 'done') ? 'done' : 'cancelled';
  return statuses.find((st) => st !== 'scheduled' && st !== 'done' && st !== 'rejected' && st !== 'cancelled') ?? 'scheduled';
}

/**
 * Whether two rows say the same, but for their usage and charge (which grow with every second a
 * lease holds nodes, and which the API shows as of the moment it answers) and when they were written: a row
 * is written again, and its updatedAt moves, only when what it says changed. A restart, which
 * makes every row anew, then leaves them as they were.
 */
export function sameRow(a: LeaseRow, b: LeaseRow): boolean {
  const { usage: _ua, charge: _ca, updatedAt: _ta, ...restA } = a;
  const { usage: _ub, charge: _cb, updatedAt: _tb, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}
