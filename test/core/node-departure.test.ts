// A node leaves the pool at a known instant (a pilot job's end, or its preemption by the batch
// system): nothing is planned across the departure, what was planned across it makes way, and
// suspended state kept in a depot lets a lease resume on any node later.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith, type SuspendedState } from '../../src/core/config.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { configArb, describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { assertRefused, mustDo } from './support/refusals.ts';

const node = (id: string): NodeSpec => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const be = (id: string, duration: number, arrival = 0, preemptible = true): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: 1, perNode: whole, preemptible });
const exact = (id: string, start: number, duration: number, arrival = 0): LeaseRequest => ({ id, kind: 'exact', arrival, requestedStart: start, duration, nodes: 1, perNode: whole, preemptible: false });

/** Submits each later request at its arrival and steps through every event up to `until` (then to `until` itself). */
function stepTo(s: Scheduler, later: LeaseRequest[], until: number): void {
  for (;;) {
    const arrival = later.length > 0 ? later[0].arrival : Infinity;
    const now = Math.min(arrival, s.nextEventTime());
    if (now > until || now === Infinity) break;
    while (later.length > 0 && later[0].arrival === now) mustDo(s.submit(later.shift()!, now));
    s.advance(now);
  }
  if (until !== Infinity && s.time < until) s.advance(until);
}

function departureRun(s: Scenario, t: number, delay: number, gap: number, pick: number, promptly: boolean) {
  // Every lease runs its whole duration: the run is driven by hand, without the simulator's early ends.
  const requests = s.requests.map((r) => ({ ...r, realDuration: r.duration }));
  const scheduler = simulate({ requests: requests.filter((r) => r.arrival <= t), nodes: s.nodes, config: s.config, until: t });
  const later = requests.filter((r) => r.arrival > t).sort((a, b) => a.arrival - b.arrival);
  const n = pick % s.nodes.length;
  const d = t + delay;
  const gone = mustDo(scheduler.departNode(n, d, t, promptly));
  assert.equal(scheduler.departureOf(n), d);
  scheduler.advance(t);
  // The node stays after all (another pilot on it), long after: every lease can then end.
  const back = d + gap;
  stepTo(scheduler, later, back);
  mustDo(scheduler.departNode(n, Infinity, back));
  scheduler.advance(back);
  stepTo(scheduler, later, Infinity);
  return { scheduler, n, d, back, gone };
}

/** A depot site of one pilot node leaving at 1000, and a job of 2000 s on it (10 s to suspend or resume, 20 s to fetch). */
function jobOnLeavingPilot(): Scheduler {
  const s = new Scheduler([node('pilot-1')], configWith({ suspendedState: 'depot', suspendRateMBps: 1024 / 10, resumeRateMBps: 1024 / 10, migrateBandwidthMBps: 1024 / 20 }));
  s.advance(0);
  mustDo(s.departNode(0, 1000, 0));
  s.submit(be('job', 2000), 0);
  s.advance(0);
  return s;
}

for (const state of ['depot', 'node'] as const satisfies readonly SuspendedState[]) {
  test(`${state}: nothing is on a node across its departure, what was planned across it makes way, and the schedule checks`, () => {
    const config = configArb({ suspendedState: fc.constant(state) });
    fc.assert(
      fc.property(scenarioArb({ pool: { minNodes: 2 }, stream: { kinds: ['best-effort', 'best-effort', 'best-effort', 'exact', 'deadline', 'immediate'] }, config }), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 20_000 }), fc.nat(), fc.boolean(), (s, t, delay, gap, pick, promptly) => {
        const { scheduler, n, d, back, gone } = departureRun(s, t, delay, gap, pick, promptly);
        const why = describeScenario(s);
        for (const l of scheduler.allLeases()) {
          for (const seg of [...l.history, ...l.lost.flatMap((a) => a.segments)]) {
            if (seg.kind === 'transfer' || !seg.nodes.includes(n)) continue;
            assert.ok(seg.end <= d || seg.start >= back, `${l.req.id} held node ${n} over [${seg.start}, ${seg.end}) (${seg.kind}); it left at ${d} until ${back}: ${why}`);
            // Wanted back at once: nothing best-effort comes to it from then on, and what was there leaves as soon as it can.
            // An arrival is a boot, resume or migration, or a run that begins a placement; a run after a boot begun before is the same stay.
            const arrives = seg.kind === 'boot' || seg.kind === 'resume' || seg.kind === 'migrate' || (seg.kind === 'run' && l.history[0] === seg);
            if (promptly && l.req.kind === 'best-effort' && arrives) assert.ok(seg.start <= t || seg.start >= back, `${l.req.id} came to node ${n} at ${seg.start} (${seg.kind}) after it was wanted back at ${t}: ${why}`);
          }
        }
        for (const id of gone.failed) assert.equal(scheduler.lease(id)!.failure?.code, 'node-unavailable', `${id}: ${why}`);
        for (const id of [...gone.suspended, ...gone.requeued, ...gone.restarted]) assert.equal(scheduler.lease(id)!.req.kind, 'best-effort', `${id}: ${why}`);
        if (state === 'node') assert.deepEqual(gone.suspended, [], `memory kept on a node leaves with it: nothing is suspended there: ${why}`);
        const withdrawn = new Set(scheduler.allLeases().filter((l) => l.failure).map((l) => l.req.id));
        const violations = checkSchedule(scheduleLines(scheduler.allLeases(), s.nodes), { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true, withdrawn });
        assert.deepEqual(violations, [], why);
      }),
      { numRuns: 150 },
    );
  });
}

