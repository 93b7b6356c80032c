// EASY's one future reservation is left where it is, instead of being dropped and placed again,
// when QueuePlacement.staysPut says placing it again would put it in the same place. That must never
// change a schedule: runs with the shortcut and runs that always place again export the same lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { configWith } from '../../src/core/config.ts';
import { QueuePlacement } from '../../src/core/queue-placement.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { StaysPut } from '../../src/core/stays-put.ts';
import { configArb, describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { runScenario } from './support/run.ts';

const staysPut = QueuePlacement.prototype.staysPut;

/**
 * How often StaysPut confirmed a reservation from the nodes freed since its last check alone, and
 * how often a look at every node found it in place when the freed nodes alone could not tell.
 */
const incremental = { kept: 0, recounted: 0 };
const proto = StaysPut.prototype as unknown as { onlyFreedNodes: (...args: unknown[]) => boolean | null; everyNode: (...args: unknown[]) => boolean };
const onlyFreedNodes = proto.onlyFreedNodes;
const everyNode = proto.everyNode;
let unsure = false;
proto.onlyFreedNodes = function (...args: unknown[]): boolean | null {
  const kept = onlyFreedNodes.apply(this, args);
  if (kept) incremental.kept++;
  unsure = kept === null;
  return kept;
};
proto.everyNode = function (...args: unknown[]): boolean {
  const kept = everyNode.apply(this, args);
  if (kept && unsure) incremental.recounted++;
  unsure = false;
  return kept;
};

/**
 * Runs fn with the shortcut taken where it says so (keep) or never, counting how often it kept a
 * reservation, and of those how often one of a lease that has run.
 */
function countingStaysPut<T>(keep: boolean, fn: () => T): { value: T; kept: number; keptResuming: number } {
  let kept = 0;
  let keptResuming = 0;
  QueuePlacement.prototype.staysPut = function (...args: Parameters<typeof staysPut>): boolean {
    const stays = keep && staysPut.apply(this, args);
    if (stays) kept++;
    if (stays && args[0].firstStart !== null) keptResuming++;
    return stays;
  };
  try {
    return { value: fn(), kept, keptResuming };
  } finally {
    QueuePlacement.prototype.staysPut = staysPut;
  }
}

/** Runs the scenario with the shortcut, counting how often it kept a reservation (and one of a lease that has run), and without it. */
function bothWays(s: Scenario): { kept: number; keptResuming: number; withShortcut: string[]; without: string[] } {
  const withShortcut = countingStaysPut(true, () => runScenario(structuredClone(s)).lines);
  const without = countingStaysPut(false, () => runScenario(structuredClone(s)).lines);
  return { kept: withShortcut.kept, keptResuming: withShortcut.keptResuming, withShortcut: withShortcut.value, without: without.value };
}

test('keeping EASY\'s reservation in place gives the schedule that placing it again gives', () => {
  let kept = 0;
  const easy = configArb({ backfill: fc.constant('easy') });
  fc.assert(
    fc.property(
      fc.oneof(
        scenarioArb({ config: easy, stream: { minLeases: 10, maxLeases: 60, kinds: ['best-effort', 'best-effort', 'best-effort', 'best-effort', 'exact'] } }),
        scenarioArb({ config: easy, stream: { maxLeases: 40 } }),
      ),
      (s) => {
        const run = bothWays(s);
        kept += run.kept;
        assert.deepEqual(run.withShortcut, run.without, describeScenario(s));
      },
    ),
    { numRuns: 300 },
  );
  // The property says nothing if the shortcut was never taken.
  assert.ok(kept > 20, `the shortcut kept a reservation only ${kept} times in 300 scenarios`);
});

test('keeping EASY\'s reservation after looking only at the nodes freed since gives the schedule that placing it again gives', () => {
  // Many short best-effort leases that end early on a small pool: the reservation is confirmed again and again.
  const easy = configArb({ backfill: fc.constant('easy') });
  const before = { ...incremental };
  fc.assert(
    fc.property(scenarioArb({ config: easy, stream: { minLeases: 30, maxLeases: 80, kinds: ['best-effort'] } }), (s) => {
      const run = bothWays(s);
      assert.deepEqual(run.withShortcut, run.without, describeScenario(s));
    }),
    { numRuns: 200 },
  );
  const kept = incremental.kept - before.kept;
  assert.ok(kept > 50, `the freed nodes alone confirmed a reservation only ${kept} times in 200 scenarios`);

});

test('keeping the reservation of a suspended lease, to resume where its memory is or elsewhere, gives the schedule that placing it again gives', () => {
  // Preemptible best-effort leases suspended by reservations, then queued again as EASY's head.
  const easy = configArb({ backfill: fc.constant('easy'), preemption: fc.constant('suspend'), migration: fc.constant(true), images: fc.constant('predeployed') });
  let keptResuming = 0;
  fc.assert(
    fc.property(scenarioArb({ pool: { minNodes: 3, maxNodes: 10 }, config: easy, stream: { minLeases: 30, maxLeases: 80, largePercent: 100, kinds: ['best-effort', 'best-effort', 'best-effort', 'exact'] } }), (s) => {
      for (const r of s.requests) if (r.kind === 'best-effort') r.preemptible = true;
      const run = bothWays(s);
      keptResuming += run.keptResuming;
      assert.deepEqual(run.withShortcut, run.without, describeScenario(s));
    }),
    { numRuns: 300 },
  );
  // Moves are rare here (a few in 300 scenarios): the test below holds one step by step.
  assert.ok(keptResuming > 20, `a suspended lease's reservation was kept only ${keptResuming} times in 300 scenarios`);
});

test('a lease that ran before (suspended, resuming in 0 s) is placed again, as it was placed under its own rules', () => {
  // Found by the property above: L4 resumes on its own nodes only (no migration); its chain starts with a run.
  const s: Scenario = {
    nodes: [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 40000 }, { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 40000 }, { id: 'n3', cpu: 2, memoryMiB: 1024, diskMiB: 40000 }],
    requests: [
      { id: 'L1', kind: 'periodic', arrival: 0, requestedStart: 1, duration: 3, realDuration: 3, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false, recurrence: { period: 1361, count: 2, acceptPartial: false } },
      { id: 'L2', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1300, realDuration: 1300, nodes: 1, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L3', kind: 'best-effort', arrival: 1360, requestedStart: null, duration: 4, realDuration: 4, nodes: 1, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L4', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1297, realDuration: 1297, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: true },
      { id: 'L5', kind: 'deadline', arrival: 0, requestedStart: 1361, duration: 2, realDuration: 2, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false, deadline: 1364 },
      { id: 'L6', kind: 'periodic', arrival: 0, requestedStart: 0, duration: 1, realDuration: 1, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false, recurrence: { period: 1364, count: 2, acceptPartial: false } },
      { id: 'L7', kind: 'best-effort', arrival: 1360, requestedStart: null, duration: 2, realDuration: 1, nodes: 2, perNode: { cpu: 0.25, memoryMiB: 1024, diskMiB: 0 }, preemptible: false },
      { id: 'L8', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 2, realDuration: 1, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
      { id: 'L9', kind: 'exact', arrival: 0, requestedStart: 1365, duration: 1, realDuration: 1, nodes: 1, perNode: { cpu: 0.25, memoryMiB: 256, diskMiB: 0 }, preemptible: false },
    ],
    config: { backfill: 'easy', preemption: 'suspend', suspendRateMBps: 50, resumeRateMBps: Infinity, migration: false, migrateBandwidthMBps: Infinity, images: 'predeployed', imageBandwidthMBps: Infinity, imageCacheMiB: 0, runtimeOverheadPercent: 5, bootSeconds: 0, shutdownSeconds: 0, suspendThresholdFactor: 0, preemptionPolicy: 'youngest-first', urgentPreemptionPolicy: 'youngest-first', suspendedQueueOrder: 'arrival', preemptionNoticeSeconds: 0, suspendedState: 'node', nodesToCome: null, renegotiationSeconds: 900, renegotiationDefault: 'cancel', urgentBreaksReservations: false },
  };
  const run = bothWays(s);
  assert.deepEqual(run.withShortcut, run.without);
});

test('a node of lower index that gets room by the reservation\'s start takes the place of a chosen one: the reservation moves', () => {
  // n1 runs X then holds an AR up to 900; EASY's reservation for H (2 nodes) is at 500 on n2 and n3.
  // Once the AR is cancelled, n1 has room from 500 too, and placing H again would take n1 and n2.
  const nodes = ['n1', 'n2', 'n3'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const config = { ...configWith({ backfill: 'easy', suspendRateMBps: Infinity, resumeRateMBps: Infinity }) };
  const be = (id: string, arrival: number, duration: number, n = 1): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: n, perNode, preemptible: false });
  const sched = new Scheduler(nodes, config);
  const at = (now: number, ...reqs: LeaseRequest[]): void => {
    for (const r of reqs) assert.ok(sched.submit(r, now).ok);
    sched.advance(now);
  };
  at(0, be('X', 0, 500), { id: 'AR', kind: 'exact', arrival: 0, requestedStart: 500, duration: 400, nodes: 1, perNode, preemptible: false }, be('Y', 0, 500));
  at(1, be('H', 1, 100, 2));
  assert.deepEqual(sched.lease('H')!.chain[0].nodes, [1, 2]);
  at(5, be('W', 5, 10));
  // W ends early: the reservation is checked node by node and found in place.
  assert.ok(sched.finishEarly('W', 8).ok);
  sched.advance(8);
  assert.deepEqual(sched.lease('H')!.chain[0].nodes, [1, 2]);
  sched.advance(10);
  assert.ok(sched.cancel('AR', 10).ok);
  sched.advance(10);
  const h = sched.lease('H')!.chain[0];
  assert.deepEqual([h.start, h.nodes], [500, [0, 1]]);
});

