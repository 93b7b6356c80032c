// NodeLists hands back one shared copy per distinct node list, and never a list that differs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { NodeLists } from '../../src/core/node-lists.ts';

const listArb = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 });

test('equal lists share one copy, and every shared copy equals the list asked for', () => {
  fc.assert(
    fc.property(fc.array(listArb, { maxLength: 40 }), (lists) => {
      const lists2 = new NodeLists();
      const firstSeen = new Map<string, readonly number[]>();
      for (const list of lists) {
        const got = lists2.shared([...list]);
        assert.deepEqual(got, list);
        const key = list.join(',');
        if (!firstSeen.has(key)) firstSeen.set(key, got);
        assert.equal(got, firstSeen.get(key));
      }
    }),
  );
});
