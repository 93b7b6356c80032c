import { bitCount, lowestBit, type NodeBits } from './node-bits.ts';
import { indexIn } from './node-lists.ts';
import type { SlotTable } from './slot-table.ts';

/**
 * For one instant t and one request shape: the nodes that can take it at t, and until when each
 * stays free. Built lazily, 32 nodes at a time and as far as it is read: a lease that needs n nodes
 * usually finds them among the first free ones, while a pool holding back nodes for EASY's
 * reservation may have hundreds free now. Nodes free for good are kept as bits: a node whose
 * calendar is empty is one without being asked, so a busy pool's profile costs a few words and its
 * nodes with something planned. Read only while the table stays as it was when it was made, reused
 * or followed to the present (a queue pass asks for one for each of 250,000 placements).
 */
export class FreeProfile {
  /** Bit b of word w: node 32w + b is free from t for good. */
  private good: number[] = [];
  private goodCount = 0;
  /** Bit b of word w: node 32w + b is free from t for a while only, until until[32w + b]. */
  private lim: number[] = [];
  private until = new Float64Array(0);
  private limitedCount = 0;
  /** Of each word looked at, the earliest t after which it must be looked at again though nothing about its nodes changed (see follow). */
  private expires: number[] = [];
  /** Words looked at so far (the first `words`), of all, at the table's version. */
  private words = 0;
  private wordsInAll = 0;
  private version = -1;
  /** Of a profile of the future, which nodes the table's RoomIndex tells free for good from t, and which it cannot tell (once roomKnown). */
  private readonly roomGood: number[] = [];
  private readonly roomUnknown: number[] = [];
  private roomKnown = false;
  /** Whether an empty calendar alone tells that a node is free for good (nothing else to ask of it). */
  private emptyIsFree = false;
  /** The open nodes big enough for the shape, when emptyIsFree. */
  private fitting: NodeBits | null = null;
  /** The limited nodes packed by index, and until when, as limited() last listed them. */
  private readonly limitedNodes: number[] = [];
  private readonly limitedUntil: number[] = [];

  constructor(private readonly table: SlotTable, private ask: ProfileAsk) {
    this.reuse(ask);
  }

  /** Makes this the profile of `ask` at the table's present version, keeping its arrays. */
  reuse(ask: ProfileAsk): this {
    this.ask = ask;
    this.version = this.table.version;
    this.wordsInAll = (this.table.size + 31) >> 5;
    if (this.good.length !== this.wordsInAll) {
      this.good = new Array<number>(this.wordsInAll).fill(0);
      this.lim = new Array<number>(this.wordsInAll).fill(0);
      this.expires = new Array<number>(this.wordsInAll).fill(0);
    }
    if (this.until.length !== this.table.size) this.until = new Float64Array(this.table.size);
    this.emptyIsFree = ask.eligible === undefined;
    this.fitting = this.emptyIsFree ? this.table.openFitting(ask.cpu, ask.memoryMiB, ask.bandwidthMbps) : null;
    this.goodCount = 0;
    this.limitedCount = 0;
    this.words = 0;
    this.roomKnown = false;
    return this;
  }

  /**
   * Makes this profile of the current instant (onlyFreeNow, nothing ineligible or ignored) the one at
   * `now` and the table's present version, looking again only at the words of nodes where something
   * changed since (the table stamps them) or whose free-until may have passed. At each placement of a
   * whole log only the nodes of a few leases started or ended changed: the others' answers hold.
   */
  follow(now: number): this {
    const { table, ask } = this;
    // A shape with bandwidth is made again (its fitting nodes are not kept by the table to be compared).
    const simple = ask.onlyFreeNow && ask.eligible === undefined && ask.ignore === undefined && !(ask.bandwidthMbps! > 0);
    const kept = simple && now >= ask.t && this.wordsInAll === ((table.size + 31) >> 5) && this.fitting === table.openFitting(ask.cpu, ask.memoryMiB);
    if (kept && this.version === table.version && now === ask.t) return this;
    // Made as a literal of one layout: spreading `ask` took V8's slow path, a third of the time here.
    const at: ProfileAsk = simple ? { t: now, cpu: ask.cpu, memoryMiB: ask.memoryMiB, onlyFreeNow: true } : { ...ask, t: now };
    if (!kept) return this.reuse(at);
    const since = this.version;
    const moved = now > ask.t;
    this.ask = at;
    this.version = table.version;
    for (let w = 0; w < this.words; w++) {
      if (table.wordChangedAt(w) <= since && !(moved && this.expires[w] <= now)) continue;
      this.goodCount -= bitCount(this.good[w]);
      this.limitedCount -= bitCount(this.lim[w]);
      this.look(w);
    }
    return this;
  }

