// A node is lost (its agent stayed away) and later regained: what ran there is gone, nothing is
// placed there meanwhile, and each lease it touched is dealt with by policy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { assertRefused, mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number, arrival = 0): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: 1, perNode: whole, preemptible: true });
const exact = (id: string, start: number, duration: number, arrival = 0): LeaseRequest => ({ id, kind: 'exact', arrival, requestedStart: start, duration, nodes: 1, perNode: whole, preemptible: false });

function runUntilIdle(s: Scheduler): void {
  for (let t = s.nextEventTime(); t !== Infinity; t = s.nextEventTime()) s.advance(t);
}

/** Every event up to `t`, then `t` itself. */
function runTo(s: Scheduler, t: number): void {
  for (let e = s.nextEventTime(); e <= t; e = s.nextEventTime()) s.advance(e);
  s.advance(t);
}

test('while a node is lost nothing is on it; once regained, every lease reaches an outcome and the schedule checks', () => {
  fc.assert(
    fc.property(scenarioArb({ pool: { minNodes: 2 }, stream: { kinds: ['best-effort', 'best-effort', 'exact', 'deadline', 'immediate'] } }), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 1, max: 20_000 }), fc.nat(), (s, t, gap, pick) => {
      // Run to completion by hand below, without the simulator's early ends: every lease runs its whole duration.
      const requests = s.requests.filter((r) => r.arrival <= t).map((r) => ({ ...r, realDuration: r.duration }));
      const scheduler = simulate({ requests, nodes: s.nodes, config: s.config, until: t });
      const n = pick % s.nodes.length;
      const attemptsBefore = new Map(scheduler.allLeases().map((l) => [l.req.id, l.lost.length]));
      const loss = mustDo(scheduler.loseNode(n, t));
      for (const id of loss.requeued) assert.equal(scheduler.lease(id)!.lost.length, attemptsBefore.get(id), `${id} was only planned there and keeps its work`);
      for (const id of loss.restarted) assert.equal(scheduler.lease(id)!.lost.length, attemptsBefore.get(id)! + 1, `${id} ran there and loses its attempt`);
      scheduler.advance(t);
      const back = t + gap;
      runTo(scheduler, back);
      scheduler.regainNode(n, back);
      scheduler.advance(back);
      runUntilIdle(scheduler);
      const why = describeScenario(s);
      for (const l of scheduler.allLeases()) {
        for (const seg of [...l.history, ...l.lost.flatMap((a) => a.segments)]) {
          if (seg.kind === 'transfer' || !seg.nodes.includes(n)) continue;
          assert.ok(seg.end <= t || seg.start >= back, `${l.req.id} held lost node ${n} over [${seg.start}, ${seg.end}) (${seg.kind}), lost over [${t}, ${back}): ${why}`);
        }
      }
      for (const id of loss.failed) assert.equal(scheduler.lease(id)!.failure?.code, 'node-unavailable', `${id}: ${why}`);
      for (const id of [...loss.restarted, ...loss.requeued]) assert.equal(scheduler.lease(id)!.req.kind, 'best-effort', `${id}: ${why}`);
      // A lease that failed with the node ends 'cancelled', as one withdrawn does.
      const withdrawn = new Set(scheduler.allLeases().filter((l) => l.failure).map((l) => l.req.id));
      const violations = checkSchedule(scheduleLines(scheduler.allLeases(), s.nodes), { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true, withdrawn });
      assert.deepEqual(violations, [], why);
    }),
    { numRuns: 200 },
  );
});

test('a running best-effort lease starts again elsewhere from scratch; a running reservation fails with a reason (where the site offers no renegotiation)', () => {
  const s = new Scheduler([node('n1'), node('n2'), node('n3')], configWith({ bootSeconds: 5, renegotiationSeconds: 0 }));
  s.advance(0);
  s.submit(be('job', 1000), 0);
  s.submit(exact('ar', 10, 1000), 0);
  s.advance(0);
  runTo(s, 100);
  const jobNode = s.lease('job')!.chain.find((x) => x.active)!.nodes[0];
  const arNode = s.lease('ar')!.chain.find((x) => x.active)!.nodes[0];
  assert.equal(s.lease('job')!.state, 'active');

  const lost = mustDo(s.loseNode(jobNode, 100));
  assert.deepEqual(lost, { restarted: ['job'], requeued: [], failed: [], finished: [], waiting: [], renegotiating: [] });
  s.advance(100);
  const job = s.lease('job')!;
  assert.equal(job.done, 0, 'the work done on the lost node is gone');
  assert.equal(job.lost.length, 1);
  assert.equal(job.chain[0].kind, 'boot', 'it boots anew');
  assert.ok(![jobNode, arNode].includes(job.chain[0].nodes[0]), 'on the node still free');

  const second = mustDo(s.loseNode(arNode, 100));
  assert.deepEqual(second.failed, ['ar']);
  const ar = s.lease('ar')!;
  assert.equal(ar.state, 'cancelled');
  assert.equal(ar.failure?.code, 'node-unavailable');
  assert.match(ar.failure!.message, new RegExp(`node 'n${arNode + 1}' became unavailable`));
});

