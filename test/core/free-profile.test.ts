// The free profile keeps nodes free for good as bits and takes a node with an empty calendar as one
// without asking: through any sequence of changes to a table, its answers (and node choices made
// from it) must be those of the profile that asks the table node by node (the reference), also
// when the profile is one reused from earlier asks, or one of the current instant followed from
// step to step (looking again only at the words of nodes that changed).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { type FreeProfile, freeProfile, profileHolds } from '../../src/core/free-profile.ts';
import { chooseAmong, chooseNodes } from '../../src/core/node-choice.ts';
import { SlotTable } from '../../src/core/slot-table.ts';
import * as ref from './support/reference-node-choice.ts';
import { changeArb, TableDriver } from './support/table-changes.ts';

const askArb = fc.record({
  later: fc.integer({ min: 0, max: 30 }), cpu: fc.constantFrom(0.5, 1, 2), n: fc.integer({ min: 1, max: 50 }),
  fullLength: fc.integer({ min: 1, max: 50 }), minLength: fc.option(fc.integer({ min: 1, max: 30 })), holdLength: fc.integer({ min: 1, max: 50 }),
  eligibleMod: fc.option(fc.integer({ min: 2, max: 5 })), preferred: fc.option(fc.uniqueArray(fc.nat({ max: 79 }), { maxLength: 12 })), ignore: fc.boolean(),
});

test('the profile answers as the node-by-node reference through any changes to the table', () => {
  let asked = 0;
  let chosen = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.array(fc.tuple(changeArb, fc.option(askArb, { freq: 3 })), { maxLength: 40 }), (size, steps) => {
      const driver = new TableDriver(size);
      const { table } = driver;
      let kept: FreeProfile | null = null;
      for (const [change, query] of steps) {
        driver.apply(change);
        const now = driver.now;
        const lease = driver.leases;
        if (query === null) continue;
        asked++;
        const t = now + query.later;
        const eligible = query.eligibleMod === null ? undefined : (i: number) => i % query.eligibleMod! !== 0;
        const ignore = query.ignore && lease > 0 ? new Set([`l${lease - 1}`]) : undefined;
        const ask = { t, cpu: query.cpu, memoryMiB: 256, eligible, onlyFreeNow: t === now && ignore === undefined, ignore, ignoreFrom: ignore ? t : undefined };
        assert.equal(profileHolds(freeProfile(table, ask), query.n, query.holdLength), ref.profileHolds(ref.freeProfile(table, ask), query.n, query.holdLength));
        const nodeAsk = { n: query.n, fullLength: query.fullLength, minLength: query.minLength, preferred: query.preferred?.filter((i) => i < size) };
        const want = ref.chooseNodes(ref.freeProfile(table, ask), nodeAsk);
        assert.deepEqual(chooseNodes(freeProfile(table, ask), nodeAsk), want);
        // A profile made for other asks, at other versions of the table, and reused for this one answers alike.
        kept = kept === null ? freeProfile(table, ask) : kept.reuse(ask);
        assert.equal(profileHolds(kept, query.n, query.holdLength), ref.profileHolds(ref.freeProfile(table, ask), query.n, query.holdLength));
        assert.deepEqual(chooseNodes(kept.reuse(ask), nodeAsk), want);
        if (want) chosen++;
      }
    }),
    { numRuns: 1500 },
  );
  assert.ok(asked > 3000 && chosen > 500, `only ${asked} asks and ${chosen} choices made`);
});

const nowAskArb = fc.record({
  cpu: fc.constantFrom(0.5, 1, 2), n: fc.integer({ min: 1, max: 50 }), fullLength: fc.integer({ min: 1, max: 50 }),
  minLength: fc.option(fc.integer({ min: 1, max: 30 })), holdLength: fc.integer({ min: 1, max: 50 }),
  preferred: fc.option(fc.uniqueArray(fc.nat({ max: 79 }), { maxLength: 12 })), whole: fc.boolean(), probe: fc.nat({ max: 79 }),
});

