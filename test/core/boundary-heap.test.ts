// BoundaryHeap pops in the order of a stable sort by (time, order, insertion).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { BoundaryHeap } from '../../src/core/boundary-heap.ts';

const entryArb = fc.record({ time: fc.integer({ min: 0, max: 20 }), order: fc.integer({ min: 0, max: 2 }) });

test('pushing everything, then popping everything, gives the stable sort by (time, order)', () => {
  fc.assert(
    fc.property(fc.array(entryArb, { maxLength: 200 }), (entries) => {
      const heap = new BoundaryHeap<number>();
      entries.forEach((e, i) => heap.push(e.time, e.order, i));
      assert.equal(heap.size, entries.length);
      const expected = entries.map((e, i) => ({ ...e, i })).sort((a, b) => a.time - b.time || a.order - b.order).map((e) => e.i);
      const popped: number[] = [];
      while (heap.size > 0) popped.push(heap.pop()!);
      assert.deepEqual(popped, expected);
      assert.equal(heap.pop(), undefined);
      assert.equal(heap.peekTime(), Infinity);
    }),
    { numRuns: 500 },
  );
});

test('interleaved pushes and pops agree with a sorted-list model; peek and peekTime show the next pop', () => {
  const opArb = fc.oneof({ weight: 3, arbitrary: entryArb }, { weight: 2, arbitrary: fc.constant(null) });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
      const heap = new BoundaryHeap<number>();
      const model: Array<{ time: number; order: number; i: number }> = [];
      ops.forEach((op, i) => {
        if (op) {
          heap.push(op.time, op.order, i);
          model.push({ ...op, i });
          model.sort((a, b) => a.time - b.time || a.order - b.order || a.i - b.i);
        } else {
          assert.equal(heap.pop(), model.shift()?.i, `pop at step ${i}`);
        }
        assert.equal(heap.size, model.length);
        assert.equal(heap.peek(), model[0]?.i);
        assert.equal(heap.peekTime(), model[0]?.time ?? Infinity);
      });
    }),
    { numRuns: 500 },
  );
});

test('at equal times, the lower order pops first; at equal order, the earlier push', () => {
  const heap = new BoundaryHeap<string>();
  heap.push(5, 1, 'start-1');
  heap.push(5, 0, 'end-1');
  heap.push(3, 1, 'early');
  heap.push(5, 1, 'start-2');
  heap.push(5, 0, 'end-2');
  assert.deepEqual([heap.pop(), heap.pop(), heap.pop(), heap.pop(), heap.pop()], ['early', 'end-1', 'end-2', 'start-1', 'start-2']);
});
