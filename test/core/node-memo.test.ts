// The slot table remembers per-node answers (freeUntil with no horizon, roomForGoodFrom) until the
// node's calendar changes: after any sequence of changes and of queries at instants that only grow
// (as the scheduler's clock does), and of nodes added, each remembered answer must equal the one
// computed afresh from the node's calendar.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { exclusiveFreeUntil, kthSmallest, roomFromOn, sweepFreeUntil } from '../../src/core/calendar.ts';
import type { Segment } from '../../src/core/segment.ts';
import { SlotTable } from '../../src/core/slot-table.ts';

const NODES = [
  { id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 },
  { id: 'n2', cpu: 2, memoryMiB: 2048, diskMiB: 0 },
  { id: 'n3', cpu: 1, memoryMiB: 1024, diskMiB: 0 },
];

const opArb = fc.record({
  what: fc.constantFrom('reserve', 'reserve', 'release', 'cut', 'end', 'close', 'open', 'ask', 'ask', 'ask', 'wait', 'add'),
  node: fc.nat({ max: 5 }),
  // From now on, half of the time: only a reservation in force now gives roomForGoodFrom an answer.
  start: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
  length: fc.integer({ min: 1, max: 30 }),
  cpu: fc.constantFrom(0.5, 1),
  pick: fc.nat(),
});

function fresh(table: SlotTable, n: number, t: number, cpu: number, mem: number): { free: number; room: number | null } {
  const spec = table.nodes[n];
  if (!table.isOpen(n) || cpu > spec.cpu || mem > spec.memoryMiB) return { free: t, room: Infinity };
  const cal = table.reservationsOn(n);
  if (cal.length === 0) return { free: Infinity, room: roomFromOn(cal, spec, t, cpu, mem) };
  const free = exclusiveFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, Infinity) ?? sweepFreeUntil(cal, spec.cpu, spec.memoryMiB, t, cpu, mem, Infinity, undefined, -Infinity);
  return { free, room: roomFromOn(cal, spec, t, cpu, mem) };
}

test('remembered per-node answers equal fresh ones through any changes, as the clock moves on', () => {
  let asked = 0;
  fc.assert(
    // One request shape per run, mostly: the table keeps answers for the last shape asked about.
    fc.property(fc.array(opArb, { maxLength: 60 }), fc.constantFrom(0.5, 1), fc.nat(), (ops, cpu, mixed) => {
      const table = new SlotTable(NODES);
      const segs: Segment[] = [];
      let now = 0;
      for (const op of ops) {
        const seg = segs.length > 0 ? segs[op.pick % segs.length] : undefined;
        // A node added while answers are remembered (the pool grows under a live service): asked about at once, it must not be taken for full.
        if (op.what === 'add') table.addNode({ ...NODES[1], id: `added${table.size}` });
        else if (op.what === 'reserve') segs.push(table.reserve(`l${segs.length}`, 'run', now + op.start, now + op.start + op.length, [op.node % table.size], op.cpu, 512));
        else if (op.what === 'release' && seg) table.release(seg);
        else if (op.what === 'cut' && seg && !seg.removed && seg.end - 1 > Math.max(seg.start, now)) table.setEnd(seg, Math.max(seg.start, now) + 1 + (op.length % (seg.end - 1 - Math.max(seg.start, now))));
        else if (op.what === 'end' && seg && seg.end <= now + 1) table.deactivate(seg);
        else if (op.what === 'close') table.close(op.node % table.size);
        else if (op.what === 'open') table.open(op.node % table.size);
        else if (op.what === 'wait') now += op.length % 7;
        else if (op.what === 'ask') {
          // Asked twice over: the second answer comes from what the first left behind.
          // From any node on: a node asked about first reads what the table kept from before a change to the pool.
          for (let i = 0; i < table.size; i++) {
            const n = (i + op.pick) % table.size;
            for (const t of [now, now + (op.start % 9)]) {
              const askCpu = mixed % 4 === 0 ? op.cpu : cpu;
              const want = fresh(table, n, t, askCpu, 512);
              for (let again = 0; again < 2; again++) {
                assert.equal(table.freeUntil(n, t, askCpu, 512, Infinity), want.free, `freeUntil(n${n + 1}, ${t})`);
                assert.equal(table.roomForGoodFrom(n, t, askCpu, 512), want.room, `roomForGoodFrom(n${n + 1}, ${t})`);
                asked++;
              }
            }
          }
        }
      }
    }),
    { numRuns: 600 },
  );
  assert.ok(asked > 5000, `only ${asked} questions`);
});

test('a node added after answers were remembered is answered for afresh, asked about first', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 20 }), fc.constantFrom(0.5, 1), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 30 }), (before, cpu, start, length) => {
      const table = new SlotTable(NODES);
      // Answers remembered for the pool as it was (for the shape asked about next).
      for (const op of before) if (op.what === 'reserve') table.reserve(`b${op.pick}`, 'run', op.start, op.start + op.length, [op.node % NODES.length], op.cpu, 512);
      for (let n = 0; n < NODES.length; n++) table.roomForGoodFrom(n, 0, cpu, 512);
      const added = table.addNode({ ...NODES[1], id: 'added' });
      table.reserve('new', 'run', start, start + length, [added], 1, 512);
      const want = fresh(table, added, 0, cpu, 512);
      assert.equal(table.freeUntil(added, 0, cpu, 512, Infinity), want.free, 'freeUntil of the added node');
      assert.equal(table.roomForGoodFrom(added, 0, cpu, 512), want.room, 'roomForGoodFrom of the added node');
    }),
    { numRuns: 300 },
  );
});

test('kthSmallest answers what sorting answers', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -5, max: 20 }), { minLength: 1, maxLength: 40 }), fc.nat(), (xs, pick) => {
      const k = 1 + (pick % xs.length);
      const sorted = [...xs].sort((a, b) => a - b);
      assert.equal(kthSmallest(Float64Array.from(xs), xs.length, k), sorted[k - 1]);
    }),
    { numRuns: 1000 },
  );
});