test('a suspended lease moving off its nodes is kept on those that hold its memory first, and moves back once they all have room by its start', () => {
  // A (2 nodes) is suspended on n3 and n4 for AR on n3 until 501; n1 has room from 300 and n4 now:
  // placed again, A takes n4 (its own) and then n1, from 300. When AR ends early so that n3 has room
  // at 300 too, A stays on n3 and n4 instead: not a node of lower index, a node holding its memory.
  const nodes = ['n1', 'n2', 'n3', 'n4'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const config = configWith({ backfill: 'easy', shutdownSeconds: 1 });
  const be = (id: string, arrival: number, duration: number, n = 1, preemptible = false): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: n, perNode, preemptible });
  const placements = (keep: boolean): { kept: number; at150: unknown; at299: unknown } => {
    const { value, kept } = countingStaysPut(keep, () => {
      const sched = new Scheduler(nodes, config);
      let now = 0;
      const until = (end: number): void => {
        for (; now < end; ) sched.advance(++now);
      };
      const chainOfA = (): unknown => sched.lease('A')!.chain.map((seg) => [seg.kind, seg.start, seg.nodes]);
      for (const r of [be('B', 0, 299), be('C', 0, 599), be('A', 0, 1000, 2, true)]) assert.ok(sched.submit(r, 0).ok);
      sched.advance(0);
      until(50);
      assert.ok(sched.submit({ id: 'AR', kind: 'exact', arrival: 50, requestedStart: 100, duration: 400, nodes: 1, perNode, preemptible: false }, 50).ok);
      sched.advance(50);
      until(110);
      assert.ok(sched.submit(be('E', 110, 100), 110).ok);
      sched.advance(110);
      until(150);
      // E ends early: A's reservation is checked node by node.
      assert.ok(sched.finishEarly('E', 150).ok);
      sched.advance(150);
      const at150 = chainOfA();
      until(299);
      assert.ok(sched.finishEarly('AR', 299).ok);
      sched.advance(299);
      return { at150, at299: chainOfA() };
    });
    return { kept, ...value };
  };
  const withShortcut = placements(true);
  const without = placements(false);
  assert.deepEqual(withShortcut.at150, [['migrate', 300, [3, 0]], ['resume', 311, [3, 0]], ['run', 332, [3, 0]], ['shutdown', 1253, [3, 0]]]);
  assert.deepEqual(withShortcut.at299, [['resume', 300, [2, 3]], ['run', 321, [2, 3]], ['shutdown', 1242, [2, 3]]]);
  assert.deepEqual([withShortcut.at150, withShortcut.at299], [without.at150, without.at299]);
  assert.equal(withShortcut.kept, 1);
});

