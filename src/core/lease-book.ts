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
  private readonly holds: LeaseRecord[] = [];
  /** Leases renegotiating after a broken promise, by when they stop waiting for their owners. */
  private readonly renegotiating: LeaseRecord[] = [];

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

  /** When the next hold runs out, Infinity if none. */
  get nextExpiry(): number {
    return Math.min(this.holds[0]?.heldUntil ?? Infinity, this.renegotiating[0]?.renegotiateUntil ?? Infinity);
  }

  /** The lease waits for its owner to take an offer until `until`. */
  renegotiate(lease: LeaseRecord, until: number): void {
    lease.renegotiateUntil = until;
    let i = this.renegotiating.length;
    while (i > 0 && this.renegotiating[i - 1].renegotiateUntil! > until) i--;
    this.renegotiating.splice(i, 0, lease);
  }

  /** The lease's renegotiation is over (an offer taken, the lease cancelled). */
  settle(lease: LeaseRecord): void {
    const i = this.renegotiating.indexOf(lease);
    if (i >= 0) this.renegotiating.splice(i, 1);
    lease.renegotiateUntil = null;
    lease.offers = null;
  }

  /** Takes out the leases whose owners took no offer by `now`, in order. */
  takeLapsed(now: number): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    while (this.renegotiating.length > 0 && this.renegotiating[0].renegotiateUntil! <= now) {
      const lease = this.renegotiating.shift()!;
      lease.renegotiateUntil = null;
      out.push(lease);
    }
    return out;
  }

  hold(lease: LeaseRecord, until: number): void {
    lease.heldUntil = until;
    let i = this.holds.length;
    while (i > 0 && this.holds[i - 1].heldUntil! > until) i--;
    this.holds.splice(i, 0, lease);
  }

  /** Ends a lease's hold (committed, cancelled). */
  unhold(lease: LeaseRecord): void {
    this.holds.splice(this.holds.indexOf(lease), 1);
    lease.heldUntil = null;
  }

  /** Takes out the leases whose holds have run out by `now`, in expiry order. */
  takeExpired(now: number): LeaseRecord[] {
    const expired: LeaseRecord[] = [];
    while (this.holds.length > 0 && this.holds[0].heldUntil! <= now) {
      const lease = this.holds.shift()!;
      lease.heldUntil = null;
      expired.push(lease);
    }
    return expired;
  }
}
