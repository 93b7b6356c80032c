import { roomExplained } from './calendar.ts';
import type { Segment } from './segment.ts';
import type { NodeSpec } from './types.ts';

/** What the index reads of the slot table. */
export interface RoomSource {
  readonly size: number;
  readonly nodes: readonly NodeSpec[];
  /** For each node, the table's change count when its calendar (or whether it is open) last changed. */
  readonly touched: readonly number[];
  readonly version: number;
  fitsAtAll(n: number, cpu: number, mem: number): boolean;
  reservationsOn(n: number): readonly Segment[];
}

/**
 * From when each node of the pool has room for good for one request shape, kept for every node at
 * once and brought up to date only where the table changed: EASY asks it of all 1,152 nodes of the
 * SDSC log each time it places its reservation or builds a profile of the future, while between two
 * asks a few nodes change. An answer v computed at t0 reads max(t, v) at any t >= t0 while the node
 * is untouched (see NodeMemo.roomAt); a null one (NaN here) holds from t0 until the instant
 * roomExplained tells. Counts of the answers for one instant (watch) are kept as they change, for
 * the question EASY asks of all of them at each check of its reservation.
 */
export class RoomIndex {
  private value = new Float64Array(0);
  /**
   * Of node n, from 4n on: the instant its answer is of, the table's version then, and for a NaN
   * answer what roomExplained tells: the instant before which it stays NaN while the node is untouched,
   * and, for a gap, where the reservations that follow one another end before it. Side by side rather
   * than in an array each: a refresh, 15 million of them on the whole SDSC log, then reads one line of
   * memory instead of three.
   */
  private meta = new Float64Array(0);
  /**
   * The nodes whose answer was NaN when last computed (each listed once, as `listed` marks; one
   * whose answer has become a number since leaves at the next sweep), and the earliest of their
   * `until`s, at most: before it, none of them needs to be looked at again. The head of EASY's queue,
   * placed in the future, leaves its hundreds of nodes so until it begins.
   */
  private notSimple = new Int32Array(0);
  private notSimpleCount = 0;
  private listed = new Uint8Array(0);
  private sweepAt = Infinity;
  /** The latest instant an answer is of; Infinity until every node has been looked at. */
  private latest = Infinity;
  /** How many answers are NaN. */
  private nan = 0;
  /** The instant and node watched (watch), NaN when none is, and the counts kept for them. */
  private watchAt = Number.NaN;
  private watchBelow = 0;
  private below = 0;
  private early = 0;

  constructor(private readonly table: RoomSource, readonly cpu: number, readonly mem: number) {}

  /**
   * Each node's answer at t: read node n's as max(t, values[n]), NaN when it is not simple
   * (roomForGoodFrom answers null). The array is the index's own, good until the next call.
   */
  from(t: number, changed: ArrayLike<number>): Float64Array {
    this.at(t, changed);
    return this.value;
  }

  /** Brings the index up to date at t, the nodes touched since the last call being `changed`: the values and the order then answer for t. */
  at(t: number, changed: ArrayLike<number>): this {
    const size = this.table.size;
    if (this.value.length !== size) this.resize(size);
    // The nodes touched since the last call and those without a simple answer are all that can be
    // out of date, unless the instant went back.
    if (t < this.latest) {
      let latest = -Infinity;
      for (let n = 0; n < size; n++) {
        this.refresh(n, t);
        if (this.meta[4 * n] > latest) latest = this.meta[4 * n];
      }
      this.latest = latest;
      this.sweep(t);
      return this;
    }
    let any = false;
    for (let i = 0; i < changed.length; i++) any = this.refresh(changed[i], t) || any;
    if (t >= this.sweepAt) any = this.sweep(t) || any;
    if (any) this.latest = t;
    return this;
  }

  /** The answers as numbers, node by node (read as `from` says). */
  get values(): Float64Array {
    return this.value;
  }

  /**
   * For node n, whose answer at t is NaN for a gap before a reservation that begins at `at`: from when
   * it has room with that reservation and those after it left out (EASY's reservation, when no other
   * is still to begin). NaN when its answer is not so.
   */
  roomBeforeGap(n: number, t: number, at: number): number {
    const m = 4 * n;
    const front = this.meta[m + 3];
    if (this.value[n] === this.value[n] || this.meta[m + 2] !== at || front !== front) return Number.NaN;
    return front > t ? front : t;
  }

  /** How many nodes have no simple answer. */
  get notSimpleNodes(): number {
    return this.nan;
  }

