// The slot table's RoomIndex answers "from when has each node room for good" for every node at
// once, brought up to date only where the table changed: through any sequence of changes, and asked
// at instants that go back and forth, each answer must be the one a fresh look at the node's
// calendar gives (the linear scan it replaces).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { roomFromOn } from '../../src/core/calendar.ts';
import { changeArb, TableDriver } from './support/table-changes.ts';

test('roomFrom answers, node by node, what the calendar says now', () => {
  let simple = 0;
  let notSimple = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.array(fc.tuple(changeArb, fc.option(fc.record({ later: fc.integer({ min: 0, max: 40 }), cpu: fc.constantFrom(0.5, 1, 2) }), { freq: 2 })), { maxLength: 40 }),
      (size, steps) => {
        const driver = new TableDriver(size);
        const { table } = driver;
        for (const [change, query] of steps) {
          driver.apply(change);
          if (query === null) continue;
          const t = driver.now + query.later;
          const room = table.roomFrom(t, query.cpu, 256);
          for (let n = 0; n < size; n++) {
            const fresh: number | null = table.fitsAtAll(n, query.cpu, 256) ? roomFromOn(table.reservationsOn(n), table.nodes[n], t, query.cpu, 256) : Infinity;
            const v = room[n];
            const got = Number.isNaN(v) ? null : Math.max(t, v);
            assert.equal(got, fresh, `node ${n} at ${t}`);
            if (fresh === null) notSimple++;
            else simple++;
          }
        }
      },
    ),
    { numRuns: 800 },
  );
  assert.ok(simple > 10_000 && notSimple > 1_000, `only ${simple} simple and ${notSimple} other answers`);
});