  get t(): number {
    return this.ask.t;
  }

  get cpu(): number {
    return this.ask.cpu;
  }

  get memoryMiB(): number {
    return this.ask.memoryMiB;
  }

  get bandwidthMbps(): number {
    return this.ask.bandwidthMbps ?? 0;
  }

  /** Looks at more nodes until `count` are known to take the request or none is left; answers how many are known. */
  fill(count: number): number {
    while (this.goodCount + this.limitedCount < count && this.words < this.wordsInAll) this.look(this.words++);
    return this.goodCount + this.limitedCount;
  }

  /** Looks at the nodes of word w, adding them to the counts. */
  private look(w: number): void {
    const { table, ask } = this;
    if (table.version !== this.version) throw new Error('internal: a free profile read after the table changed');
    // A node full now cannot take a request for some of each resource now: of a busy pool, only the few others are looked at.
    const notFullOnly = ask.onlyFreeNow && ask.cpu >= 1e-6 && ask.memoryMiB >= 1e-6;
    const last = table.size - (w << 5);
    let candidates = notFullOnly ? table.notFullNow.word(w) : last >= 32 ? -1 : (1 << last) - 1;
    let good = 0;
    let lim = 0;
    let expires = Infinity;
    if (this.emptyIsFree) {
      good = candidates & table.emptyNodes.word(w) & this.fitting!.word(w);
      candidates &= ~good;
    }
    // The table's RoomIndex answers of CPU and memory only: a shape with bandwidth asks each node.
    if (this.emptyIsFree && ask.ignore === undefined && !ask.onlyFreeNow && !table.bandwidthBindsAnywhere(ask.bandwidthMbps ?? 0)) {
      if (!this.roomKnown) {
        roomBits(table, ask.t, ask.cpu, ask.memoryMiB, this.roomGood, this.roomUnknown);
        this.roomKnown = true;
      }
      good |= candidates & this.roomGood[w];
      candidates &= this.roomUnknown[w];
    }
    while (candidates !== 0) {
      const b = lowestBit(candidates);
      candidates &= candidates - 1;
      const i = (w << 5) + b;
      const u = this.untilOf(i);
      // A node with no room at t by its calendar (not its usage) may have some later with nothing changed: looked at again then.
      if (u === null && ask.onlyFreeNow && ask.eligible === undefined && table.fitsNow(i, ask.cpu, ask.memoryMiB, ask.bandwidthMbps)) expires = ask.t;
      if (u === null) continue;
      if (u === Infinity) good |= 1 << b;
      else {
        lim |= 1 << b;
        this.until[i] = u;
        if (u < expires) expires = u;
      }
    }
    this.good[w] = good;
    this.lim[w] = lim;
    this.expires[w] = expires;
    this.goodCount += bitCount(good);
    this.limitedCount += bitCount(lim);
  }

  /** Until when node i stays free from t, if it is one of the profile's nodes; null if not (see untilFor). */
  untilOf(i: number): number | null {
    if (this.table.version !== this.version) throw new Error('internal: a free profile read after the table changed');
    return untilFor(this.table, this.ask, i);
  }

  /** Whether at least n of the profile's nodes stay free until `end` or later. */
  holds(n: number, end: number): boolean {
    let limited = 0;
    let seen = 0;
    for (;;) {
      for (; seen < this.words; seen++) limited += this.limitedUntilAtLeast(seen, end);
      if (this.goodCount + limited >= n) return true;
      if (this.words === this.wordsInAll) return false;
      this.look(this.words++);
    }
  }

  /** How many of word w's limited nodes stay free until `end` or later. */
  private limitedUntilAtLeast(w: number, end: number): number {
    let lim = this.lim[w];
    let count = 0;
    while (lim !== 0) {
      if (this.until[(w << 5) + lowestBit(lim)] >= end) count++;
      lim &= lim - 1;
    }
    return count;
  }

