import { addExclusiveGaps, firstOfK, kthSmallest } from './calendar.ts';
import type { RoomIndex } from './room-index.ts';
import type { Segment } from './segment.ts';
import type { NodeSpec } from './types.ts';

export interface WindowOptions {
  notBefore?: (n: number) => number;
  latestStart?: number;
  ignore?: ReadonlySet<string>;
  /** Network bandwidth each node must have room for too (bandwidth.ts). */
  bandwidthMbps?: number;
}

/** What the search reads of the slot table. */
export interface WindowSource {
  readonly nodes: readonly NodeSpec[];
  fitsAtAll(n: number, cpu: number, mem: number, bw?: number): boolean;
  reservationsOn(n: number): readonly Segment[];
  freeWindows(n: number, from: number, cpu: number, mem: number, ignore?: ReadonlySet<string>, bw?: number): Array<[number, number]>;
  roomForGoodFrom(n: number, t: number, cpu: number, mem: number): number | null;
  roomIndex(t: number, cpu: number, mem: number): RoomIndex;
  bandwidthBinds(n: number, bw: number): boolean;
  bandwidthBindsAnywhere(bw: number): boolean;
}

/** The earliest start at which enough nodes are free long enough, over the table's per-node calendars. */
export class WindowSearch {
  private opens = new Float64Array(1024);
  private closes = new Float64Array(1024);

  constructor(private readonly table: WindowSource) {}

  /**
   * The earliest t >= from at which at least k nodes can each hold cpu/mem for `length`
   * seconds from t, where node i may only start at notBefore(i), and reservations of leases in
   * `ignore` do not count. Infinity if never (or if not at or before `latestStart`: windows
   * opening later are left out of the sweep).
   * A sweep over every node's free windows: O(W log W) for W windows in the pool.
   */
  earliestWindow(k: number, cpu: number, mem: number, length: number, from: number, opts: WindowOptions): number {
    const { notBefore, latestStart = Infinity, ignore, bandwidthMbps: bw = 0 } = opts;
    const ignoring = ignore !== undefined && ignore.size > 0;
    // Room for CPU and memory that stays says nothing of bandwidth where it may bind: such a request is swept.
    const table = this.table;
    if (!ignoring && !table.bandwidthBindsAnywhere(bw)) {
      const simple = this.earliestWhereRoomStays(k, cpu, mem, from, notBefore, latestStart);
      if (simple !== null) return simple;
    }
    let count = 0;
    const add = (a: number, b: number): void => {
      const lastStart = b - length;
      if (lastStart < a || a > latestStart) return;
      if (count === this.opens.length) this.grow();
      this.opens[count] = a;
      this.closes[count] = lastStart;
      count++;
    };
    for (let n = 0; n < table.nodes.length; n++) {
      const nb = notBefore ? Math.max(from, notBefore(n)) : from;
      if (nb === Infinity) continue;
      if (!table.fitsAtAll(n, cpu, mem, bw)) continue;
      if (!ignoring && !table.bandwidthBinds(n, bw) && addExclusiveGaps(table.reservationsOn(n), table.nodes[n], nb, cpu, mem, latestStart, add)) continue;
      for (const [a, b] of table.freeWindows(n, nb, cpu, mem, ignore, bw)) add(a, b);
    }
    return count < k ? Infinity : firstOfK(this.opens.subarray(0, count), this.closes.subarray(0, count), k);
  }

  /**
   * earliestWindow when every node, once it has room, keeps it (what is reserved on it follows on
   * from `from` without a gap): each node's one window is [a, Infinity), so the answer is the k-th
   * smallest a, found without building and sweeping windows. Null when some node is not that simple.
   */
  private earliestWhereRoomStays(k: number, cpu: number, mem: number, from: number, notBefore: ((n: number) => number) | undefined, latestStart: number): number | null {
    const table = this.table;
    let count = 0;
    if (notBefore === undefined) {
      // Every node from the same instant: the table's index, brought up to date where it changed,
      // which counts the nodes that are not simple as they change.
      const index = table.roomIndex(from, cpu, mem);
      if (index.notSimpleNodes > 0) return null;
      const room = index.values;
      if (this.opens.length < room.length) this.grow(room.length);
      const opens = this.opens;
      for (let n = 0; n < room.length; n++) {
        const v = room[n];
        const a = v > from ? v : from;
        if (a === Infinity || a > latestStart) continue;
        opens[count++] = a;
      }
      return count < k ? Infinity : kthSmallest(opens, count, k);
    }
    for (let n = 0; n < table.nodes.length; n++) {
      const nb = notBefore ? Math.max(from, notBefore(n)) : from;
      if (nb === Infinity) continue;
      const a = table.roomForGoodFrom(n, nb, cpu, mem);
      if (a === null) return null;
      if (a === Infinity || a > latestStart) continue;
      if (count === this.opens.length) this.grow();
      this.opens[count++] = a;
    }
    if (count < k) return Infinity;
    return kthSmallest(this.opens, count, k);
  }

  private grow(atLeast = 0): void {
    const twice = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(Math.max(a.length * 2, atLeast));
      b.set(a);
      return b;
    };
    this.opens = twice(this.opens);
    this.closes = twice(this.closes);
  }
}