test('a profile of the current instant followed through any changes answers as one made anew', () => {
  let asked = 0;
  let chosen = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.array(fc.tuple(changeArb, fc.option(nowAskArb, { freq: 3 })), { maxLength: 50 }), (size, steps) => {
      const driver = new TableDriver(size);
      const { table } = driver;
      const followed = new Map<number, FreeProfile>();
      for (const [change, query] of steps) {
        driver.apply(change);
        if (query === null) continue;
        asked++;
        const now = driver.now;
        const ask = { t: now, cpu: query.cpu, memoryMiB: 256, onlyFreeNow: true };
        const kept = followed.get(query.cpu)?.follow(now) ?? freeProfile(table, ask);
        followed.set(query.cpu, kept);
        const fresh = () => ref.freeProfile(table, ask);
        assert.equal(kept.t, now);
        assert.equal(profileHolds(kept, query.n, query.holdLength), ref.profileHolds(fresh(), query.n, query.holdLength));
        const nodeAsk = { n: query.n, fullLength: query.fullLength, minLength: query.minLength, preferred: query.preferred?.filter((i) => i < size) };
        const want = ref.chooseNodes(fresh(), nodeAsk);
        assert.deepEqual(chooseNodes(kept, nodeAsk), want);
        const home = [...new Set(nodeAsk.preferred ?? [])].sort((a, b) => a - b);
        if (home.length > 0) {
          const wantAmong = ref.chooseNodes(ref.freeProfile(table, { ...ask, eligible: (i) => home.includes(i) }), { ...nodeAsk, preferred: home });
          assert.deepEqual(chooseAmong(kept, home, { n: query.n, fullLength: query.fullLength, minLength: query.minLength }), wantAmong);
        }
        // Sometimes read whole, so that the words looked at are all kept to the next step; else only as far as the asks went.
        if (query.whole) {
          const probe = query.probe % size;
          assert.equal(kept.untilIn(probe), fresh().untilOf(probe));
          const limited = kept.limited();
          const reference = fresh();
          reference.fill(Infinity);
          const wantLimited = reference.nodes.map((node, k) => ({ node, until: reference.until[k] })).filter((e) => e.until !== Infinity);
          assert.deepEqual(limited.nodes.slice(0, limited.count).map((node, k) => ({ node, until: limited.until[k] })), wantLimited);
        }
        if (want) chosen++;
      }
    }),
    { numRuns: 1500 },
  );
  assert.ok(asked > 3000 && chosen > 500, `only ${asked} asks and ${chosen} choices made`);
});

test('a followed profile looks again at a node its calendar held back once that time has passed, though nothing changed', () => {
  // A reservation not yet begun (not counted in the usage now) keeps node 0 from taking the request at 0, not at 10.
  const table = new SlotTable([0, 1].map((i) => ({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 })));
  table.reserve('l0', 'run', 0, 10, [0], 1, 256);
  table.reserve('l1', 'run', 0, 5, [1], 1, 256);
  const profile = freeProfile(table, { t: 0, cpu: 1, memoryMiB: 256, onlyFreeNow: true });
  assert.equal(profile.untilIn(0), null);
  assert.equal(profile.follow(10).untilIn(0), Infinity);
  assert.equal(profile.untilIn(1), Infinity);
});

test('n nodes hold the shortest acceptable chain exactly when chooseNodes finds n nodes (what lets a lease not resuming skip windowAtLeast)', () => {
  let found = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.array(fc.tuple(changeArb, fc.option(askArb, { freq: 3 })), { maxLength: 40 }), (size, steps) => {
      const driver = new TableDriver(size);
      for (const [change, query] of steps) {
        driver.apply(change);
        if (query === null) continue;
        const t = driver.now + query.later;
        const eligible = query.eligibleMod === null ? undefined : (i: number) => i % query.eligibleMod! !== 0;
        const ask = { t, cpu: query.cpu, memoryMiB: 256, eligible, onlyFreeNow: t === driver.now };
        const shortest = query.minLength === null ? query.fullLength : Math.min(query.fullLength, query.minLength);
        const holds = profileHolds(freeProfile(driver.table, ask), query.n, shortest);
        assert.equal(chooseNodes(freeProfile(driver.table, ask), { n: query.n, fullLength: query.fullLength, minLength: query.minLength }) !== null, holds);
        if (holds) found++;
        else refused++;
      }
    }),
    { numRuns: 1000 },
  );
  assert.ok(found > 300 && refused > 300, `only ${found} found and ${refused} refused`);
});
