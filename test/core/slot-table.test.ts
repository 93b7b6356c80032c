// SlotTable's calendar queries against a brute-force model: per-second usage arrays over a
// small horizon (every reservation ends by HORIZON; after it every node is empty).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { SlotTable } from '../../src/core/slot-table.ts';
import type { NodeSpec } from '../../src/core/types.ts';
import { NODE_CPUS, NODE_MEMORIES } from './support/generators.ts';

const HORIZON = 80;
const LEASES = ['a', 'b', 'c', 'd', 'e'] as const;

interface Res {
  leaseId: string;
  start: number;
  end: number;
  nodes: number[];
  cpu: number;
  memoryMiB: number;
}

interface Table {
  nodes: NodeSpec[];
  reservations: Res[];
}

/** A few nodes and reservations that respect capacity (as the scheduler keeps them), all ending by HORIZON. */
const tableArb: fc.Arbitrary<Table> = fc
  .record({
    shapes: fc.array(fc.tuple(fc.constantFrom(...NODE_CPUS), fc.constantFrom(...NODE_MEMORIES)), { minLength: 1, maxLength: 4 }),
    wanted: fc.array(
      fc.record({
        leaseId: fc.constantFrom(...LEASES),
        start: fc.integer({ min: 0, max: HORIZON - 2 }),
        length: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 40 })),
        nodeMask: fc.integer({ min: 1, max: 15 }),
        cpu: fc.constantFrom(0.5, 0.5, 1, 1, 2, 4),
        memoryMiB: fc.constantFrom(256, 512, 512, 1024, 1024, 2048, 4096),
      }),
      { maxLength: 20, size: 'max' },
    ),
  })
  .map(({ shapes, wanted }) => {
    const nodes = shapes.map(([cpu, memoryMiB], i) => ({ id: `n${i + 1}`, cpu, memoryMiB, diskMiB: 0 }));
    const reservations: Res[] = [];
    for (const w of wanted) {
      const r: Res = {
        leaseId: w.leaseId, start: w.start, end: Math.min(HORIZON, w.start + w.length),
        nodes: nodes.map((_, i) => i).filter((i) => (w.nodeMask >> i) & 1), cpu: w.cpu, memoryMiB: w.memoryMiB,
      };
      if (r.nodes.length === 0) continue;
      const ok = r.nodes.every((n) => {
        for (let s = r.start; s < r.end; s++) {
          const [c, m] = usageAt([...reservations, r], n, s);
          if (c > nodes[n].cpu || m > nodes[n].memoryMiB) return false;
        }
        return true;
      });
      if (ok) reservations.push(r);
    }
    return { nodes, reservations };
  });

function usageAt(reservations: readonly Res[], n: number, s: number, ignore?: ReadonlySet<string>, ignoreFrom = -Infinity): [number, number] {
  let c = 0;
  let m = 0;
  for (const r of reservations) {
    if (!r.nodes.includes(n) || s < r.start || s >= r.end) continue;
    if (ignore?.has(r.leaseId) && s >= ignoreFrom) continue;
    c += r.cpu;
    m += r.memoryMiB;
  }
  return [c, m];
}

function fitsAt(t: Table, n: number, s: number, cpu: number, mem: number, ignore?: ReadonlySet<string>, ignoreFrom?: number): boolean {
  const [c, m] = usageAt(t.reservations, n, s, ignore, ignoreFrom);
  return c + cpu <= t.nodes[n].cpu && m + mem <= t.nodes[n].memoryMiB;
}

function build(t: Table): SlotTable {
  const table = new SlotTable(t.nodes);
  for (const r of t.reservations) table.reserve(r.leaseId, 'run', r.start, r.end, r.nodes, r.cpu, r.memoryMiB);
  return table;
}

/** Mostly requests that fit a node, now and then one that fits no node. */
const requestArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ cpu: fc.constantFrom(0.5, 1), mem: fc.constantFrom(256, 512, 1024) }) },
  { weight: 1, arbitrary: fc.record({ cpu: fc.constantFrom(0.5, 1, 2, 4, 8), mem: fc.constantFrom(256, 1024, 4096, 8192) }) },
);

