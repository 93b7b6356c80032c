import { bandwidthOf } from './bandwidth.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import { ascendingOnce } from './node-choice.ts';
import type { PlanContext } from './plan-context.ts';
import type { RoomIndex } from './room-index.ts';
import type { SegmentKind } from './types.ts';

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
  /** A node not chosen below this index that gets room by the start would be chosen instead. */
  lastChosen: number;
  /** For a lease that would move off the nodes holding its memory: those nodes (1), any of which would be taken first once it has room by the start. */
  home: Uint8Array | null;
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
  private homeMark = new Uint8Array(0);
  private homeMarked: readonly number[] = [];

  private reused(size: number): Float64Array {
    if (this.room.length !== size) {
      this.room = new Float64Array(size);
      this.chosenMark = new Uint8Array(size);
      this.marked = [];
      this.homeMark = new Uint8Array(size);
      this.homeMarked = [];
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
   * since only raised their a's, which cannot move the lease. A lease that has run (suspended, placed
   * to resume) is told the same way, with the nodes holding its memory taken first
   * (everyNodeResuming). A lease that needs an image moved is placed again.
   */
  check(lease: LeaseRecord, now: number, freed: Freed): boolean {
    const chain = lease.chain;
    if (lease.state !== 'scheduled' || chain.length === 0) return false;
    // Its answers are of CPU and memory's room (the table's RoomIndex): bandwidth's is not there.
    if (this.ctx.table.bandwidthBindsAnywhere(bandwidthOf(lease.req.perNode))) return false;
    if (lease.req.image !== undefined && this.ctx.config.images === 'transfer') return false;
    const start = chain[0].start;
    if (start <= now) return false;
    // A lease that has run is placed again as a suspended one, from the nodes that hold its memory.
    let home: readonly number[] | null = null;
    if (lease.firstStart !== null) {
      // From a depot the memory is fetched wherever the lease resumes: nothing to tell from the nodes; placed again.
      if (this.ctx.config.suspendedState === 'depot') return false;
      home = memoryNodes(lease, now);
      if (home === null) return false;
    }
    if (!this.isWholeChain(lease, home !== null)) return false;
    const alone = this.ctx.table.pendingReservations === chain.length;
    if (freed.until < start && alone) return true;
    const last = this.confirmed;
    this.confirmed = null;
    if (last !== null && last.lease === lease && last.start === start && freed.until !== Infinity && freed.nodes !== null) {
      const kept = this.onlyFreedNodes(last, now, freed.nodes);
      if (kept === false) return false;
      if (kept) {
        this.confirmed = last;
        return true;
      }
    }
    return home === null ? this.everyNode(lease, now, start) : this.everyNodeResuming(lease, now, start, home);
  }

  /**
   * Placed again, the lease would start at the k-th smallest a, on the first k nodes by index with
   * a at or before it: it stays where it is when each of its nodes, its own reservations left out,
   * has room by its start, no other node below its last one does, and fewer than k nodes have room
   * before the start. Asked of counts the table's RoomIndex keeps as answers change (watch), not node
   * by node: kept for one start and last node, they hold while the lease stays, and a check costs its
   * own nodes only (which the counts take with its reservations in, to be told apart).
   */
  private everyNode(lease: LeaseRecord, now: number, start: number): boolean {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = lease.req;
    const chosen = lease.chain[0].nodes;
    if (chosen.length < k) return false;
    const index = table.roomIndex(now, cpu, memoryMiB);
    const values = index.values;
    // The table's answers as they are, not max(now, a): both compare alike with a start after now.
    const room = this.reused(table.size);
    room.set(values);
    const mark = this.chosenMark;
    for (const n of this.marked) mark[n] = 0;
    this.marked = chosen;
    index.watch(start, chosen[k - 1]);
    // The counts are of the answers with the lease's own reservations in: its nodes are told apart
    // first, and then asked with them left out, which costs more.
    let before = index.countBelow;
    let early = index.earlyBelow;
    let notSimple = index.notSimpleNodes;
    let last = -1;
    for (let i = 0; i < k; i++) {
      const n = chosen[i];
      if (n <= last) return false;
      last = n;
      const v = values[n];
      if (v !== v) notSimple--;
      else if (v < start) before--;
      if (i < k - 1 && v <= start) early--;
    }
    if (notSimple > 0 || early > 0 || before >= k) return false;
    for (let i = 0; i < k; i++) {
      const n = chosen[i];
      const own = this.ownFromIndex(lease, index, n, now, start) ?? table.roomForGoodFrom(n, now, cpu, memoryMiB, id);
      if (own === null || own > start) return false;
      if (own < start && ++before >= k) return false;
      room[n] = own;
    }
    for (const n of chosen) mark[n] = 1;
    this.confirmed = { lease, start, before, room, chosen: mark, lastChosen: last, home: null };
    return true;
  }

  /**
   * Node n of the lease's, when its last reservations are the lease's and none other begins at or
   * after its start: its room with the lease left out, told from the index's answer with the lease
   * in, without a walk over its calendar (hundreds of nodes at each check of the SDSC log's large
   * leases). Chained through the lease's reservations, it had reservations following one another up
   * to the start; not simple for the gap before them, up to the front roomExplained kept. Null when
   * neither, or when another reservation begins later (asked of the calendar then).
   */
  private ownFromIndex(lease: LeaseRecord, index: RoomIndex, n: number, now: number, start: number): number | null {
    const cal = this.ctx.table.reservationsOn(n);
    const mine = lease.chain.length;
    const id = lease.req.id;
    const at = cal.length - mine;
    if (at < 0 || cal[at].leaseId !== id || cal[cal.length - 1].leaseId !== id || (at > 0 && cal[at - 1].start >= start)) return null;
    const v = index.values[n];
    if (v === v) return v > start ? start : null;
    const front = index.roomBeforeGap(n, now, start);
    return front === front ? front : null;
  }

  /**
   * The check of everyNode on the nodes freed since it last passed (a node listed twice counts once:
   * its delta is then 0). null when only the count of nodes with room before the start says no: it
   * is at most, and a look at every node then finds the lease in place after all about one time in three (1,640 of 4,553 on the whole SDSC log).
   */
  private onlyFreedNodes(c: Confirmed, now: number, freed: ArrayLike<number>): boolean | null {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = c.lease.req;
    for (let f = 0; f < freed.length; f++) {
      const n = freed[f];
      const mine = c.chosen[n] === 1;
      const a = table.roomForGoodFrom(n, now, cpu, memoryMiB, mine ? id : undefined);
      if (a === null) return false;
      if (mine ? a > c.start : a <= c.start && (n < c.lastChosen || (c.home !== null && c.home[n] === 1))) return false;
      c.before += Number(a < c.start) - Number(c.room[n] < c.start);
      c.room[n] = a;
    }
    return c.before < k ? true : null;
  }

  /**
   * everyNode for a lease placed to resume: placed again, it would stay on the nodes holding its
   * memory (ascending) if all of them have room by the n-th smallest a, or else (with migration)
   * move to those of them that do, then to the lowest other nodes that do.
   */
  private everyNodeResuming(lease: LeaseRecord, now: number, start: number, home: readonly number[]): boolean {
    const { table, config } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = lease.req;
    const chosen = lease.chain[0].nodes;
    // Mostly ascending already (the nodes of the run it left): then the list itself, not a sorted copy.
    const homeSorted = ascendingOnce(home);
    if (homeSorted.length !== k || chosen.length !== k) return false;
    const room = this.reused(table.size);
    const mark = this.chosenMark;
    const homeMark = this.homeMark;
    for (const n of this.marked) mark[n] = 0;
    for (const n of this.homeMarked) homeMark[n] = 0;
    this.marked = [];
    this.homeMarked = homeSorted;
    for (const n of homeSorted) homeMark[n] = 1;
    room.set(table.roomFrom(now, cpu, memoryMiB));
    for (const n of chosen) {
      const own = table.roomForGoodFrom(n, now, cpu, memoryMiB, id);
      if (own === null) return false;
      room[n] = own;
    }
    let before = 0;
    let homeWithRoom = 0;
    for (let n = 0; n < room.length; n++) {
      const a = room[n];
      if (a !== a) return false;
      if (a < start) before++;
      if (a <= start && homeMark[n] === 1) homeWithRoom++;
    }
    if (before >= k) return false;
    const moved = homeWithRoom < k;
    if (moved && !config.migration) return false;
    // With no time to migrate, a moved chain is laid out as one that stays.
    if (this.ctx.costs.migrateSeconds(lease.req) > 0 && (lease.chain[0].kind === 'migrate') !== moved) return false;
    let c = 0;
    for (const n of homeSorted) if (room[n] <= start && chosen[c++] !== n) return false;
    let lastOther = -1;
    for (let n = 0; n < room.length && c < k; n++) {
      if (homeMark[n] === 1 || room[n] > start) continue;
      if (chosen[c++] !== n) return false;
      lastOther = n;
    }
    if (c !== k) return false;
    for (const n of chosen) mark[n] = 1;
    this.marked = chosen;
    this.confirmed = { lease, start, before, room, chosen: mark, lastChosen: lastOther, home: moved ? homeMark : null };
    return true;
  }

  /** Whether the chain is what layoutChain lays out for one whole piece: boot (or migrate if it moved, and resume), all its work, shutdown. */
  private isWholeChain(lease: LeaseRecord, resuming: boolean): boolean {
    if (lease.chainEndsIn !== 'finish') return false;
    const { bootSeconds, shutdownSeconds } = this.ctx.config;
    const first = lease.chain[0];
    // unschedule takes a chain that begins with neither back as a fresh lease's.
    if (resuming && first.kind !== 'migrate' && first.kind !== 'resume') return false;
    // Segment by segment, without building the list of lengths: asked of many queued leases at each step.
    let i = 0;
    let t = first.start;
    const next = (kind: SegmentKind, seconds: number): boolean => {
      if (seconds <= 0) return true;
      const seg = lease.chain[i++];
      if (!seg || seg.kind !== kind || seg.start !== t || seg.end !== t + seconds) return false;
      t += seconds;
      return true;
    };
    const pre = resuming
      ? next('migrate', first.kind === 'migrate' ? this.ctx.costs.migrateSeconds(lease.req) : 0) && next('resume', this.ctx.costs.resumeSeconds(lease.req))
      : next('boot', bootSeconds);
    return pre && next('run', remainingWork(lease)) && next('shutdown', shutdownSeconds) && i === lease.chain.length;
  }
}

/**
 * The nodes that hold a suspended lease's memory, as unschedule finds them, when they are where its
 * last run ended: its history before its chain ends in a suspension, placed on the nodes of that
 * run, from which the lease was first queued to resume (with no suspension segment, not known).
 */
function memoryNodes(lease: LeaseRecord, now: number): readonly number[] | null {
  const { history, chain } = lease;
  const h = history.length - chain.length;
  for (let i = 0; i < chain.length; i++) if (history[h + i] !== chain[i]) return null;
  const last = history[h - 1];
  return last !== undefined && last.kind === 'suspend' && last.end <= now ? last.nodes : null;
}
