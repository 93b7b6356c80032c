import { BoundaryHeap } from '../core/boundary-heap.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';

/** Where the leases of the runs are: one pool's scheduler, or every back-end (Backends). */
export interface LeaseHolder {
  lease(id: string): LeaseRecord | undefined;
}

/** When running leases finish their real work before their planned run ends. */
export class EarlyEnds {
  private readonly heap = new BoundaryHeap<Segment>();

  /**
   * A run whose real work is done at `at`, asked at `now`; at its planned end too, since a
   * suspension may be planned there. A change of its real work may leave it done already: it
   * ends at `now`.
   */
  expect(run: Segment, at: number, now: number): void {
    const t = Math.max(at, now);
    if (t <= run.end) this.heap.push(t, 0, run);
  }

  /**
   * Each run among `runs` ends when its lease (found in `leases`) has done its real work, `workOf`:
   * runs that began, or that a change made at `changedAt` longer or shorter. Occurrences of a
   * periodic lease are leases the scheduler made: `workOf` reads their request from the lease.
   */
  expectRuns(runs: readonly Segment[], leases: LeaseHolder, workOf: (lease: LeaseRecord) => number, changedAt?: number): void {
    for (const seg of runs) {
      if (seg.kind !== 'run') continue;
      const lease = leases.lease(seg.leaseId)!;
      this.expect(seg, seg.start + workOf(lease) - lease.done, changedAt ?? seg.start);
    }
  }

  /** The next instant at which a still-running lease ends early, Infinity if none. */
  nextTime(): number {
    for (;;) {
      const t = this.heap.peekTime();
      if (t === Infinity) return t;
      if (this.isLive(this.heap.peek()!, t)) return t;
      this.heap.pop();
    }
  }

  /** Runs whose real work is done at exactly `now`. */
  takeAt(now: number): Segment[] {
    const out: Segment[] = [];
    for (let run = this.takeNext(now); run !== undefined; run = this.takeNext(now)) out.push(run);
    return out;
  }

  /**
   * The next run whose real work is done at exactly `now`, taken; undefined if none is left. The
   * simulator's loop asks it at every event (half a million on the whole SDSC log) rather than
   * takeAt, which makes an array each time: ending one run leaves the others as they were.
   */
  takeNext(now: number): Segment | undefined {
    return this.nextTime() === now ? this.heap.pop() : undefined;
  }

  private isLive(run: Segment, t: number): boolean {
    return run.active && !run.removed && t <= run.end;
  }
}

/**
 * Whether a run expected to have done its `work` (real seconds in all) at `now` must be ended by
 * hand: not if a change of the lease gave it more to do since the end was expected; not if it ends
 * as planned by itself, unless more was planned after it (a suspension, a later piece).
 */
export function mustEndEarly(lease: LeaseRecord, run: Segment, now: number, work: number): boolean {
  if (lease.done + now - run.start < work) return false;
  const after = lease.chain[lease.chain.indexOf(run) + 1];
  return now < run.end || lease.chainEndsIn === 'suspend' || (after !== undefined && after.kind !== 'shutdown');
}