test('freeUntil matches a per-second brute force (with and without ignored leases)', () => {
  fc.assert(
    fc.property(
      tableArb, requestArb, fc.nat(), fc.integer({ min: 0, max: HORIZON + 5 }), fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant(Infinity)),
      fc.option(fc.record({ ids: fc.subarray([...LEASES]), from: fc.integer({ min: 0, max: HORIZON }) }), { nil: null }),
      (t, { cpu, mem }, pick, at, span, ign) => {
        const n = pick % t.nodes.length;
        const horizon = at + span;
        const ignore = ign ? new Set(ign.ids) : undefined;
        const ignoreFrom = ign ? ign.from : undefined;
        let expected: number;
        if (!fitsAt(t, n, at, cpu, mem, ignore, ignoreFrom)) expected = at;
        else {
          expected = horizon;
          for (let s = at + 1; s < Math.min(horizon, HORIZON); s++) {
            if (!fitsAt(t, n, s, cpu, mem, ignore, ignoreFrom)) {
              expected = s;
              break;
            }
          }
        }
        const got = build(t).freeUntil(n, at, cpu, mem, horizon, ignore, ignoreFrom);
        assert.equal(got, expected, `node ${n} from ${at} to ${horizon}, request ${cpu}/${mem}`);
      },
    ),
    { numRuns: 1500 },
  );
});

test('freeWindows matches the maximal free runs of a per-second brute force', () => {
  fc.assert(
    fc.property(tableArb, requestArb, fc.nat(), fc.integer({ min: 0, max: HORIZON + 5 }), (t, { cpu, mem }, pick, from) => {
      const n = pick % t.nodes.length;
      const expected: Array<[number, number]> = [];
      if (cpu <= t.nodes[n].cpu && mem <= t.nodes[n].memoryMiB) {
        let open: number | null = null;
        const last = Math.max(from, HORIZON);
        for (let s = from; s <= last; s++) {
          const free = fitsAt(t, n, s, cpu, mem);
          if (free && open === null) open = s;
          if (!free && open !== null) {
            expected.push([open, s]);
            open = null;
          }
        }
        expected.push([open!, Infinity]); // at `last` every node is empty
      }
      assert.deepEqual(build(t).freeWindows(n, from, cpu, mem), expected, `node ${n} from ${from}, request ${cpu}/${mem}`);
    }),
    { numRuns: 1500 },
  );
});

test('earliestWindow matches a brute-force search for the first start with k nodes free for the length', () => {
  fc.assert(
    fc.property(
      tableArb, requestArb, fc.nat(), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: HORIZON }),
      fc.option(fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: HORIZON + 10 }) }, { weight: 1, arbitrary: fc.constant(Infinity) }), { minLength: 4, maxLength: 4 }), { nil: null }),
      (t, { cpu, mem }, pickK, length, from, nbs) => {
        const k = 1 + (pickK % t.nodes.length);
        const notBefore = nbs ? (i: number) => nbs[i] : undefined;
        const finite = nbs ? nbs.filter((x) => x !== Infinity) : [];
        const last = Math.max(HORIZON, from, ...finite);
        let expected = Infinity;
        for (let s = from; s <= last; s++) {
          let count = 0;
          for (let i = 0; i < t.nodes.length; i++) {
            if (notBefore && s < notBefore(i)) continue;
            let ok = true;
            for (let x = s; x < s + length && ok; x++) ok = fitsAt(t, i, x, cpu, mem);
            if (ok) count++;
          }
          if (count >= k) {
            expected = s;
            break;
          }
        }
        const got = build(t).earliestWindow(k, cpu, mem, length, from, { notBefore });
        assert.equal(got, expected, `k=${k} length=${length} from=${from} notBefore=${JSON.stringify(nbs)} request ${cpu}/${mem}`);
      },
    ),
    { numRuns: 1000 },
  );
});

test('released reservations no longer count; leasesOverlapping lists the leases on a node in a window', () => {
  const table = new SlotTable([{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }]);
  const a = table.reserve('a', 'run', 0, 10, [0], 1, 512);
  table.reserve('b', 'run', 10, 20, [0], 1, 512);
  assert.equal(table.freeUntil(0, 0, 1, 512, 30), 0);
  assert.deepEqual(table.leasesOverlapping(0, 5, 15), ['a', 'b']);
  assert.deepEqual(table.leasesOverlapping(0, 10, 15), ['b']);
  table.release(a);
  assert.equal(table.freeUntil(0, 0, 1, 512, 30), 10);
  assert.deepEqual(table.leasesOverlapping(0, 0, 10), []);
});

