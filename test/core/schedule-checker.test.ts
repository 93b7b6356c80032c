// The schedule checker itself: it accepts a sound hand-made export and flags each kind of
// broken one, so that "no violations" in the property tests means something.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { runScenario, violationsOf } from './support/run.ts';
import { checkSchedule } from './support/schedule-checker.ts';

type Seg = { start: number; end: number; nodes: string[]; kind: string };
type Line = Record<string, unknown> & { id: string; segments: Seg[] };

const header = { format: 'vws.schedule/v1', nodes: ['n1', 'n2', 'n3', 'n4'].map((id) => ({ id, cpu: 1, memoryMiB: 1024 })) };

function lease(id: string, fields: Record<string, unknown>, segments: Seg[]): Line {
  return {
    id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, realDuration: 100, nodes: 1, cpu: 1, memoryMiB: 1024,
    outcome: 'completed', ...fields, segments,
  };
}
const seg = (start: number, end: number, nodes: string[], kind = 'run'): Seg => ({ start, end, nodes, kind });

/** A sound schedule: a suspended and migrated best-effort lease, a reservation, a rejection, a re-queued lease, an immediate lease. */
function sound(): Line[] {
  return [
    lease('1', { arrival: 100, duration: 3600, realDuration: 1800, nodes: 2 }, [
      seg(120, 900, ['n1', 'n2']),
      seg(900, 941, ['n1', 'n2'], 'suspend'),
      seg(5000, 5041, ['n3', 'n4'], 'migrate'),
      seg(5041, 5082, ['n3', 'n4'], 'resume'),
      seg(5082, 6102, ['n3', 'n4']),
    ]),
    lease('2', { kind: 'exact', arrival: 200, requestedStart: 1000, duration: 500, realDuration: 500, nodes: 2 }, [
      seg(990, 1000, ['n1', 'n2'], 'boot'),
      seg(1000, 1500, ['n1', 'n2']),
      seg(1500, 1510, ['n1', 'n2'], 'shutdown'),
    ]),
    lease('3', { kind: 'exact', arrival: 200, requestedStart: 1000, duration: 500, nodes: 4, outcome: 'rejected', reason: 'insufficient-capacity' }, []),
    lease('4/attempt-1', { outcome: 'cancelled', requeued: true }, [seg(0, 50, ['n3'])]),
    lease('4', {}, [seg(50, 150, ['n3'])]),
    lease('5', { kind: 'immediate', arrival: 300 }, [seg(300, 400, ['n4'])]),
    // Two half-node leases share n4 later; one ends exactly where the other starts on n3.
    lease('6', { cpu: 0.5, memoryMiB: 512 }, [seg(400, 500, ['n4'])]),
    lease('7', { cpu: 0.5, memoryMiB: 512 }, [seg(400, 500, ['n4'])]),
    lease('8', { arrival: 150 }, [seg(150, 250, ['n3'])]),
  ];
}

function exportOf(lines: Line[], head: object = header): string[] {
  return [JSON.stringify(head), ...lines.map((l) => JSON.stringify(l))];
}

function check(lines: Line[], runtimeOverheadPercent = 0): string[] {
  return checkSchedule(exportOf(lines), { runtimeOverheadPercent, drained: true });
}

/** Applies `mutate` to a copy of the sound schedule and expects a violation matching `pattern`. */
function flags(pattern: RegExp, mutate: (lines: Line[]) => void, runtimeOverheadPercent = 0): void {
  const lines = structuredClone(sound());
  mutate(lines);
  const found = check(lines, runtimeOverheadPercent);
  assert.ok(found.some((v) => pattern.test(v)), `expected a violation matching ${pattern}, got ${JSON.stringify(found)}`);
}

const byId = (lines: Line[], id: string): Line => lines.find((l) => l.id === id)!;

test('a sound hand-made export has no violations', () => {
  assert.deepEqual(check(sound()), []);
});

test('over-committed cpu on a node is flagged, with the instant', () => {
  flags(/node n1: over capacity at t=1200/, (ls) => ls.push(lease('9', { arrival: 1200 }, [seg(1200, 1300, ['n1'])])));
});

test('over-committed memory alone is flagged', () => {
  flags(/node n4: over capacity at t=450: cpu 1\/1, memory 1536\/1024/, (ls) => ls.push(lease('9', { arrival: 450, cpu: 0, memoryMiB: 512 }, [seg(450, 460, ['n4'])])));
});

test('a segment that starts where another ends on the same node is not an over-commitment', () => {
  const lines = sound();
  lines.push(lease('9', { arrival: 1500 }, [seg(1510, 1610, ['n1'])]));
  assert.deepEqual(check(lines), []);
});

