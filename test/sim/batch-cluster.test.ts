// The batch-system model the pilot simulation runs against (src/sim/batch): no node is held by two
// jobs at once, a batch job waits at most the grace time for pilots to leave its nodes, batch jobs
// that start without backfilling start in submission order, and the same input gives the same run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BatchCluster, type BatchJob, type JobRecord } from '../../src/sim/batch/batch-cluster.ts';
import { shadowOf } from '../../src/sim/batch/easy.ts';

interface PilotEvent { at: number; nodes: number; timeLimit: number; releaseAfter: number | null }
interface Scenario { size: number; grace: number; batch: BatchJob[]; pilots: PilotEvent[] }

const scenarioArb = (opts: { wholeCluster?: boolean } = {}): fc.Arbitrary<Scenario> =>
  fc.record({ size: fc.integer({ min: 1, max: 8 }), grace: fc.integer({ min: 0, max: 300 }) }).chain(({ size, grace }) => fc.record({
    size: fc.constant(size),
    grace: fc.constant(grace),
    batch: fc.array(fc.record({
      submit: fc.integer({ min: 0, max: 5000 }),
      nodes: opts.wholeCluster ? fc.constant(size) : fc.integer({ min: 1, max: size }),
      requested: fc.integer({ min: 1, max: 2000 }),
      runFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }), { maxLength: 25 }).map((js) => js.map((j, i): BatchJob => ({ id: `j${i}`, submit: j.submit, nodes: j.nodes, requested: j.requested, runtime: Math.max(1, Math.round(j.requested * j.runFraction)) }))),
    pilots: fc.array(fc.record({
      at: fc.integer({ min: 0, max: 5000 }),
      nodes: fc.integer({ min: 1, max: size }),
      timeLimit: fc.integer({ min: grace + 1, max: 3000 }),
      releaseAfter: fc.option(fc.integer({ min: 0, max: 2000 })),
    }), { maxLength: 25 }),
  }));

/** Runs the model: pilots submitted at their times, let go `releaseAfter` seconds after they start. */
function run(s: Scenario): JobRecord[] {
  const c = new BatchCluster(s.size, s.grace, s.batch);
  const pilots = [...s.pilots].map((p, i) => ({ ...p, id: `p${i}` })).sort((a, b) => a.at - b.at);
  const releases = new Map<string, number>();
  let next = 0;
  for (;;) {
    const release = Math.min(...releases.values());
    const now = Math.min(c.nextEventTime(), next < pilots.length ? pilots[next].at : Infinity, release);
    if (now === Infinity) break;
    c.advance(now);
    for (const [id, at] of releases) if (at === now) { c.releasePilot(id, now); releases.delete(id); }
    while (next < pilots.length && pilots[next].at === now) {
      const p = pilots[next++];
      c.submitPilot({ id: p.id, nodes: p.nodes, timeLimit: p.timeLimit }, now);
    }
    const step = c.advance(now);
    for (const started of step.pilotsStarted) {
      const p = pilots.find((x) => x.id === started.id)!;
      if (p.releaseAfter !== null) releases.set(p.id, now + p.releaseAfter);
    }
    for (const ended of step.pilotsEnded) releases.delete(ended.id);
  }
  return c.records();
}

const describe = (s: Scenario): string => JSON.stringify(s);

test('no node is held by two jobs at once; every batch job runs its run time; pilots end by their time limit', () => {
  fc.assert(fc.property(scenarioArb(), (s) => {
    const records = run(s);
    const byNode = new Map<number, Array<[number, number, string]>>();
    for (const r of records) {
      if (r.start === null) continue;
      for (const n of r.nodes) byNode.set(n, [...(byNode.get(n) ?? []), [r.start, r.end!, r.id]]);
    }
    for (const [n, spans] of byNode) {
      spans.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `node ${n}: ${spans[i - 1][2]} and ${spans[i][2]} overlap: ${describe(s)}`);
    }
    for (const j of s.batch) {
      const r = records.find((x) => x.id === j.id)!;
      assert.equal(r.nodes.length, j.nodes);
      assert.equal(r.end! - r.start!, j.runtime, `${j.id} runs its run time: ${describe(s)}`);
      assert.ok(r.start! >= j.submit);
    }
    for (const [i, p] of s.pilots.entries()) {
      const r = records.find((x) => x.id === `p${i}`)!;
      if (r.start !== null) assert.ok(r.end! - r.start <= p.timeLimit, `p${i} outlived its time limit: ${describe(s)}`);
    }
  }), { numRuns: 300 });
});

