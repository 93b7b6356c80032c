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

  constructor(private readonly table: RoomSource, readonly cpu: number, readonly mem: number) {}

  /**
   * Each node's answer at t: read node n's as max(t, values[n]), NaN when it is not simple
   * (roomForGoodFrom answers null). The array is the index's own, good until the next call.
   */
  from(t: number): Float64Array {
    const { table, cpu, mem } = this;
    const size = table.size;
    if (this.value.length !== size) this.resize(size);
    const { value, asOf, stamp } = this;
    const touched = table.touched;
    for (let n = 0; n < size; n++) {
      const v = value[n];
      if (stamp[n] >= touched[n] && t >= asOf[n] && (v === v || t === asOf[n])) continue;
      // SlotTable.roomForGoodFrom, without its memo: this is one.
      value[n] = table.fitsAtAll(n, cpu, mem) ? roomFromOn(table.reservationsOn(n), table.nodes[n], t, cpu, mem) ?? Number.NaN : Infinity;
      asOf[n] = t;
      stamp[n] = table.version;
    }
    return value;
  }

  private resize(size: number): void {
    this.value = new Float64Array(size);
    this.asOf = new Float64Array(size);
    this.stamp = new Float64Array(size).fill(-1);
  }
}
