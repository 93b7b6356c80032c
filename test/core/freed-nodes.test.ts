// FreedNodes lists where capacity was given back since the last forget, in reused buffers: it must
// list what an array would (nodes in order, null past the limit), and a list read before a forget
// must stay as it was until the next one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { FreedNodes } from '../../src/core/freed-nodes.ts';

test('FreedNodes lists what was noted since the last forget, as an array would', () => {
  const opArb = fc.oneof(fc.record({ nodes: fc.array(fc.nat({ max: 50 }), { maxLength: 30 }), end: fc.integer({ min: 0, max: 100 }) }), fc.constant('forget' as const));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 120 }), fc.array(opArb, { maxLength: 40 }), (limit, ops) => {
      const freed = new FreedNodes();
      let list: number[] | null = [];
      let until = -Infinity;
      let read: { kept: number[]; view: ArrayLike<number> } | null = null;
      for (const op of ops) {
        if (op === 'forget') {
          const last = freed.nodes;
          read = last === null ? null : { kept: [...Array.from(last)], view: last };
          freed.forget();
          list = [];
          until = -Infinity;
        } else {
          freed.note(op.nodes, op.end, limit);
          until = Math.max(until, op.end);
          if (list !== null && list.length + op.nodes.length > limit) list = null;
          else list?.push(...op.nodes);
        }
        assert.equal(freed.until, until);
        const nodes = freed.nodes;
        assert.deepEqual(nodes === null ? null : Array.from(nodes), list);
        if (read !== null) assert.deepEqual(Array.from(read.view), read.kept, 'the list read before the forget changed');
      }
    }),
    { numRuns: 1000 },
  );
});