test('a batch job waits at most the grace time for pilots to leave its nodes, and only when it takes pilot nodes', () => {
  fc.assert(fc.property(scenarioArb(), (s) => {
    const records = run(s);
    for (const r of records.filter((x) => x.tier === 'batch')) {
      assert.ok(r.start! - r.decided! <= s.grace, `${r.id} waited ${r.start! - r.decided!} s for pilots, grace ${s.grace}: ${describe(s)}`);
    }
    if (s.pilots.length === 0) for (const r of records) assert.equal(r.start, r.decided, `${r.id}: no pilot, no handover`);
  }), { numRuns: 300 });
});

test('batch jobs that start without backfilling start in submission order; jobs of the whole cluster start strictly in that order', () => {
  fc.assert(fc.property(scenarioArb(), (s) => {
    const inOrder = run(s).filter((r) => r.tier === 'batch' && !r.backfilled).sort((a, b) => a.submit - b.submit || Number(a.id.slice(1)) - Number(b.id.slice(1)));
    for (let i = 1; i < inOrder.length; i++) assert.ok(inOrder[i].decided! >= inOrder[i - 1].decided!, `${inOrder[i].id} before ${inOrder[i - 1].id}: ${describe(s)}`);
  }), { numRuns: 300 });
  fc.assert(fc.property(scenarioArb({ wholeCluster: true }), (s) => {
    const batch = run(s).filter((r) => r.tier === 'batch');
    assert.ok(batch.every((r) => !r.backfilled), 'no job fits beside a job of the whole cluster');
    const bySubmit = [...batch].sort((a, b) => a.submit - b.submit || Number(a.id.slice(1)) - Number(b.id.slice(1)));
    const byStart = [...batch].sort((a, b) => a.start! - b.start! || a.decided! - b.decided!);
    assert.deepEqual(byStart.map((r) => r.id), bySubmit.map((r) => r.id), describe(s));
  }), { numRuns: 200 });
});

test('the same input gives the same run', () => {
  fc.assert(fc.property(scenarioArb(), (s) => assert.deepEqual(run(s), run(s))), { numRuns: 100 });
});

test('a batch job preempts the youngest pilot, which goes at the grace time or when it exits', () => {
  const c = new BatchCluster(2, 120, [{ id: 'big', submit: 100, nodes: 1, requested: 50, runtime: 50 }, { id: 'two', submit: 1000, nodes: 2, requested: 50, runtime: 50 }]);
  c.advance(0);
  c.submitPilot({ id: 'old', nodes: 1, timeLimit: 5000 }, 0);
  c.advance(0);
  c.advance(10);
  c.submitPilot({ id: 'young', nodes: 1, timeLimit: 5000 }, 10);
  assert.deepEqual(c.advance(10).pilotsStarted.map((p) => p.id), ['young']);
  assert.deepEqual(c.advance(100).pilotsSignalled, [{ id: 'young', deadline: 220 }]);
  assert.equal(c.nextEventTime(), 220);
  assert.deepEqual(c.advance(220).pilotsEnded, [{ id: 'young', why: 'preempted' }]);
  assert.equal(c.record('big')!.start, 220);
  // The second job needs both nodes: 'old' is told to go, and exits before the grace time is out.
  for (let t = c.nextEventTime(); t < 1000; t = c.nextEventTime()) c.advance(t);
  assert.deepEqual(c.advance(1000).pilotsSignalled, [{ id: 'old', deadline: 1120 }]);
  c.advance(1030);
  c.releasePilot('old', 1030);
  assert.deepEqual(c.advance(1030).batchStarted, ['two']);
  assert.equal(c.record('old')!.endedBy, 'preempted');
});

test("EASY's shadow time is the first planned end at which enough nodes are free", () => {
  assert.deepEqual(shadowOf(0, 3, 1, [{ nodes: 1, end: 50 }, { nodes: 2, end: 30 }]), { time: 30, extra: 0 });
  assert.deepEqual(shadowOf(0, 2, 1, [{ nodes: 4, end: 70 }]), { time: 70, extra: 3 });
  assert.deepEqual(shadowOf(5, 1, 2, []), { time: 5, extra: 1 });
});

test('the model refuses what it cannot stand for, saying what', () => {
  assert.throws(() => new BatchCluster(0, 120, []), /whole number of nodes >= 1, got 0/);
  assert.throws(() => new BatchCluster(4, 120, [{ id: 'x', submit: 0, nodes: 5, requested: 1, runtime: 1 }]), /batch job x asks for 5 nodes; the cluster has 4/);
  const c = new BatchCluster(4, 120, []);
  assert.throws(() => c.submitPilot({ id: 'p', nodes: 1, timeLimit: 10 }, 5), /at 0, not 5: advance it first/);
  assert.throws(() => c.releasePilot('nobody', 0), /no pilot 'nobody'/);
});
