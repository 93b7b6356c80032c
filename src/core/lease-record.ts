import type { Segment } from './segment.ts';
import type { LeaseRequest, RejectReason } from './types.ts';

/** 'held': placed, and released unless committed by `heldUntil`; 'expanded': a periodic lease, whose occurrences are leases of their own. */
export type LeaseState = 'queued' | 'scheduled' | 'held' | 'active' | 'suspended' | 'completed' | 'rejected' | 'cancelled' | 'expanded';

/** Segments of an attempt that was cancelled after it had begun: its work was lost. */
export interface LostAttempt {
  segments: Segment[];
}

/** The scheduler's view of one lease over its whole life. */
export interface LeaseRecord {
  readonly req: LeaseRequest;
  readonly seq: number;
  /** The time the lease is ordered by in the queue: its arrival, unless a suspension sent it to the back. */
  queuedAt: number;
  state: LeaseState;
  /** Run seconds the lease needs in all (stretched by the runtime overhead for best-effort leases). */
  work: number;
  /** Run seconds completed so far. */
  done: number;
  /** Planned and current segments, in time order; empty while queued. */
  chain: Segment[];
  /** What happens when the chain's last segment ends. */
  chainEndsIn: 'finish' | 'suspend';
  /** Every segment that has not been cancelled before it began, in time order. */
  history: Segment[];
  /** Replaced, never pushed to: a lease starts with the shared empty list (most never lose an attempt). */
  lost: readonly LostAttempt[];
  /** Nodes holding the lease's saved memory while it is suspended. */
  suspendedOn: readonly number[] | null;
  /** Suspended by its owner: it waits, not in the queue, until its owner resumes it. */
  parked: boolean;
  /** Placed in the future by backfilling (and so open to being placed again, earlier). */
  inFuture: boolean;
  /** Where a lease taken back from the future to be placed again had been planned to start. */
  lastPlannedStart: number | null;
  firstStart: number | null;
  endedAt: number | null;
  rejectReason: RejectReason | null;
  /** Why the scheduler stopped the lease itself (a node it needed was lost); it is then 'cancelled'. */
  failure: { code: string; message: string } | null;
  heldUntil: number | null;
  /** For a periodic lease: the ids of its occurrences. */
  occurrenceIds: string[] | null;
  suspensions: number;
  migrations: number;
  preemptions: number;
  /** Nodes on which the lease holds a reference to its image in the node's cache. */
  imageRefs: readonly number[];
}

// Shared by every new lease, so that 232,562 leases of a whole log do not hold two empty arrays each.
const NO_ATTEMPTS: readonly LostAttempt[] = Object.freeze([]);
const NO_NODES: readonly number[] = Object.freeze([]);

export function newLeaseRecord(req: LeaseRequest, seq: number, work: number): LeaseRecord {
  return {
    req, seq, queuedAt: req.arrival, state: 'queued', work, done: 0, chain: [], chainEndsIn: 'finish', history: [], lost: NO_ATTEMPTS,
    suspendedOn: null, parked: false, inFuture: false, lastPlannedStart: null, firstStart: null, endedAt: null, rejectReason: null, failure: null, heldUntil: null, occurrenceIds: null,
    suspensions: 0, migrations: 0, preemptions: 0, imageRefs: NO_NODES,
  };
}

/** Whether the lease has reached an outcome: nothing more will happen to it. */
export function hasEnded(lease: LeaseRecord): boolean {
  return lease.state === 'completed' || lease.state === 'rejected' || lease.state === 'cancelled';
}

export function remainingWork(lease: LeaseRecord): number {
  return lease.work - lease.done;
}

/** Queue order: when it was queued (its arrival, by default), then submission order. */
export function queueBefore(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.queuedAt < b.queuedAt || (a.queuedAt === b.queuedAt && a.seq < b.seq);
}