test('a reservation planned on a lost node waits for it, and fails when it is due to begin with the node still lost (no renegotiation)', () => {
  const s = new Scheduler([node('n1')], configWith({ renegotiationSeconds: 0 }));
  s.advance(0);
  s.submit(exact('early', 100, 50), 0);
  s.submit(exact('late', 1000, 50), 0);
  s.advance(0);
  assert.deepEqual(s.loseNode(0, 0), { ok: true, restarted: [], requeued: [], failed: [], finished: [], waiting: ['early', 'late'], renegotiating: [] });
  s.advance(0);
  const step = s.advance(100);
  assert.deepEqual(step.failed.map((l) => l.req.id), ['early']);
  assert.match(s.lease('early')!.failure!.message, /due to begin at 100 on node 'n1', which is still unavailable/);
  s.regainNode(0, 100);
  runUntilIdle(s);
  assert.equal(s.lease('late')!.state, 'completed', 'the node came back in time for it');
});

test('a regained node takes work again, unless it was drained meanwhile', () => {
  const s = new Scheduler([node('n1'), node('n2'), node('n3')], configWith({}));
  s.advance(0);
  s.loseNode(0, 0);
  s.loseNode(1, 0);
  s.closeNode(1, 0);
  s.submit(exact('hog', 0, 10_000), 0);
  s.advance(0);
  s.submit(be('waits', 100), 0);
  s.advance(0);
  assert.deepEqual(s.lease('waits')!.chain.map((x) => [x.start, x.nodes]), [[10_000, [2]]], 'only the busy node is open');
  runTo(s, 10);
  s.regainNode(1, 10);
  s.advance(10);
  assert.deepEqual(s.lease('waits')!.chain[0].nodes, [2], 'a drained node stays closed');
  s.regainNode(0, 10);
  s.advance(10);
  assert.deepEqual(s.lease('waits')!.chain.map((x) => [x.start, x.nodes]), [[10, [0]]], 'placed again, at once, on the node that came back');
  assert.equal(s.nodeIsLost(0), false);
  assert.equal(s.nodeIsDrained(1), true);
});

test('a lease its owner suspended, whose saved state was on the lost node, starts from scratch when its owner resumes it', () => {
  const s = new Scheduler([node('n1'), node('n2')], configWith({ suspendRateMBps: 1024, resumeRateMBps: 1024 }));
  s.advance(0);
  s.submit(be('parked', 1000), 0);
  s.advance(0);
  runTo(s, 100);
  s.suspendByOwner('parked', 100);
  s.advance(100);
  runUntilIdle(s);
  const on = s.lease('parked')!.suspendedOn![0];
  assert.deepEqual(mustDo(s.loseNode(on, s.time)).restarted, ['parked']);
  s.advance(s.time);
  assert.equal(s.lease('parked')!.chain.length, 0, 'still out of the queue while its owner keeps it suspended');
  s.resumeByOwner('parked', s.time);
  s.advance(s.time);
  assert.equal(s.lease('parked')!.chain[0].kind, 'run', 'a fresh start (no boot configured), not a resume');
  assert.notEqual(s.lease('parked')!.chain[0].nodes[0], on);
});

test('measured costs change what is planned from then on', () => {
  const s = new Scheduler([node('n1')], configWith({ suspendRateMBps: 100, resumeRateMBps: 100 }));
  s.advance(0);
  s.setCosts({ suspendRateMBps: 10, bootSeconds: 3 }, 0);
  s.submit(be('job', 1000), 0);
  s.advance(0);
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.end - x.start]), [['boot', 3], ['run', 1000]]);
  assert.equal(s.config.resumeRateMBps, 100, 'a figure not given is kept');
  assertRefused(s.setCosts({ resumeRateMBps: 0 }, 0), 'invalid', /resumeRateMBps must be a positive number of MiB\/s, got 0/);
  assertRefused(s.setCosts({ bootSeconds: 1.5 }, 0), 'invalid', /bootSeconds must be a whole number/);
  assert.equal(s.config.bootSeconds, 3, 'a refused change changes nothing');
  assertRefused(s.loseNode(7, 0), 'not-found', /no node 7 in a pool of 1/);
});
