// chooseAmong is chooseNodes for a suspended lease that stays where its memory is (only its home
// nodes may be chosen, each preferred), found from those nodes alone: both must always agree, also
// when the profile has already looked at some nodes (and answers from what it holds).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { freeProfile } from '../../src/core/free-profile.ts';
import { chooseAmong, chooseNodes } from '../../src/core/node-choice.ts';
import { SlotTable } from '../../src/core/slot-table.ts';

const caseArb = fc.record({
  nodes: fc.integer({ min: 1, max: 7 }),
  reservations: fc.array(fc.record({ node: fc.nat(), start: fc.integer({ min: 0, max: 40 }), length: fc.integer({ min: 1, max: 40 }), cpu: fc.constantFrom(0.5, 1) }), { maxLength: 14 }),
  t: fc.integer({ min: 0, max: 50 }),
  n: fc.integer({ min: 1, max: 4 }),
  fullLength: fc.integer({ min: 1, max: 30 }),
  minLength: fc.option(fc.integer({ min: 1, max: 20 })),
  home: fc.uniqueArray(fc.nat({ max: 6 }), { minLength: 1, maxLength: 5 }),
  cpu: fc.constantFrom(0.5, 1),
  readFirst: fc.integer({ min: 0, max: 8 }),
});

test('chooseAmong answers what chooseNodes answers with the home nodes eligible and preferred', () => {
  let chosen = 0;
  fc.assert(
    fc.property(caseArb, (c) => {
      const table = new SlotTable(Array.from({ length: c.nodes }, (_, i) => ({ id: `n${i + 1}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 })));
      for (const r of c.reservations) {
        const n = r.node % c.nodes;
        if (table.freeUntil(n, r.start, r.cpu, 256, r.start + r.length) >= r.start + r.length) table.reserve('x', 'run', r.start, r.start + r.length, [n], r.cpu, 256);
      }
      const home = c.home.filter((i) => i < c.nodes);
      if (home.length === 0) return;
      const ask = { t: c.t, cpu: c.cpu, memoryMiB: 256, onlyFreeNow: false };
      const set = new Set(home);
      const want = chooseNodes(freeProfile(table, ask), { n: c.n, fullLength: c.fullLength, minLength: c.minLength, eligible: (i) => set.has(i), preferred: home });
      const got = chooseAmong(freeProfile(table, ask), home, { n: c.n, fullLength: c.fullLength, minLength: c.minLength });
      assert.deepEqual(got, want);
      const read = freeProfile(table, ask);
      read.fill(c.readFirst);
      assert.deepEqual(chooseAmong(read, home, { n: c.n, fullLength: c.fullLength, minLength: c.minLength }), want);
      if (want) chosen++;
    }),
    { numRuns: 2000 },
  );
  assert.ok(chosen > 200, `only ${chosen} choices made`);
});
