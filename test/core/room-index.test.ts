// The slot table's RoomIndex answers "from when has each node room for good" for every node at
// once, brought up to date only where the table changed: through any sequence of changes, and asked
// at instants that go back and forth, each answer must be the one a fresh look at the node's
// calendar gives (the linear scan it replaces).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { roomExplained, roomFromOn } from '../../src/core/calendar.ts';
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

// What the index keeps beside the answers, for the questions asked of all of them at once: how
// many are not simple, and, for the instant and node watched, how many answers are below the instant
// and how many nodes below the node have one at most the instant. Through any sequence of changes,
// queries and new watches, each must be what counting the fresh answers gives.
test('the counts RoomIndex keeps are those of the fresh answers', () => {
  let watched = 0;
  let counted = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.array(
        fc.tuple(changeArb, fc.option(fc.record({ later: fc.integer({ min: 0, max: 40 }), watch: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.record({ after: fc.integer({ min: 0, max: 60 }), limit: fc.nat({ max: 80 }) }), weight: 1 }) }), { freq: 2 })),
        { maxLength: 60 },
      ),
      (size, steps) => {
        const driver = new TableDriver(size);
        const { table } = driver;
        let watch: { at: number; limit: number } | null = null;
        for (const [change, query] of steps) {
          driver.apply(change);
          if (query === null) continue;
          const t = driver.now + query.later;
          const index = table.roomIndex(t, 1, 256);
          if (query.watch !== null) {
            watch = { at: t + query.watch.after, limit: query.watch.limit };
            index.watch(watch.at, watch.limit);
          }
          const fresh = Array.from({ length: size }, (_, n) => (table.fitsAtAll(n, 1, 256) ? roomFromOn(table.reservationsOn(n), table.nodes[n], t, 1, 256) : Infinity));
          assert.equal(index.notSimpleNodes, fresh.filter((a) => a === null).length, `not simple at ${t}`);
          if (watch === null) continue;
          // The counts are of the answers as kept (max(t, a) compares alike with an instant after t).
          const raw = Array.from(index.values);
          const below = raw.filter((v) => v < watch!.at).length;
          const early = raw.filter((v, n) => n < watch!.limit && v <= watch!.at).length;
          assert.equal(index.countBelow, below, `below ${watch.at}`);
          assert.equal(index.earlyBelow, early, `at most ${watch.at} below node ${watch.limit}`);
          if (watch.at > t) {
            assert.equal(below, fresh.filter((a) => a !== null && a < watch!.at).length);
            assert.equal(early, fresh.filter((a, n) => a !== null && n < watch!.limit && a <= watch!.at).length);
          }
          watched++;
          // Kept through changes rather than counted when watched.
          if (query.watch === null && below > 0 && early > 0) counted++;
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(watched > 800 && counted > 300, `only ${watched} watched queries, ${counted} kept through changes with both counts above 0`);
});

// A null answer of roomFromOn (room comes and goes, or a reservation could share the node) stays
// null, the calendar unchanged, at every later instant before the one roomExplained tells: the index
// keeps it that long without looking at the node again. For a gap, the front it tells is the answer
// with the reservation after the gap, and those after it, left out: what EASY's check takes for the
// room of its reservation's nodes without it.
test('roomExplained answers as roomFromOn; a null answer stays null until the instant it tells, and the front is the room before the gap', () => {
  let nulls = 0;
  let gaps = 0;
  const out = new Float64Array(2);
  fc.assert(
    fc.property(fc.array(changeArb, { maxLength: 30 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom(0.5, 1, 2), (changes, later, cpu) => {
      const driver = new TableDriver(6);
      const { table } = driver;
      for (const c of changes) driver.apply(c);
      for (let n = 0; n < 6; n++) {
        if (!table.fitsAtAll(n, cpu, 256)) continue;
        const cal = table.reservationsOn(n);
        const spec = table.nodes[n];
        const t = driver.now + later;
        const room = roomFromOn(cal, spec, t, cpu, 256);
        const explained = roomExplained(cal, spec, t, cpu, 256, out, 0);
        assert.equal(Number.isNaN(explained) ? null : explained, room, `node ${n} at ${t}`);
        if (room !== null) continue;
        nulls++;
        const [until, front] = out;
        assert.ok(until > t, `null at ${t} until ${until}`);
        for (let u = t; u < until && u < t + 200; u++) assert.equal(roomFromOn(cal, spec, u, cpu, 256), null, `node ${n} at ${u} (null at ${t} until ${until})`);
        if (Number.isNaN(front)) continue;
        gaps++;
        // Left out: what begins at or after the gap's end (the reservation there, those after it).
        const before = cal.filter((s) => s.start < until);
        assert.equal(roomFromOn(before, spec, t, cpu, 256), front, `node ${n} at ${t}: front`);
        assert.ok(front < until);
      }
    }),
    { numRuns: 1000 },
  );
  assert.ok(nulls > 300 && gaps > 100, `only ${nulls} null answers, ${gaps} for a gap`);
});
