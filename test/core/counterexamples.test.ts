// Minimal counterexamples that the property tests found, written down as plain examples. Each
// states the expected behaviour; see the comment above it for what the code did instead.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configWith, type SchedulerConfig } from '../../src/core/config.ts';
import { ImageCache } from '../../src/core/image-cache.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { checkSchedule, parseSchedule } from './support/schedule-checker.ts';

const ONE_NODE: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
const perNode = (cpu: number, memoryMiB: number) => ({ cpu, memoryMiB, diskMiB: 0 });

function run(requests: LeaseRequest[], config: SchedulerConfig) {
  const scheduler = simulate({ requests, nodes: ONE_NODE, config });
  const lines = [...scheduleLines(scheduler.allLeases(), ONE_NODE)];
  const violations = checkSchedule(lines, { runtimeOverheadPercent: config.runtimeOverheadPercent, drained: true });
  return { scheduler, lines, violations, leases: parseSchedule(lines).leases };
}

// Found by "the checker finds no violation for random pools x streams x configs" (shrunk there to
// cpu 1 / 0.25, durations 1 s, infinite suspend rate, shutdownSeconds 1). The best-effort lease
// cannot fit run + shutdown (92 + 10 s) before the reservation at 100, so it gets a chain cut
// short by a suspension (run [0, 94), suspend [94, 100)). Its work ends at 92 and finishEarly
// appends a 10 s shutdown [92, 102) without asking the slot table: over the reservation's run.
test('a lease that finishes inside a chain planned to end in a suspension does not shut down over a reservation', () => {
  const { violations, leases } = run([
    { id: 'ar', kind: 'exact', arrival: 0, requestedStart: 100, duration: 10, nodes: 1, perNode: perNode(1, 512), preemptible: false },
    { id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 92, nodes: 1, perNode: perNode(0.5, 256), preemptible: true },
  ], configWith({ shutdownSeconds: 10 }));
  assert.deepEqual(violations, [], JSON.stringify(leases));
});

// Found by the same property (shrunk to resume rate 10 MB/s, shutdownSeconds 3). The reservation
// arrives at the instant the best-effort lease's shutdown begins; preempt() sees a chain that
// starts at or after the reservation and calls unschedule(), which takes any chain not starting
// with boot or run for a suspended one: the lease, whose work is done, becomes 'suspended' and is
// later "resumed" (resume [120, 141)) straight into a second shutdown, with no run. The same
// happens with preemption 'requeue', which should never suspend at all.
for (const preemption of ['suspend', 'requeue'] as const) {
  test(`a lease preempted as its shutdown begins is not resumed without a run (preemption ${preemption})`, () => {
    const { violations, leases } = run([
      { id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode: perNode(1, 1024), preemptible: true },
      { id: 'ar', kind: 'exact', arrival: 100, requestedStart: 100, duration: 10, nodes: 1, perNode: perNode(1, 1024), preemptible: false },
    ], configWith({ shutdownSeconds: 10, preemption }));
    assert.deepEqual(violations, [], JSON.stringify(leases));
    const be = leases.find((l) => l.id === 'be')!;
    assert.deepEqual(be.segments.filter((s) => s.kind === 'resume'), [], 'a lease whose work is done has nothing to resume');
  });
}

// Found by the same property with the "lost attempt" rule (shrunk to four 1 s leases on one node,
// shutdownSeconds 2). A reservation arrives while the best-effort lease is shutting down after its
// whole run; preempt() finds no run to suspend and calls restartLosingWork(): the finished 100 s
// are recorded as lost (be/attempt-1) and the lease runs all 100 s again from 125.
test('a lease preempted during its shutdown does not run its finished work again', () => {
  const { violations, leases } = run([
    { id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, nodes: 1, perNode: perNode(1, 1024), preemptible: true },
    { id: 'ar', kind: 'exact', arrival: 105, requestedStart: 105, duration: 10, nodes: 1, perNode: perNode(1, 1024), preemptible: false },
  ], configWith({ shutdownSeconds: 10 }));
  assert.deepEqual(violations, [], JSON.stringify(leases));
  const ran = leases.filter((l) => l.id === 'be' || l.id.startsWith('be/')).flatMap((l) => l.segments).filter((s) => s.kind === 'run');
  assert.equal(ran.reduce((a, s) => a + s.end - s.start, 0), 100, `be ran ${JSON.stringify(ran)}`);
});

