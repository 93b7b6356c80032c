// The free profile keeps nodes free for good as bits and takes a node with an empty calendar as one
// without asking: through any sequence of changes to a table, its answers (and node choices made
// from it) must be those of the profile that asks the table node by node (the reference).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { chooseNodes, freeProfile, profileHolds } from '../../src/core/node-choice.ts';
import type { Segment } from '../../src/core/segment.ts';
import { SlotTable } from '../../src/core/slot-table.ts';
import * as ref from './support/reference-node-choice.ts';

const stepArb = fc.oneof(
  fc.record({ op: fc.constant('reserve' as const), start: fc.integer({ min: 0, max: 30 }), length: fc.integer({ min: 1, max: 40 }), first: fc.nat(), count: fc.integer({ min: 1, max: 40 }), cpu: fc.constantFrom(0.5, 1, 2) }),
  fc.record({ op: fc.constant('advance' as const), by: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ op: fc.constantFrom('release' as const, 'cut' as const), pick: fc.nat(), by: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ op: fc.constantFrom('close' as const, 'open' as const), node: fc.nat() }),
  fc.record({ op: fc.constant('prune' as const) }),
);

const askArb = fc.record({
    later: fc.integer({ min: 0, max: 30 }), cpu: fc.constantFrom(0.5, 1, 2), n: fc.integer({ min: 1, max: 50 }),
    fullLength: fc.integer({ min: 1, max: 50 }), minLength: fc.option(fc.integer({ min: 1, max: 30 })), holdLength: fc.integer({ min: 1, max: 50 }),
    eligibleMod: fc.option(fc.integer({ min: 2, max: 5 })), preferred: fc.option(fc.uniqueArray(fc.nat({ max: 79 }), { maxLength: 12 })), ignore: fc.boolean(),
});

test('the profile answers as the node-by-node reference through any changes to the table', () => {
  let asked = 0;
  let chosen = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.array(fc.tuple(stepArb, fc.option(askArb, { freq: 3 })), { maxLength: 40 }), (size, steps) => {
      const table = new SlotTable(Array.from({ length: size }, (_, i) => ({ id: `n${i}`, cpu: i % 3 === 0 ? 2 : 1, memoryMiB: 1024, diskMiB: 0 })));
      let now = 0;
      let lease = 0;
      const live: Segment[] = [];
      const settle = (): void => {
        for (const s of live) if (!s.removed && s.start <= now && s.end > now) table.activate(s);
        for (const s of live) if (s.active && s.end <= now) table.deactivate(s);
      };
      for (const [step, query] of steps) {
        if (step.op === 'reserve') {
          const start = now + step.start;
          const end = start + step.length;
          const nodes = Array.from({ length: Math.min(step.count, size) }, (_, k) => (step.first + k) % size).filter((n, k, all) => all.indexOf(n) === k).sort((a, b) => a - b);
          if (nodes.every((n) => table.freeUntil(n, start, step.cpu, 256, end) >= end)) live.push(table.reserve(`l${lease++}`, 'run', start, end, nodes, step.cpu, 256));
        } else if (step.op === 'advance') now += step.by;
        else if (step.op === 'release' || step.op === 'cut') {
          const open = live.filter((s) => !s.removed && s.end > now);
          if (open.length === 0) continue;
          const s = open[step.pick % open.length];
          if (step.op === 'cut') table.setEnd(s, Math.max(now, s.start + 1, s.end - step.by));
          else if (s.start > now) table.release(s);
        } else if (step.op === 'close') table.close(step.node % size);
        else if (step.op === 'open') table.open(step.node % size);
        else if (step.op === 'prune') table.prune(now);
        settle();
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
        if (want) chosen++;
      }
    }),
    { numRuns: 1500 },
  );
  assert.ok(asked > 3000 && chosen > 500, `only ${asked} asks and ${chosen} choices made`);
});