  /**
   * Keeps, from now on and as answers change, how many answers are below `at` (countBelow) and how
   * many nodes below `limit` have an answer at most `at` (earlyBelow): what would move EASY's
   * reservation from its start, asked each time it is checked while its start and last node stay.
   * Counting costs a pass over the pool, only when they change.
   */
  watch(at: number, limit: number): void {
    if (at === this.watchAt && limit === this.watchBelow) return;
    this.watchAt = at;
    this.watchBelow = limit;
    this.recount();
  }

  /** How many answers are numbers below the instant watched. */
  get countBelow(): number {
    return this.below;
  }

  /** How many nodes below the node watched have an answer at most the instant watched. */
  get earlyBelow(): number {
    return this.early;
  }

  private recount(): void {
    const { value, watchAt: at, watchBelow: limit } = this;
    let below = 0;
    let early = 0;
    for (let n = 0; n < value.length; n++) {
      const v = value[n];
      if (v < at) below++;
      if (n < limit && v <= at) early++;
    }
    this.below = below;
    this.early = early;
  }

  /** Looks again at the listed nodes, keeping those still not simple; answers whether any answer was recomputed. */
  private sweep(t: number): boolean {
    const { notSimple, listed, value, meta } = this;
    let any = false;
    let kept = 0;
    let sweepAt = Infinity;
    const count = this.notSimpleCount;
    for (let i = 0; i < count; i++) {
      const n = notSimple[i];
      any = this.refresh(n, t) || any;
      if (value[n] === value[n]) {
        listed[n] = 0;
        continue;
      }
      notSimple[kept++] = n;
      if (meta[4 * n + 2] < sweepAt) sweepAt = meta[4 * n + 2];
    }
    // refresh lists no node while it sweeps: each listed one is already.
    this.notSimpleCount = kept;
    this.sweepAt = sweepAt;
    return any;
  }

  /** Recomputes node n's answer if it may be out of date at t; answers whether it did. */
  private refresh(n: number, t: number): boolean {
    const { table, cpu, mem, value, meta } = this;
    const v = value[n];
    const m = 4 * n;
    if (meta[m + 1] >= table.touched[n] && t >= meta[m] && (v === v || t < meta[m + 2])) return false;
    let a = Infinity;
    if (table.fitsAtAll(n, cpu, mem)) {
      const cal = table.reservationsOn(n);
      const spec = table.nodes[n];
      a = roomExplained(cal, spec, t, cpu, mem, meta, m + 2);
    }
    value[n] = a;
    meta[m] = t;
    meta[m + 1] = table.version;
    if (v !== v) this.nan--;
    if (a !== a) this.nan++;
    // NaN compares false: not counted.
    const at = this.watchAt;
    if (v < at) this.below--;
    if (a < at) this.below++;
    if (n < this.watchBelow) {
      if (v <= at) this.early--;
      if (a <= at) this.early++;
    }
    if (a !== a) {
      if (!this.listed[n]) {
        this.listed[n] = 1;
        this.notSimple[this.notSimpleCount++] = n;
      }
      if (meta[m + 2] < this.sweepAt) this.sweepAt = meta[m + 2];
    }
    return true;
  }

  private resize(size: number): void {
    this.value = new Float64Array(size);
    this.meta = new Float64Array(4 * size);
    for (let n = 0; n < size; n++) this.meta[4 * n + 1] = -1;
    this.listed = new Uint8Array(size);
    this.notSimple = new Int32Array(size);
    this.notSimpleCount = 0;
    this.sweepAt = Infinity;
    this.latest = Infinity;
    this.nan = 0;
    this.recount();
  }
}

/** The nodes whose calendars changed since the last take, each listed once, in a reused buffer. */
export class TouchLog {
  private nodes = new Int32Array(64);
  private listed = new Uint8Array(64);
  private count = 0;

  note(n: number): void {
    if (n >= this.listed.length) this.grow(n + 1);
    if (this.listed[n] === 1) return;
    this.listed[n] = 1;
    this.nodes[this.count++] = n;
  }

  /** The nodes noted since the last take; read it before the next note. */
  take(): Int32Array {
    const out = this.nodes.subarray(0, this.count);
    for (let i = 0; i < this.count; i++) this.listed[this.nodes[i]] = 0;
    this.count = 0;
    return out;
  }

  private grow(size: number): void {
    const length = Math.max(size, 2 * this.listed.length);
    const nodes = new Int32Array(length);
    nodes.set(this.nodes.subarray(0, this.count));
    const listed = new Uint8Array(length);
    listed.set(this.listed);
    this.nodes = nodes;
    this.listed = listed;
  }
}
