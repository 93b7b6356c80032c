import type { ChangeAlternative } from './change-plan.ts';
import type { Segment } from './segment.ts';
import type { LeaseRequest, RejectReason } from './types.ts';

/** 'held': placed, and released unless committed by `heldUntil`; 'expanded': a periodic lease, whose occurrences are leases of their own. */
export type LeaseState = 'queued' | 'scheduled' | 'held' | 'active' | 'suspended' | 'completed' | 'rejected' | 'cancelled' | 'expanded' | 'renegotiating';

/** Segments of an attempt that was cancelled after it had begun: its work was lost. */
export interface LostAttempt {
  segments: Segment[];
  /** The request as it stood when the attempt ran, where its owner changed the lease since (lease-change.ts). */
  req?: LeaseRequest;
}

/** The scheduler's view of one lease over its whole life. */
export interface LeaseRecord {
  /** Replaced, never edited, when its owner changes the lease (lease-change.ts). */
  req: LeaseRequest;
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
  /** Why, in words (the decision's message), kept so that whoever shows the lease later can say it. */
  rejectMessage: string | null;
  /**
   * How long its workload really ran, once it ended before its planned work (finishEarly): what a
   * simulation reads from its trace as the request's realDuration, a live service learns then.
   */
  realDuration: number | null;
  /** Why the scheduler stopped the lease itself (a node it needed was lost); it is then 'cancelled'. */
  failure: { code: string; message: string } | null;
  heldUntil: number | null;
  /** A lease whose promise broke (renegotiation.ts): the changes offered to it, and until when it waits for its owner to take one. */
  offers: readonly ChangeAlternative[] | null;
  renegotiateUntil: number | null;
  /** For a periodic lease: the ids of its occurrences. */
  occurrenceIds: string[] | null;
  suspensions: number;
  migrations: number;
  preemptions: number;
  /** Nodes on which the lease holds a reference to its image in the node's cache. */
  imageRefs: readonly number[];
}

// Shared by every lease that has none, so that 232,562 leases of a whole log do not hold empty arrays each.
const NO_ATTEMPTS: readonly LostAttempt[] = Object.freeze([]);
const NO_NODES: readonly number[] = Object.freeze([]);

/** The fields most leases never move from these values, kept out of the record until one does. */
type Rare = Pick<LeaseRecord, 'lost' | 'suspendedOn' | 'parked' | 'lastPlannedStart' | 'rejectReason' | 'rejectMessage' | 'failure' | 'heldUntil' | 'offers' | 'renegotiateUntil' | 'occurrenceIds'
  | 'suspensions' | 'migrations' | 'preemptions' | 'imageRefs'>;

// A literal rather than a copy of the frozen defaults: every side object then has its fields in the object itself, with one shape.
function rareDefaults(): Rare {
  return {
    lost: NO_ATTEMPTS, suspendedOn: null, parked: false, lastPlannedStart: null, rejectReason: null, rejectMessage: null, failure: null,
    heldUntil: null, offers: null, renegotiateUntil: null, occurrenceIds: null, suspensions: 0, migrations: 0, preemptions: 0, imageRefs: NO_NODES,
  };
}

const RARE_DEFAULTS: Readonly<Rare> = Object.freeze(rareDefaults());

/**
 * A LeaseRecord whose rarely set fields live in a side object made on the first write of a value
 * other than the default: a whole SDSC log keeps 232,562 records to the end, each 88 bytes smaller
 * for it (one in nine ever needs the side object). An empty image reference list counts as the
 * default (the image cache writes one for every lease it releases).
 */
class CompactLeaseRecord implements LeaseRecord {
  queuedAt: number;
  state: LeaseState = 'queued';
  done = 0;
  chain: Segment[] = [];
  chainEndsIn: 'finish' | 'suspend' = 'finish';
  history: Segment[] = [];
  inFuture = false;
  firstStart: number | null = null;
  endedAt: number | null = null;
  /** Not a rare field: most leases of a trace end before their planned work (188,000 of the SDSC log's 232,562), and a side object each would cost 17 times its 8 bytes. */
  realDuration: number | null = null;
  private rare: Rare | null = null;

  constructor(public req: LeaseRequest, readonly seq: number, public work: number) {
    this.queuedAt = req.arrival;
  }

  private read<K extends keyof Rare>(key: K): Rare[K] {
    return this.rare === null ? RARE_DEFAULTS[key] : this.rare[key];
  }

  private write<K extends keyof Rare>(key: K, value: Rare[K]): void {
    if (this.rare === null) {
      if (value === RARE_DEFAULTS[key]) return;
      this.rare = rareDefaults();
    }
    this.rare[key] = value;
  }

  get lost(): readonly LostAttempt[] { return this.read('lost'); }
  set lost(v: readonly LostAttempt[]) { this.write('lost', v); }
  get suspendedOn(): readonly number[] | null { return this.read('suspendedOn'); }
  set suspendedOn(v: readonly number[] | null) { this.write('suspendedOn', v); }
  get parked(): boolean { return this.read('parked'); }
  set parked(v: boolean) { this.write('parked', v); }
  get lastPlannedStart(): number | null { return this.read('lastPlannedStart'); }
  set lastPlannedStart(v: number | null) { this.write('lastPlannedStart', v); }
  get rejectReason(): RejectReason | null { return this.read('rejectReason'); }
  set rejectReason(v: RejectReason | null) { this.write('rejectReason', v); }
  get rejectMessage(): string | null { return this.read('rejectMessage'); }
  set rejectMessage(v: string | null) { this.write('rejectMessage', v); }
  get failure(): { code: string; message: string } | null { return this.read('failure'); }
  set failure(v: { code: string; message: string } | null) { this.write('failure', v); }
  get heldUntil(): number | null { return this.read('heldUntil'); }
  set heldUntil(v: number | null) { this.write('heldUntil', v); }
  get offers(): readonly ChangeAlternative[] | null { return this.read('offers'); }
  set offers(v: readonly ChangeAlternative[] | null) { this.write('offers', v); }
  get renegotiateUntil(): number | null { return this.read('renegotiateUntil'); }
  set renegotiateUntil(v: number | null) { this.write('renegotiateUntil', v); }
  get occurrenceIds(): string[] | null { return this.read('occurrenceIds'); }
  set occurrenceIds(v: string[] | null) { this.write('occurrenceIds', v); }
  get suspensions(): number { return this.read('suspensions'); }
  set suspensions(v: number) { this.write('suspensions', v); }
  get migrations(): number { return this.read('migrations'); }
  set migrations(v: number) { this.write('migrations', v); }
  get preemptions(): number { return this.read('preemptions'); }
  set preemptions(v: number) { this.write('preemptions', v); }
  get imageRefs(): readonly number[] { return this.read('imageRefs'); }
  set imageRefs(v: readonly number[]) { this.write('imageRefs', v.length === 0 ? NO_NODES : v); }
}

export function newLeaseRecord(req: LeaseRequest, seq: number, work: number): LeaseRecord {
  return new CompactLeaseRecord(req, seq, work);
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
