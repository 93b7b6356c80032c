// NodeBits is a set of node indices kept as bits: through any sequence of additions and removals
// it must answer as a Set<number> does (size, membership, the next member from an index, its words).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { bitCount, lowestBit, NodeBits } from '../../src/core/node-bits.ts';

test('NodeBits answers as a Set<number> through any additions and removals', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 200 }), fc.nat({ max: 210 })), { maxLength: 120 }), (ops) => {
      const bits = new NodeBits();
      const set = new Set<number>();
      for (const [add, n, from] of ops) {
        if (add) {
          bits.add(n);
          set.add(n);
        } else {
          bits.delete(n);
          set.delete(n);
        }
        assert.equal(bits.size, set.size);
        assert.equal(bits.has(n), set.has(n));
        const members = [...set].sort((a, b) => a - b);
        assert.equal(bits.next(from), members.find((m) => m >= from) ?? -1);
        for (let w = 0; w <= 7; w++) {
          let word = 0;
          for (const m of members) if (m >> 5 === w) word |= 1 << (m & 31);
          assert.equal(bits.word(w), word, `word ${w}`);
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('bitCount and lowestBit agree with counting bit by bit', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (word) => {
      const set = Array.from({ length: 32 }, (_, b) => b).filter((b) => (word >>> b) & 1);
      assert.equal(bitCount(word), set.length);
      if (word !== 0) assert.equal(lowestBit(word), set[0]);
    }),
    { numRuns: 2000 },
  );
});