test('a lease longer than the pilot runs until just before the departure, waits in the depot, and resumes on a node that comes later', () => {
  const s = jobOnLeavingPilot();
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.start, x.end, x.nodes]), [['run', 0, 990, [0]], ['suspend', 990, 1000, [0]]]);
  for (let e = s.nextEventTime(); e <= 1500; e = s.nextEventTime()) s.advance(e);
  assert.equal(s.lease('job')!.state, 'suspended');
  assert.deepEqual(s.lease('job')!.suspendedOn, [], 'its memory is in the depot, on no node');
  s.advance(1500);
  assert.equal(s.addNode(node('pilot-2'), 1500), 1);
  s.advance(1500);
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.start, x.end, x.nodes]), [['migrate', 1500, 1520, [1]], ['resume', 1520, 1530, [1]], ['run', 1530, 2540, [1]]]);
  for (let e = s.nextEventTime(); e !== Infinity; e = s.nextEventTime()) s.advance(e);
  assert.equal(s.lease('job')!.state, 'completed');
});

test('a departure brought forward suspends the leases on the node at once; a reservation that no longer fits fails saying why (no renegotiation)', () => {
  const s = new Scheduler([node('pilot-1'), node('pilot-2')], configWith({ suspendedState: 'depot', suspendRateMBps: 1024 / 10, renegotiationSeconds: 0 }));
  s.advance(0);
  mustDo(s.departNode(0, 10_000, 0));
  mustDo(s.departNode(1, 10_000, 0));
  s.submit(be('job', 5000), 0);
  s.submit(exact('ar', 2000, 1000), 0);
  s.submit(be('strict', 500, 0, false), 0);
  s.advance(0);
  const jobNode = s.lease('job')!.chain[0].nodes[0];
  const arNode = s.lease('ar')!.chain[0].nodes[0];
  s.advance(100);
  const early = mustDo(s.departNode(jobNode, 1000, 100, true));
  assert.deepEqual(early.suspended, ['job']);
  // Suspended at once, not at the last moment: whoever takes the node back waits for it.
  assert.deepEqual(s.lease('job')!.chain.filter((x) => x.nodes.includes(jobNode)).map((x) => [x.kind, x.start, x.end <= 1000]), [['suspend', 100, true]]);
  if (arNode === jobNode) assert.deepEqual(early.failed, ['ar']);
  s.advance(100);
  const late = mustDo(s.departNode(1 - jobNode, 600, 100));
  assert.ok(late.failed.includes('ar') || early.failed.includes('ar'), 'the reservation at 2000 is on one of the two nodes, and neither stays that long');
  assert.match(s.lease('ar')!.failure!.message, /leaves the pool at \d+ \(its pilot job ends there\)/);
  assert.equal(s.lease('strict')!.failure, null, 'the non-preemptible lease ends by 500, before either departure');
});

