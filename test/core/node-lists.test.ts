// NodeLists hands back one shared copy per distinct node list, and never a list that differs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { NodeLists, nodeListHashStep } from '../../src/core/node-lists.ts';

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

test('a list handed over again, or hashed by its caller as it went, gets the same shared copy as a fresh equal list', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(listArb, fc.constantFrom('fresh', 'again', 'hashed')), { maxLength: 40 }), (steps) => {
      const lists = new NodeLists();
      const firstSeen = new Map<string, readonly number[]>();
      let last: number[] | null = null;
      for (const [list, how] of steps) {
        const given: number[] = how === 'again' && last !== null ? last : [...list];
        let h = given.length;
        for (const n of given) h = nodeListHashStep(h, n);
        const got = how === 'hashed' ? lists.sharedByHash(given, h) : lists.shared(given);
        assert.deepEqual(got, given);
        const key = given.join(',');
        if (!firstSeen.has(key)) firstSeen.set(key, got);
        assert.equal(got, firstSeen.get(key), 'one copy per distinct list');
        last = given;
      }
    }),
  );
});