  /**
   * Appends to out[count..] the profile's nodes that stay free until `end` or later, by index,
   * leaving out those in `skip` (ascending) and those not `eligible`, until out holds n; answers
   * how many it holds.
   */
  collectFreeUntil(end: number, n: number, out: number[], count: number, skip: readonly number[] | null, eligible: ((node: number) => boolean) | undefined): number {
    for (let w = 0; count < n; w++) {
      if (w === this.words) {
        if (this.words === this.wordsInAll) break;
        this.look(this.words++);
      }
      const good = this.good[w];
      if (skip === null && eligible === undefined) {
        // The common case (a lease placed afresh): the word's nodes free long enough as bits, taken lowest first.
        let take = good;
        for (let lim = this.lim[w]; lim !== 0; lim &= lim - 1) if (this.until[(w << 5) + lowestBit(lim)] >= end) take |= lim & -lim;
        for (; take !== 0 && count < n; take &= take - 1) out[count++] = (w << 5) + lowestBit(take);
        continue;
      }
      let both = good | this.lim[w];
      while (both !== 0 && count < n) {
        const b = lowestBit(both);
        both &= both - 1;
        const i = (w << 5) + b;
        if ((good & (1 << b)) === 0 && this.until[i] < end) continue;
        if ((skip === null || indexIn(skip, i) < 0) && (eligible === undefined || eligible(i))) out[count++] = i;
      }
    }
    return count;
  }

  /** untilOf(i), from what the profile holds if it has looked at i's word already (a suspended lease's home nodes, asked one by one, mostly are). */
  untilKnown(i: number): number | null {
    if (i >> 5 >= this.words) return this.untilOf(i);
    const bit = 1 << (i & 31);
    if ((this.good[i >> 5] & bit) !== 0) return Infinity;
    return (this.lim[i >> 5] & bit) !== 0 ? this.until[i] : null;
  }

  /** Until when node i stays free, from what the profile holds (looking at every node first); null if it is not one of them. */
  untilIn(i: number): number | null {
    this.fill(Infinity);
    return this.untilKnown(i);
  }

  /** The nodes free for a while only, by index, and until when (every node looked at first). */
  limited(): { nodes: readonly number[]; until: readonly number[]; count: number } {
    this.fill(Infinity);
    let count = 0;
    for (let w = 0; w < this.words; w++) {
      for (let lim = this.lim[w]; lim !== 0; lim &= lim - 1) {
        const i = (w << 5) + lowestBit(lim);
        this.limitedNodes[count] = i;
        this.limitedUntil[count++] = this.until[i];
      }
    }
    return { nodes: this.limitedNodes, until: this.limitedUntil, count };
  }
}

export interface ProfileAsk {
  t: number;
  cpu: number;
  memoryMiB: number;
  /** Network bandwidth, on the nodes that lease it (bandwidth.ts); absent or 0: none. */
  bandwidthMbps?: number;
  /** Whether node i may take part at all (image available in time, ...). */
  eligible?: (node: number) => boolean;
  /** Consider only nodes with room at the current instant (t is now), by the table's usage counters. */
  onlyFreeNow: boolean;
  ignore?: ReadonlySet<string>;
  ignoreFrom?: number;
}

/**
 * Until when node i stays free from ask.t for the ask, if it takes part; null if not. The one rule a
 * profile lists nodes by, whatever keeps them (the naive reference of the tests does too).
 */
export function untilFor(table: SlotTable, ask: ProfileAsk, i: number): number | null {
  const bw = ask.bandwidthMbps ?? 0;
  if (ask.onlyFreeNow && !table.fitsNow(i, ask.cpu, ask.memoryMiB, bw)) return null;
  if (ask.eligible && !ask.eligible(i)) return null;
  const u = table.freeUntil(i, ask.t, ask.cpu, ask.memoryMiB, Infinity, ask.ignore, ask.ignoreFrom, bw);
  return u > ask.t ? u : null;
}

export function freeProfile(table: SlotTable, ask: ProfileAsk): FreeProfile {
  return new FreeProfile(table, ask);
}

/**
 * Of each node, whether it is free from t for good, by when it has room for good: where that is
 * simple (reservations follow one another up to it), a node free at t is free for good, and one not
 * free at t has no room before then. Where it is not, the node is asked itself.
 */
function roomBits(table: SlotTable, t: number, cpu: number, mem: number, good: number[], unknown: number[]): void {
  const room = table.roomFrom(t, cpu, mem);
  for (let w = 0; w << 5 < room.length; w++) {
    let g = 0;
    let u = 0;
    const last = Math.min(32, room.length - (w << 5));
    for (let b = 0; b < last; b++) {
      const v = room[(w << 5) + b];
      if (v !== v) u |= 1 << b;
      else if (v <= t) g |= 1 << b;
    }
    good[w] = g;
    unknown[w] = u;
  }
}

/** Whether n nodes of the profile stay free for at least `length` from its instant. */
export function profileHolds(profile: FreeProfile, n: number, length: number): boolean {
  return n >= 1 && profile.holds(n, profile.t + length);
}
