import { type LeaseRecord, newLeaseRecord } from './lease-record.ts';
import type { LeaseRequest } from './types.ts';

/**
 * Every lease the scheduler was told of, in submission order, and the held ones by when their
 * holds run out.
 */
export class LeaseBook {
  private readonly byId = new Map<string, LeaseRecord>();
  private readonly order: LeaseRecord[] = [];
  private seq = 0;
  /** Held leases, by when their holds expire (ties: the order they were held). */
  private readonly holds = new ByDeadline('heldUntil');
  /** Leases renegotiating after a broken promise, by when they stop waiting for their owners. */
  private readonly renegotiating = new ByDeadline('renegotiateUntil');

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): LeaseRecord | undefined {
    return this.byId.get(id);
  }

  /** A lease the scheduler itself refers to: not finding it is a bug. */
  mustGet(id: string): LeaseRecord {
    const l = this.byId.get(id);
    if (!l) throw new Error(`internal: unknown lease ${id}`);
    return l;
  }

  all(): readonly LeaseRecord[] {
    return this.order;
  }

  /** Records a new lease, numbered in submission order. */
  add(req: LeaseRequest, work: number): LeaseRecord {
    const lease = newLeaseRecord(req, this.seq++, work);
    this.byId.set(req.id, lease);
    this.order.push(lease);
    return lease;
  }

  /** A lease and, for a periodic one, its occurrences: the records that hold reservations. */
  partsOf(lease: LeaseRecord): LeaseRecord[] {
    return lease.occurrenceIds ? lease.occurrenceIds.map((id) => this.mustGet(id)) : [lease];
  }

  /** When the next hold or renegotiation runs out, Infinity if none. */
  get nextExpiry(): number {
    return Math.min(this.holds.first, this.renegotiating.first);
  }

  /** The lease waits for its owner to take an offer until `until`. */
  renegotiate(lease: LeaseRecord, until: number): void {
    this.renegotiating.add(lease, until);
  }

  /** The lease's renegotiation is over (an offer taken, the lease cancelled). */
  settle(lease: LeaseRecord): void {
    this.renegotiating.remove(lease);
    lease.offers = null;
  }

  /** Takes out the leases whose owners took no offer by `now`, in order. */
  takeLapsed(now: number): LeaseRecord[] {
    return this.renegotiating.takeDue(now);
  }

  hold(lease: LeaseRecord, until: number): void {
    this.holds.add(lease, until);
  }

  /** Ends a lease's hold (committed, cancelled). */
  unhold(lease: LeaseRecord): void {
    this.holds.remove(lease);
  }

  /** Takes out the leases whose holds have run out by `now`, in expiry order. */
  takeExpired(now: number): LeaseRecord[] {
    return this.holds.takeDue(now);
  }
}

/** Leases in order of a deadline field of theirs (ties: the order they were added); the field is null once a lease is out. */
class ByDeadline {
  private readonly leases: LeaseRecord[] = [];

  constructor(private readonly field: 'heldUntil' | 'renegotiateUntil') {}

  get first(): number {
    return this.leases[0]?.[this.field] ?? Infinity;
  }

  add(lease: LeaseRecord, until: number): void {
    lease[this.field] = until;
    let i = this.leases.length;
    while (i > 0 && this.leases[i - 1][this.field]! > until) i--;
    this.leases.splice(i, 0, lease);
  }

  remove(lease: LeaseRecord): void {
    const i = this.leases.indexOf(lease);
    if (i >= 0) this.leases.splice(i, 1);
    lease[this.field] = null;
  }

  takeDue(now: number): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    while (this.leases.length > 0 && this.leases[0][this.field]! <= now) {
      const lease = this.leases.shift()!;
      lease[this.field] = null;
      out.push(lease);
    }
    return out;
  }
}