test('a departure is refused for a node not in the pool or an instant that is not one; one in the past is now', () => {
  const s = new Scheduler([node('n1')], configWith({}));
  s.advance(50);
  assertRefused(s.departNode(3, 100, 50), 'not-found', /no node 3 in a pool of 1/);
  assertRefused(s.departNode(0, Number.NaN, 50), 'invalid', /a departure is an instant, or Infinity for none; got NaN/);
  assert.equal(mustDo(s.departNode(0, 10, 50)).at, 50);
  assert.equal(s.departureOf(0), 50);
  assert.ok(s.nodeIsIdle(0), 'a departure is not a lease: the node holds none');
  s.submit(be('job', 10, 50), 50);
  s.advance(50);
  assert.equal(s.lease('job')!.state, 'queued', 'nothing starts on a node that has left');
  mustDo(s.departNode(0, Infinity, 50));
  s.advance(50);
  assert.equal(s.lease('job')!.state, 'active', 'it stays after all: the lease starts');
});

test('a lease from the depot whose lower bound fits before the nodes leave, but whose chain does not, waits for more nodes', () => {
  // Found by the pilot simulation: 41 s of work left need 11 s of fetch, 21 s of resume and the
  // run, 73 s in all, on nodes that stay 62 s; the queue's lower bound (a cut chain) said it fits.
  const s = new Scheduler([node('pilot-1'), node('pilot-2')], configWith({ suspendedState: 'depot' }));
  s.advance(0);
  for (const n of [0, 1]) mustDo(s.departNode(n, 580, 0));
  s.submit({ ...be('job', 600), nodes: 2 }, 0);
  s.advance(0);
  for (let e = s.nextEventTime(); e <= 700; e = s.nextEventTime()) s.advance(e);
  s.advance(700);
  assert.equal(s.lease('job')!.state, 'suspended');
  assert.equal(s.lease('job')!.done, 559);
  for (const n of [0, 1]) mustDo(s.departNode(n, 762, 700));
  s.advance(700);
  assert.deepEqual(s.lease('job')!.chain, [], 'no window on the nodes before 762: it waits');
  for (const n of [0, 1]) mustDo(s.departNode(n, Infinity, 700));
  s.advance(700);
  for (let e = s.nextEventTime(); e !== Infinity; e = s.nextEventTime()) s.advance(e);
  assert.equal(s.lease('job')!.state, 'completed');
});

test('a lease whose run has just begun on memory it resumed there cannot be taken back to the queue: leaving at once, it restarts', () => {
  // Property counterexample: a departure at the instant a resumed run began took the lease back to
  // the queue as if it had not begun; its later run followed the resume as a fresh start.
  const s = jobOnLeavingPilot();
  stepTo(s, [], 1500);
  assert.equal(s.addNode(node('pilot-2'), 1500), 1);
  s.advance(1500);
  stepTo(s, [], 1530);
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.start, x.active]), [['run', 1530, true]]);
  const gone = mustDo(s.departNode(1, 1530, 1530));
  assert.deepEqual([gone.restarted, gone.requeued], [['job'], []]);
  assert.equal(s.lease('job')!.done, 0, 'the work it had done was in the memory it resumed: lost with the node');
  stepTo(s, [], 1600);
  mustDo(s.departNode(1, Infinity, 1600));
  s.advance(1600);
  stepTo(s, [], Infinity);
  assert.equal(s.lease('job')!.state, 'completed');
  assert.deepEqual(checkSchedule(scheduleLines(s.allLeases(), [node('pilot-1'), node('pilot-2')]), { runtimeOverheadPercent: 0, drained: true, withdrawn: new Set() }), []);
});

test('a lease already planned to be suspended keeps its suspension when its node is wanted back at once: its run is never lengthened', () => {
  // Property counterexample: the suspension "by the departure" moved a run planned to end at 40
  // (suspended for a reservation at 50) out to 190, over the reservation.
  const s = new Scheduler([node('pilot-1')], configWith({ suspendedState: 'depot', suspendRateMBps: 1024 / 10 }));
  s.advance(0);
  s.submit(be('job', 100), 0);
  s.advance(0);
  mustDo(s.submit(exact('ar', 50, 10), 0));
  s.advance(0);
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.start, x.end]), [['run', 0, 40], ['suspend', 40, 50]]);
  mustDo(s.departNode(0, 200, 0, true));
  assert.deepEqual(s.lease('job')!.chain.map((x) => [x.kind, x.start, x.end]), [['run', 0, 40], ['suspend', 40, 50]]);
  assert.equal(s.lease('ar')!.failure, null);
});
