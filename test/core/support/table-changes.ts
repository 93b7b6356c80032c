// Random sequences of changes to a slot table, as the scheduler makes them: reservations made
// (where they fit), begun and ended as the clock moves, released or cut short; nodes closed and
// opened; old reservations pruned. For property tests of what the table keeps up to date.

import fc from 'fast-check';
import type { Segment } from '../../../src/core/segment.ts';
import { SlotTable } from '../../../src/core/slot-table.ts';

export const changeArb = fc.oneof(
  fc.record({ op: fc.constant('reserve' as const), start: fc.integer({ min: 0, max: 30 }), length: fc.integer({ min: 1, max: 40 }), first: fc.nat(), count: fc.integer({ min: 1, max: 40 }), cpu: fc.constantFrom(0.5, 1, 2) }),
  fc.record({ op: fc.constant('advance' as const), by: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ op: fc.constantFrom('release' as const, 'cut' as const), pick: fc.nat(), by: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ op: fc.constantFrom('close' as const, 'open' as const), node: fc.nat() }),
  fc.record({ op: fc.constant('prune' as const) }),
);

export type Change = typeof changeArb extends fc.Arbitrary<infer C> ? C : never;

/** A table of `size` nodes (every third one of 2 CPUs, the others of 1) and the changes made to it. */
export class TableDriver {
  readonly table: SlotTable;
  now = 0;
  leases = 0;
  private readonly live: Segment[] = [];

  constructor(readonly size: number) {
    this.table = new SlotTable(Array.from({ length: size }, (_, i) => ({ id: `n${i}`, cpu: i % 3 === 0 ? 2 : 1, memoryMiB: 1024, diskMiB: 0 })));
  }

  apply(c: Change): void {
    const { table, size } = this;
    if (c.op === 'reserve') {
      const start = this.now + c.start;
      const end = start + c.length;
      const nodes = [...new Set(Array.from({ length: Math.min(c.count, size) }, (_, k) => (c.first + k) % size))].sort((a, b) => a - b);
      if (nodes.every((n) => table.freeUntil(n, start, c.cpu, 256, end) >= end)) this.live.push(table.reserve(`l${this.leases++}`, 'run', start, end, nodes, c.cpu, 256));
    } else if (c.op === 'advance') this.now += c.by;
    else if (c.op === 'release' || c.op === 'cut') {
      const open = this.live.filter((s) => !s.removed && s.end > this.now);
      const s = open.length > 0 ? open[c.pick % open.length] : undefined;
      if (s !== undefined && c.op === 'cut') table.setEnd(s, Math.max(this.now, s.start + 1, s.end - c.by));
      else if (s !== undefined && s.start > this.now) table.release(s);
    } else if (c.op === 'close') table.close(c.node % size);
    else if (c.op === 'open') table.open(c.node % size);
    else table.prune(this.now);
    // What the clock reaches begins, and what it passed ends.
    for (const s of this.live) if (!s.removed && s.start <= this.now && s.end > this.now) table.activate(s);
    for (const s of this.live) if (s.active && s.end <= this.now) table.deactivate(s);
  }
}