test('when the freed nodes alone count too many with room before the start, a look at every node finds the reservation in place', () => {
  // H (2 nodes) is placed at 501 on n1 and n2; n3 has room from 201, then W takes it past 501. When
  // X ends early on n1, the count kept since says two nodes have room before 501 (n1, and n3 as it
  // was): the lease would start earlier. Looking at every node, n3 has not: H stays where it is.
  const nodes = ['n1', 'n2', 'n3'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const config = configWith({ backfill: 'easy', shutdownSeconds: 1 });
  const be = (id: string, arrival: number, duration: number, n = 1): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, nodes: n, perNode, preemptible: false });
  const run = (keep: boolean): { kept: number; recounted: number; chains: unknown[] } => {
    const before = incremental.recounted;
    const { value, kept } = countingStaysPut(keep, () => {
      const sched = new Scheduler(nodes, config);
      const chains: unknown[] = [];
      const chainOfH = (): unknown => sched.lease('H')!.chain.map((seg) => [seg.kind, seg.start, seg.nodes]);
      let now = 0;
      const until = (end: number): void => {
        for (; now < end; ) sched.advance(++now);
      };
      for (const r of [be('X', 0, 500), be('Y', 0, 500), be('Z', 0, 300), be('H', 0, 1000, 2)]) assert.ok(sched.submit(r, 0).ok);
      sched.advance(0);
      chains.push(chainOfH());
      until(199);
      assert.ok(sched.finishEarly('Z', 200).ok);
      assert.ok(sched.submit(be('W', 200, 1000), 200).ok);
      until(201);
      chains.push(chainOfH(), sched.lease('W')!.chain[0].nodes);
      until(299);
      assert.ok(sched.finishEarly('X', 300).ok);
      until(300);
      chains.push(chainOfH());
      return { recounted: incremental.recounted - before, chains };
    });
    return { kept, ...value };
  };
  const withShortcut = run(true);
  const without = run(false);
  assert.deepEqual(withShortcut.chains[0], [['run', 501, [0, 1]], ['shutdown', 1501, [0, 1]]]);
  assert.deepEqual(withShortcut.chains[2], [2]);
  assert.deepEqual(withShortcut.chains, without.chains);
  assert.deepEqual([withShortcut.kept, withShortcut.recounted], [2, 1]);
});