test('usage now follows activate/deactivate: fitsNow and nodesNotFullNow', () => {
  const table = new SlotTable([
    { id: 'n1', cpu: 2, memoryMiB: 2048, diskMiB: 0 },
    { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 0 },
  ]);
  assert.equal(table.nodesNotFullNow, 2);
  const half = table.reserve('a', 'run', 0, 10, [0, 1], 1, 512);
  assert.equal(table.fitsNow(1, 1, 1024), true, 'a reservation not yet active does not count now');
  table.activate(half);
  assert.equal(table.nodesNotFullNow, 1, 'n2 is full by cpu');
  assert.equal(table.fitsNow(0, 1, 1536), true);
  assert.equal(table.fitsNow(0, 1, 1537), false);
  assert.equal(table.fitsNow(1, 0.5, 0), false);
  table.activate(half); // idempotent
  table.deactivate(half);
  assert.equal(table.nodesNotFullNow, 2);
  assert.equal(table.fitsNow(1, 1, 1024), true);
});

test('roomForGoodFrom, when it answers, is where the node stops being busy for good (per-second brute force)', () => {
  let answered = 0;
  fc.assert(
    fc.property(tableArb, requestArb, fc.nat(), fc.integer({ min: 0, max: HORIZON }), fc.constantFrom(...LEASES, 'none'), (t, { cpu, mem }, pick, at, skip) => {
      const n = pick % t.nodes.length;
      const got = build(t).roomForGoodFrom(n, at, cpu, mem, skip);
      if (got === null) return;
      answered++;
      if (got === Infinity) {
        assert.ok(cpu > t.nodes[n].cpu || mem > t.nodes[n].memoryMiB, `node ${n} can hold ${cpu}/${mem}, yet never has room`);
        return;
      }
      const ignore = new Set([skip]);
      for (let s = at; s <= HORIZON; s++) assert.equal(fitsAt(t, n, s, cpu, mem, ignore), s >= got, `node ${n} at ${s}: room from ${got} on, request ${cpu}/${mem}`);
    }),
    { numRuns: 1500 },
  );
  assert.ok(answered > 300, `only ${answered} answers`);
});

test('the table\'s counters follow its changes: nodes not full now, reservations still to begin, capacity given back, version', () => {
  fc.assert(
    fc.property(tableArb, fc.array(fc.nat(), { maxLength: 30 }), (t, ops) => {
      const table = new SlotTable(t.nodes);
      const segs = t.reservations.map((r) => table.reserve(r.leaseId, 'run', r.start, r.end, r.nodes, r.cpu, r.memoryMiB));
      table.forgetFreed();
      let freed = -Infinity;
      const begun = new Set<object>();
      for (const op of ops) {
        const seg = segs[op % Math.max(1, segs.length)];
        const before = table.version;
        const what = (op >> 4) % 5;
        if (what === 4) {
          const n = op % t.nodes.length;
          if (table.isOpen(n)) table.close(n);
          else {
            table.open(n);
            freed = Infinity;
          }
        } else if (!seg) continue;
        else if (what === 0) {
          table.activate(seg);
          if (!seg.removed) begun.add(seg);
        }
        else if (what === 1) table.deactivate(seg);
        else if (what === 2 && !seg.removed) {
          freed = Math.max(freed, seg.end);
          table.release(seg);
        } else if (what === 3 && !seg.removed && seg.end - 1 > seg.start) {
          freed = Math.max(freed, seg.end);
          table.setEnd(seg, seg.end - 1);
        } else continue;
        assert.ok(table.version >= before);
        const notFull = t.nodes.map((_, n) => n).filter((n) => !table.isFullNow(n));
        const walked: number[] = [];
        for (let n = table.nextNotFullNow(0); n >= 0; n = table.nextNotFullNow(n + 1)) walked.push(n);
        assert.deepEqual(walked, notFull);
        assert.equal(table.nodesNotFullNow, notFull.length);
        assert.equal(table.pendingReservations, segs.filter((s) => !begun.has(s) && !s.removed).length);
        assert.equal(table.freedUntil, freed);
      }
    }),
    { numRuns: 500 },
  );
});