// Found by "every suspension of a victim counts ... a zero-cost one too". With an infinite
// suspend rate the victim is suspended (state 'suspended', resumed at 1100) but no suspend
// segment is placed, and the counter is only bumped when a suspend segment starts
// (Scheduler.startSegment), so the lease and the metrics report 0 suspensions.
test('a zero-cost suspension still counts as a suspension', () => {
  const { scheduler, leases } = run([
    { id: 'be', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 5000, nodes: 1, perNode: perNode(1, 1024), preemptible: true },
    { id: 'ar', kind: 'exact', arrival: 100, requestedStart: 1000, duration: 100, nodes: 1, perNode: perNode(1, 1024), preemptible: false },
  ], configWith({ suspendRateMBps: Infinity, resumeRateMBps: Infinity }));
  const be = leases.find((l) => l.id === 'be')!;
  assert.deepEqual(be.segments.map((s) => [s.kind, s.start, s.end]), [['run', 0, 1000], ['run', 1100, 5100]], 'be was suspended at 1000 and resumed at 1100');
  assert.equal(scheduler.lease('be')!.suspensions, 1);
  assert.equal(computeMetrics(scheduler.allLeases(), ONE_NODE, 0).suspensions, 1);
});

// Found by "random acquire/release sequences: a refused acquire leaves the cache as it was"
// (shrunk). acquire() evicts unreferenced images one by one and only then finds that the rest are
// referenced: it refuses 'e' but has already thrown away 'a', which a later lease could have reused.
test('a refused image acquire does not evict anything', () => {
  const cache = new ImageCache(1200);
  assert.equal(cache.acquire('c', 700, 0, 1), true);
  assert.equal(cache.acquire('a', 300, 0, 2), true);
  cache.release('a', 3);
  assert.equal(cache.acquire('e', 1000, 4, 4), false, 'c (700 MiB) is referenced: 1000 MiB cannot fit in 1200');
  assert.equal(cache.readyAt('a'), 0, 'a is still cached');
});

// Found by "the checker finds no violation ..." once urgent leases were generated (shrunk to one
// node, boot 11 s, shutdown 12 s). An urgent lease arrives at the instant three best-effort leases
// end their boot; the preemptible one is taken back to the queue, but unschedule() iterated over
// its chain while truncating the run spliced that chain, skipped the shutdown after it and left
// it reserved: at 338 the node held 1.25 CPUs.
test('a lease taken back to the queue at the instant its run begins leaves nothing behind', () => {
  const nodes: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
  const be = (id: string, cpu: number, duration: number, preemptible: boolean): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration, realDuration: duration, nodes: 1, perNode: perNode(cpu, 256), preemptible });
  const requests: LeaseRequest[] = [
    { id: 'urgent', kind: 'urgent', arrival: 337, requestedStart: null, duration: 1, nodes: 1, perNode: perNode(0.25, 256), preemptible: false },
    be('long', 1, 303, false), be('a', 0.25, 1, false), be('victim', 0.5, 1, true), be('b', 0.25, 1, false),
  ];
  const scheduler = simulate({ requests, nodes, config: configWith({ bootSeconds: 11, shutdownSeconds: 12, suspendRateMBps: Infinity, resumeRateMBps: Infinity }) });
  const lines = [...scheduleLines(scheduler.allLeases(), nodes)];
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
});

// Found by the same property (shrunk to one node, free suspension, 50 MB/s resume). A lease is
// resumed just before a second reservation that starts the instant its run does; unschedule()
// saw a chain starting with a run and queued it as if it had never started, so its resume was
// followed by a fresh run with no resume. Such a lease is not a candidate victim at that instant.
test('a lease whose run begins at the instant a reservation needs its node is not preempted', () => {
  const { violations } = run([
    { id: 'ar1', kind: 'exact', arrival: 2915, requestedStart: 2926, duration: 3, nodes: 1, perNode: perNode(0.25, 256), preemptible: false },
    { id: 'ar2', kind: 'exact', arrival: 2940, requestedStart: 2940, duration: 1, nodes: 1, perNode: perNode(0.25, 256), preemptible: false },
    { id: 'be', kind: 'best-effort', arrival: 10, requestedStart: null, duration: 833, realDuration: 833, nodes: 1, perNode: perNode(1, 512), preemptible: true },
    { id: 'filler', kind: 'best-effort', arrival: 5, requestedStart: null, duration: 1897, realDuration: 1897, nodes: 1, perNode: perNode(0.25, 256), preemptible: false },
    { id: 'wide', kind: 'best-effort', arrival: 5, requestedStart: null, duration: 52, realDuration: 52, nodes: 1, perNode: perNode(0.25, 1024), preemptible: false },
  ], configWith({ suspendRateMBps: Infinity, resumeRateMBps: 50, migration: false, runtimeOverheadPercent: 5 }));
  assert.deepEqual(violations, []);
});

