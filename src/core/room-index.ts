import { roomFromOn } from './calendar.ts';
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
 * is untouched (see NodeMemo.roomAt); a null one (NaN here) holds at t0 only.
 */
export class RoomIndex {
  private value = new Float64Array(0);
  private asOf = new Float64Array(0);
  private stamp = new Float64Array(0);
  /** The nodes whose answer was not simple when last computed (each listed once, as `listed` marks). */
  private notSimple = new Int32Array(0);
  private notSimpleCount = 0;
  /**
   * The list before last, reused: from is asked hundreds of thousands of times. Both are as long as
   * the pool, which they cannot outgrow (a node is listed once), so they are never grown either.
   */
  private spare = new Int32Array(0);
  private listed = new Uint8Array(0);
  /** The latest instant an answer is of; Infinity until every node has been looked at. */
  private latest = Infinity;

  constructor(private readonly table: RoomSource, readonly cpu: number, readonly mem: number) {}

  /**
   * Each node's answer at t: read node n's as max(t, values[n]), NaN when it is not simple
   * (roomForGoodFrom answers null). The array is the index's own, good until the next call.
   */
  from(t: number, changed: ArrayLike<number>): Float64Array {
    const size = this.table.size;
    if (this.value.length !== size) this.resize(size);
    // The nodes touched since the last call and those without a simple answer are all that can be
    // out of date, unless the instant went back.
    const before = this.notSimple;
    const beforeCount = this.notSimpleCount;
    this.notSimple = this.spare;
    this.notSimpleCount = 0;
    for (let i = 0; i < beforeCount; i++) this.listed[before[i]] = 0;
    if (t < this.latest) {
      let latest = -Infinity;
      for (let n = 0; n < size; n++) {
        this.refresh(n, t);
        if (this.asOf[n] > latest) latest = this.asOf[n];
      }
      this.latest = latest;
    } else {
      let any = false;
      for (let i = 0; i < changed.length; i++) any = this.refresh(changed[i], t) || any;
      for (let i = 0; i < beforeCount; i++) any = this.refresh(before[i], t) || any;
      if (any) this.latest = t;
    }
    // A node not simple whose answer was still good (asked at the same instant) is listed again.
    for (let i = 0; i < beforeCount; i++) {
      const n = before[i];
      if (this.value[n] !== this.value[n] && !this.listed[n]) this.list(n);
    }
    this.spare = before;
    return this.value;
  }

  /** Recomputes node n's answer if it may be out of date at t; answers whether it did. */
  private refresh(n: number, t: number): boolean {
    const { table, cpu, mem, value, asOf, stamp } = this;
    const v = value[n];
    if (stamp[n] >= table.touched[n] && t >= asOf[n] && (v === v || t === asOf[n])) return false;
    // SlotTable.roomForGoodFrom, without its memo: this is one.
    const a = table.fitsAtAll(n, cpu, mem) ? roomFromOn(table.reservationsOn(n), table.nodes[n], t, cpu, mem) ?? Number.NaN : Infinity;
    value[n] = a;
    asOf[n] = t;
    stamp[n] = table.version;
    if (a !== a && !this.listed[n]) this.list(n);
    return true;
  }

  private list(n: number): void {
    this.listed[n] = 1;
    this.notSimple[this.notSimpleCount++] = n;
  }

  private resize(size: number): void {
    this.value = new Float64Array(size);
    this.asOf = new Float64Array(size);
    this.stamp = new Float64Array(size).fill(-1);
    this.listed = new Uint8Array(size);
    this.notSimple = new Int32Array(size);
    this.notSimpleCount = 0;
    this.spare = new Int32Array(size);
    this.latest = Infinity;
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