test('as the clock moves on and reservations end at their ends, what the table remembers answers as a table holding only what has not ended', () => {
  // deactivate does not stamp the nodes of a reservation that ends at its end: the memos, the RoomIndex and the free profile must not notice.
  const askArb = fc.record({ pick: fc.nat(), later: fc.integer({ min: 0, max: 10 }), request: requestArb });
  fc.assert(
    fc.property(tableArb, fc.array(fc.record({ step: fc.integer({ min: 0, max: 12 }), asks: fc.array(askArb, { maxLength: 6 }) }), { maxLength: 12 }), (t, moves) => {
      const table = new SlotTable(t.nodes);
      const segs = t.reservations.map((r) => table.reserve(r.leaseId, 'run', r.start, r.end, r.nodes, r.cpu, r.memoryMiB));
      const ended = new Set<object>();
      let now = 0;
      const tick = (at: number): void => {
        // As applyBoundaries does: what ends at `at` ends before what starts then.
        for (const seg of segs) if (seg.active && seg.end === at) {
          table.deactivate(seg);
          ended.add(seg);
        }
        for (const seg of segs) if (!seg.active && !ended.has(seg) && seg.start === at) table.activate(seg);
      };
      tick(0);
      for (const { step, asks } of moves) {
        for (let at = now + 1; at <= now + step; at++) tick(at);
        now += step;
        const fresh = new SlotTable(t.nodes);
        for (const seg of segs) if (!ended.has(seg)) fresh.reserve(seg.leaseId, 'run', seg.start, seg.end, seg.nodes, seg.cpu, seg.memoryMiB);
        for (const { pick, later, request: { cpu, mem } } of asks) {
          const n = pick % t.nodes.length;
          const at = now + later;
          const room = fresh.roomForGoodFrom(n, at, cpu, mem);
          assert.equal(table.roomForGoodFrom(n, at, cpu, mem), room, `roomForGoodFrom(${n}, ${at}) at ${now}`);
          assert.equal(table.freeUntil(n, at, cpu, mem, Infinity), fresh.freeUntil(n, at, cpu, mem, Infinity), `freeUntil(${n}, ${at}) at ${now}`);
          const v = table.roomFrom(at, cpu, mem)[n];
          assert.equal(Number.isNaN(v) ? null : Math.max(at, v), room, `roomFrom(${at})[${n}] at ${now}`);
        }
      }
    }),
    { numRuns: 1000 },
  );
});

test('a reservation made to begin now is the reservation made and then activated', () => {
  fc.assert(
    fc.property(tableArb, fc.array(fc.boolean(), { maxLength: 20 }), (t, begins) => {
      const fused = new SlotTable(t.nodes);
      const apart = new SlotTable(t.nodes);
      t.reservations.forEach((r, i) => {
        const now = begins[i] ?? false;
        fused.reserve(r.leaseId, 'run', r.start, r.end, r.nodes, r.cpu, r.memoryMiB, now);
        const seg = apart.reserve(r.leaseId, 'run', r.start, r.end, r.nodes, r.cpu, r.memoryMiB);
        if (now) apart.activate(seg);
      });
      assert.equal(fused.version, apart.version);
      assert.equal(fused.pendingReservations, apart.pendingReservations);
      assert.equal(fused.nodesNotFullNow, apart.nodesNotFullNow);
      t.nodes.forEach((_, n) => {
        assert.equal(fused.isFullNow(n), apart.isFullNow(n));
        assert.deepEqual(fused.reservationsOn(n).map((s) => [s.seq, s.active]), apart.reservationsOn(n).map((s) => [s.seq, s.active]));
        for (const [cpu, mem] of [[0.5, 256], [1, 1024], [2, 2048]]) assert.equal(fused.fitsNow(n, cpu, mem), apart.fitsNow(n, cpu, mem));
      });
    }),
    { numRuns: 500 },
  );
});