// Found by "holds never share resources ..." (shrunk to one node, free suspension, 4 s shutdown).
// A best-effort lease with 1 s of work fit a 2 s window before a reservation, but not its
// shutdown, so buildChain cut it short "to suspend" and laid out a 2 s run: it ran twice its work.
// (A simulation ends the run early when the work is done, which hides it: here nothing does.)
test('a lease whose work fits a window but whose shutdown does not runs its work, then is powered off', () => {
  const be = (id: string, cpu: number, preemptible: boolean): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1, realDuration: 1, nodes: 1, perNode: perNode(cpu, 256), preemptible });
  const requests: LeaseRequest[] = [
    be('L1', 0.25, false), be('L2', 1, true),
    { id: 'L3', kind: 'immediate', arrival: 0, requestedStart: null, duration: 1, realDuration: 1, nodes: 1, perNode: perNode(1, 256), preemptible: false },
    be('L4', 0.25, false),
  ];
  const config = configWith({ shutdownSeconds: 4, suspendRateMBps: Infinity, resumeRateMBps: Infinity, suspendThresholdFactor: 0, migration: false, imageCacheMiB: 0 });
  const scheduler = simulate({ requests, nodes: ONE_NODE, config, until: 0 });
  const held = (id: string, start: number): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration: 1, nodes: 1, perNode: perNode(1, 1024), preemptible: false });
  assert.ok(scheduler.hold(held('H1', 12), 0, 1).ok);
  scheduler.hold(held('H2', 1), 0, 1);
  scheduler.commit('H1', 0);
  for (let now = scheduler.nextEventTime(); now !== Infinity; now = scheduler.nextEventTime()) scheduler.advance(now);
  const l2 = scheduler.lease('L2')!;
  assert.deepEqual(l2.history.filter((x) => x.kind === 'run').map((x) => x.end - x.start), [1]);
  assert.equal(l2.state, 'completed');
});

// Found by "whatever runs, a live migration the scheduler agrees to keeps the schedule sound"
// (shrunk to 3 nodes, free suspension, 2 s shutdown). A reservation at 422 arrives while a
// best-effort lease runs [0, 421) with its shutdown [421, 423) in the way; the lease was
// "suspended by 422": its run was stretched to [0, 422), 422 s for 421 s of work, and a live
// migration carried the stretched run over. Only its shutdown was in the way: it is powered off.
test('a lease whose work ends before a reservation but whose shutdown does not is powered off, not run longer', () => {
  const nodes: NodeSpec[] = [
    { id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 40000 }, { id: 'n2', cpu: 1, memoryMiB: 4096, diskMiB: 40000 }, { id: 'n3', cpu: 1, memoryMiB: 1024, diskMiB: 40000 },
  ];
  const requests: LeaseRequest[] = [
    { id: 'L1', kind: 'exact', arrival: 5, requestedStart: 422, duration: 1, realDuration: 1, nodes: 3, perNode: perNode(0.25, 256), preemptible: false },
    { id: 'L2', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 421, realDuration: 421, nodes: 1, perNode: perNode(0.25, 1024), preemptible: true },
    { id: 'L3', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 1, realDuration: 1, nodes: 1, perNode: perNode(0.25, 256), preemptible: false },
  ];
  const config = configWith({ shutdownSeconds: 2, suspendRateMBps: Infinity, resumeRateMBps: Infinity, suspendThresholdFactor: 0, migration: false, imageCacheMiB: 0 });
  const scheduler = simulate({ requests, nodes, config, until: 5 });
  const l2 = scheduler.lease('L2')!;
  assert.deepEqual(l2.chain.map((x) => [x.kind, x.start, x.end, x.nodes]), [['run', 0, 421, [0]], ['shutdown', 421, 422, [0]]]);
  assert.equal(scheduler.liveMigrationRefusal('L2', [1], 5), null);
  assert.deepEqual(scheduler.migrateLive('L2', [1], 5), { ok: true });
  for (let now = scheduler.nextEventTime(); now !== Infinity; now = scheduler.nextEventTime()) scheduler.advance(now);
  const lines = [...scheduleLines(scheduler.allLeases(), nodes)];
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: 0, drained: true }), []);
  assert.deepEqual(l2.history.filter((x) => x.kind === 'run').map((x) => [x.start, x.end, x.nodes]), [[0, 5, [0]], [5, 421, [1]]]);
  assert.equal(l2.state, 'completed');
});
