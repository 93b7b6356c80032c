import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';

/** What capacity was given back since the last look: up to when, and on which nodes (null: too many to list). */
export interface Freed {
  until: number;
  nodes: ArrayLike<number> | null;
}

/** The last node-by-node check that found the lease in place, kept so that the next one looks only at the nodes freed since. */
interface Confirmed {
  lease: LeaseRecord;
  start: number;
  /** How many nodes had room for good before the start (at most: nodes given work since are not looked at). */
  before: number;
  /** From when each node had room for good, as last looked at (before now, when it has room now). */
  room: Float64Array;
  /** The lease's nodes, by index: 1 where chosen. */
  chosen: Uint8Array;
  lastChosen: number;
}

/**
 * Tells whether EASY's one future reservation would be placed exactly where it is if it were
 * taken back and placed again now (QueuePlacement.staysPut says when that is asked).
 */
export class StaysPut {
  private confirmed: Confirmed | null = null;
  /** The buffers of the last Confirmed, reused by the next (there is one at a time), and which nodes the mark holds. */
  private room = new Float64Array(0);
  private chosenMark = new Uint8Array(0);
  private marked: readonly number[] = [];

  private reused(size: number): Float64Array {
    if (this.room.length !== size) {
      this.room = new Float64Array(size);
      this.chosenMark = new Uint8Array(size);
      this.marked = [];
    }
    return this.room;
  }

  constructor(private readonly ctx: PlanContext) {}

  /**
   * Told without a search, and only when each node, once it has room, keeps it (its free windows
   * are [a, Infinity)): placing again would then start the lease at the n-th smallest a, on the
   * first n nodes by index with a at or before that start, whole. When no other reservation is
   * still to begin, and capacity was given back since the lease was placed (or last found to stay
   * put) only before `freed.until` < its start, that cannot have changed: only a's already below
   * the start were lowered. Otherwise it is checked node by node, or, when the last check found it
   * in place and the nodes freed since are known, on those nodes only: work given to other nodes
   * since only raised their a's, which cannot move the lease. A lease that needs an image moved, or
   * has run before, is placed again.
   */
  check(lease: LeaseRecord, now: number, freed: Freed): boolean {
    const chain = lease.chain;
    // Never begun: a lease that has run was placed under other rules (its nodes, its resume), even with a chain that starts with a run.
    if (lease.state !== 'scheduled' || chain.length === 0 || lease.firstStart !== null) return false;
    if (lease.req.image !== undefined && this.ctx.config.images === 'transfer') return false;
    const start = chain[0].start;
    if (start <= now || !this.isWholeChain(lease)) return false;
    const alone = this.ctx.table.pendingReservations === chain.length;
    if (freed.until < start && alone) return true;
    const last = this.confirmed;
    this.confirmed = null;
    if (last !== null && last.lease === lease && last.start === start && freed.until !== Infinity && freed.nodes !== null) {
      if (!this.onlyFreedNodes(last, now, freed.nodes)) return false;
      this.confirmed = last;
      return true;
    }
    return this.everyNode(lease, now, start);
  }

  private everyNode(lease: LeaseRecord, now: number, start: number): boolean {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB } } = lease.req;
    const chosen = lease.chain[0].nodes;
    // The table's answers as they are, not max(now, a): both compare alike with a start after now.
    const room = this.reused(table.size);
    room.set(table.roomFrom(now, cpu, memoryMiB));
    let before = 0;
    let matched = 0;
    for (let n = 0; n < room.length; n++) {
      let a = room[n];
      // Only the lease's own nodes hold its reservations, to be left out.
      if (matched < k && chosen[matched] === n) {
        const own = table.roomForGoodFrom(n, now, cpu, memoryMiB, lease.req.id);
        if (own === null) return false;
        room[n] = a = own;
      } else if (a !== a) return false;
      if (a > start) continue;
      if (a < start && ++before >= k) return false;
      if (matched < k && chosen[matched++] !== n) return false;
    }
    if (matched !== k) return false;
    const mark = this.chosenMark;
    for (const n of this.marked) mark[n] = 0;
    for (const n of chosen) mark[n] = 1;
    this.marked = chosen;
    this.confirmed = { lease, start, before, room, chosen: mark, lastChosen: chosen[k - 1] };
    return true;
  }

  /** The check of everyNode on the nodes freed since it last passed (a node listed twice counts once: its delta is then 0). */
  private onlyFreedNodes(c: Confirmed, now: number, freed: ArrayLike<number>): boolean {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = c.lease.req;
    for (let f = 0; f < freed.length; f++) {
      const n = freed[f];
      const mine = c.chosen[n] === 1;
      const a = table.roomForGoodFrom(n, now, cpu, memoryMiB, mine ? id : undefined);
      if (a === null) return false;
      if (mine ? a > c.start : a <= c.start && n < c.lastChosen) return false;
      c.before += Number(a < c.start) - Number(c.room[n] < c.start);
      c.room[n] = a;
    }
    return c.before < k;
  }

  /** Whether a fresh lease's chain is what buildChain lays out when it fits whole: boot, all its work, shutdown. */
  private isWholeChain(lease: LeaseRecord): boolean {
    if (lease.chainEndsIn !== 'finish') return false;
    const { bootSeconds, shutdownSeconds } = this.ctx.config;
    const lengths: Array<[string, number]> = [['boot', bootSeconds], ['run', remainingWork(lease)], ['shutdown', shutdownSeconds]];
    let i = 0;
    let t = lease.chain[0].start;
    for (const [kind, seconds] of lengths) {
      if (seconds <= 0) continue;
      const seg = lease.chain[i++];
      if (!seg || seg.kind !== kind || seg.start !== t || seg.end !== t + seconds) return false;
      t += seconds;
    }
    return i === lease.chain.length;
  }
}