test('a segment before the lease arrives is flagged', () => {
  flags(/lease 5: run \[299, 399\): starts before the lease's arrival 300/, (ls) => (byId(ls, '5').segments = [seg(299, 399, ['n4'])]));
});

test('segments must list exactly `nodes` distinct header nodes', () => {
  flags(/lease 1: run \[120, 900\): lists 1 nodes/, (ls) => (byId(ls, '1').segments[0].nodes = ['n1']));
  flags(/lists 2 nodes \(1 distinct\)/, (ls) => (byId(ls, '1').segments[0].nodes = ['n1', 'n1']));
  flags(/node n9 is not in the header/, (ls) => (byId(ls, '5').segments[0].nodes = ['n9']));
});

test('a reservation must run from its requested start, in one piece, for its whole duration', () => {
  flags(/reservation for 1000 starts running at 1001/, (ls) => (byId(ls, '2').segments[1] = seg(1001, 1501, ['n1', 'n2'])));
  flags(/reservation runs in 2 run segments/, (ls) => byId(ls, '2').segments.splice(1, 1, seg(1000, 1200, ['n1', 'n2']), seg(1300, 1600, ['n1', 'n2'])));
  flags(/lease 2: ran 499 s/, (ls) => (byId(ls, '2').segments[1] = seg(1000, 1499, ['n1', 'n2'])));
});

test('a completed lease must run exactly min(realDuration, duration), stretched by the runtime overhead for best-effort', () => {
  flags(/lease 1: ran 1799 s in 2 run segments, should run exactly 1800 s/, (ls) => (byId(ls, '1').segments[4].end = 6101));
  flags(/lease 1: ran 1800 s in 2 run segments, should run exactly 1980 s/, () => {}, 10);
  // With 10 % overhead the best-effort leases stretch (1800 -> 1980, 100 -> 110); the reservation and the immediate lease do not.
  const stretched = sound();
  byId(stretched, '1').segments[4].end = 6102 + 180;
  byId(stretched, '4').segments[0].end = 160;
  for (const id of ['6', '7']) byId(stretched, id).segments[0].end += 10;
  byId(stretched, '8').segments[0] = seg(160, 270, ['n3']);
  assert.deepEqual(check(stretched, 10), []);
});

test('a rejected lease has no segments', () => {
  flags(/lease 3: rejected but has 1 segments/, (ls) => (byId(ls, '3').segments = [seg(2000, 2100, ['n1', 'n2', 'n3', 'n4'])]));
});

test('a suspend segment directly follows a run, a resume is directly followed by a run', () => {
  flags(/lease 1: suspend \[950, 991\) does not directly follow a run/, (ls) => (byId(ls, '1').segments[1] = seg(950, 991, ['n1', 'n2'], 'suspend')));
  flags(/lease 1: suspend .* does not directly follow a run on the same nodes/, (ls) => (byId(ls, '1').segments[1].nodes = ['n3', 'n4']));
  flags(/lease 1: resume \[5041, 5082\) is not directly followed by a run/, (ls) => {
    const l = byId(ls, '1');
    l.segments[4] = seg(5090, 6110, ['n3', 'n4']);
  });
  flags(/resume .* is not directly followed by a run .*after it: nothing/, (ls) => byId(ls, '1').segments.splice(4, 1));
});

test("a lease's segments do not overlap in time", () => {
  flags(/lease 2: boot \[990, 1001\) and run \[1000, 1500\) overlap/, (ls) => (byId(ls, '2').segments[0].end = 1001));
});

test('outcomes: only ID/attempt-K records may be cancelled; a drained run leaves nothing unfinished', () => {
  flags(/lease 5: outcome cancelled on a lease's own line/, (ls) => (byId(ls, '5').outcome = 'cancelled'));
  flags(/lease 4\/attempt-1: an attempt record with outcome completed/, (ls) => (byId(ls, '4/attempt-1').outcome = 'completed'));
  flags(/lease 5: outcome queued after the simulation drained/, (ls) => (byId(ls, '5').outcome = 'queued'));
  flags(/attempt records numbered 2, not 1..1/, (ls) => (byId(ls, '4/attempt-1').id = '4/attempt-2'));
  flags(/lease 9: attempt records but no line of its own/, (ls) => ls.push(lease('9/attempt-1', { outcome: 'cancelled' }, [])));
});

test('a cancelled attempt that had already run all of its work is flagged (nothing was lost)', () => {
  flags(/lease 4\/attempt-1: a cancelled attempt that had already run its whole 100 s/, (ls) => (byId(ls, '4/attempt-1').segments = [seg(0, 100, ['n3'])]));
});

test('the header must name the format and its nodes', () => {
  const v = checkSchedule(exportOf(sound(), { format: 'vws.schedule/v0', nodes: header.nodes }), { runtimeOverheadPercent: 0 });
  assert.ok(v.some((x) => /format is "vws.schedule\/v0"/.test(x)), JSON.stringify(v));
});

test('moving one segment end of a generated schedule by one second is caught', () => {
  // Real exports from random runs; a clean one is perturbed at one segment end: a run's end (the
  // run total changes) or, one second later, the end of a segment that another directly follows
  // (they overlap). The checker must notice.
  fc.assert(
    fc.property(scenarioArb(), fc.nat(), fc.constantFrom(-1, 1), (s, pick, delta) => {
      const run = runScenario(s);
      fc.pre(violationsOf(s, run).length === 0);
      const lines = run.lines.map((l) => JSON.parse(l));
      const candidates: Array<{ l: Line; k: number; delta: number }> = [];
      for (const l of lines.slice(1) as Line[]) {
        if (l.outcome !== 'completed') continue;
        l.segments.forEach((sg, k) => {
          const followed = l.segments.some((x) => x !== sg && x.start === sg.end);
          if (sg.kind === 'run' && sg.end + delta > sg.start) candidates.push({ l, k, delta });
          else if (followed) candidates.push({ l, k, delta: 1 });
        });
      }
      fc.pre(candidates.length > 0);
      const { l, k, delta: d } = candidates[pick % candidates.length];
      const sg = l.segments[k];
      sg.end += d;
      const found = checkSchedule(lines.map((x) => JSON.stringify(x)), { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true });
      assert.ok(found.length > 0, `moving the end of ${l.id}'s ${sg.kind} segment by ${d} went unnoticed in ${describeScenario(s)}`);
    }),
    { numRuns: 200 },
  );
});
