// Urgent, deadline and periodic leases: properties over random streams, and worked examples.

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
import { moveSeconds } from './support/lease-checks.ts';
import { parseSchedule } from './support/schedule-checker.ts';
import { runScenario, violationsOf } from './support/run.ts';

test('urgent leases start once their victims have suspended, and never touch reservations or non-preemptible leases', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { kinds: ['best-effort', 'best-effort', 'exact', 'urgent', 'urgent', 'periodic', 'deadline'] } }), (s) => {
      const run = runScenario(s);
      assert.deepEqual(violationsOf(s, run), [], describeScenario(s));
      const { leases } = parseSchedule(run.lines);
      const byId = new Map(s.requests.map((r) => [r.id, r]));
      const slowestSuspend = Math.max(...s.requests.map((r) => moveSeconds(r.perNode.memoryMiB, s.config.suspendRateMBps)), 0);
      // An image waits for the one link, which may carry every other lease's image first.
      const imageWait = s.requests.reduce((sum, r) => sum + (r.image && s.config.images === 'transfer' ? moveSeconds(r.image.sizeMiB, s.config.imageBandwidthMBps) : 0), 0);
      for (const l of leases) {
        const base = byId.get(l.id.replace(/\/attempt-\d+$/, '').replace(/#\d+$/, ''));
        const preempted = l.id.includes('/attempt-') || l.segments.some((x) => x.kind === 'suspend');
        if (preempted && l.kind !== 'deadline') {
          assert.ok(base && base.kind === 'best-effort' && base.preemptible, `${l.id} (${l.kind}, preemptible ${base?.preemptible}) was preempted; ${describeScenario(s)}`);
        }
        if (l.kind === 'urgent' && l.outcome === 'completed') {
          const first = Math.min(...l.segments.map((x) => x.start));
          assert.ok(first - l.arrival <= Math.max(slowestSuspend, imageWait, s.config.preemptionNoticeSeconds), `${l.id} began ${first - l.arrival} s after it arrived; ${describeScenario(s)}`);
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('every occurrence of an accepted periodic lease runs exactly when asked; a refused one leaves none', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { kinds: ['best-effort', 'exact', 'periodic', 'periodic'] } }), (s) => {
      const run = runScenario(s);
      const { leases } = parseSchedule(run.lines);
      for (const r of s.requests.filter((x) => x.kind === 'periodic')) {
        const occurrences = leases.filter((l) => l.id.startsWith(`${r.id}#`));
        const own = leases.find((l) => l.id === r.id);
        if (own) {
          assert.equal(own.outcome, 'rejected', `${r.id} has a line of its own only when refused whole`);
          assert.deepEqual(occurrences, [], `${r.id} was refused but has occurrences; ${describeScenario(s)}`);
          continue;
        }
        assert.equal(occurrences.length, r.recurrence!.count, describeScenario(s));
        if (!r.recurrence!.acceptPartial) assert.ok(occurrences.every((o) => o.outcome === 'completed'), `all or nothing; ${describeScenario(s)}`);
        for (const o of occurrences.filter((x) => x.outcome === 'completed')) {
          const k = Number(o.id.split('#')[1]);
          const runs = o.segments.filter((x) => x.kind === 'run');
          assert.deepEqual(runs.map((x) => x.start), [r.requestedStart! + (k - 1) * r.recurrence!.period], `${o.id}; ${describeScenario(s)}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

// ---- worked examples, on a pool of 4 nodes ----

const POOL: NodeSpec[] = ['n1', 'n2', 'n3', 'n4'].map((id) => ({ id, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const HOUR = 3600;

test('worked example: a refused reservation gets its earliest start and alternatives, each accepted as offered', () => {
  const scheduler = new Scheduler(POOL, configWith({}));
  scheduler.submit({ id: 'maintenance', kind: 'exact', arrival: 0, requestedStart: 2 * HOUR, duration: 2 * HOUR, nodes: 3, perNode: whole, preemptible: false }, 0);
  scheduler.advance(0);
  const ask: LeaseRequest = { id: 'course', kind: 'exact', arrival: 0, requestedStart: 3 * HOUR, duration: 2 * HOUR, nodes: 2, perNode: whole, preemptible: false };
  const q = scheduler.quote(ask, 0);
  assert.equal(q.ok, false);
  assert.ok(!q.ok);
  assert.equal(q.reason, 'insufficient-capacity');
  assert.equal(q.earliestStart, 4 * HOUR, 'once the maintenance window ends');
  assert.deepEqual(q.alternatives.map((a) => [a.kind, a.request.requestedStart, a.request.nodes, a.request.duration]), [
    ['later-start', 4 * HOUR, 2, 2 * HOUR],
    ['fewer-nodes', 3 * HOUR, 1, 2 * HOUR],
  ]);
  for (const alt of q.alternatives) {
    const s = new Scheduler(POOL, configWith({}));
    s.submit({ id: 'maintenance', kind: 'exact', arrival: 0, requestedStart: 2 * HOUR, duration: 2 * HOUR, nodes: 3, perNode: whole, preemptible: false }, 0);
    s.submit(alt.request, 0);
    assert.ok(s.advance(0).decisions.every((d) => d.ok), alt.kind);
  }
});

test('worked example: a shorter lease at the requested start is offered when the pool is busy after it', () => {
  const scheduler = new Scheduler(POOL, configWith({}));
  scheduler.submit({ id: 'late', kind: 'exact', arrival: 0, requestedStart: 4 * HOUR, duration: HOUR, nodes: 4, perNode: whole, preemptible: false }, 0);
  scheduler.advance(0);
  const q = scheduler.quote({ id: 'ask', kind: 'exact', arrival: 0, requestedStart: 3 * HOUR, duration: 2 * HOUR, nodes: 4, perNode: whole, preemptible: false }, 0);
  assert.ok(!q.ok);
  assert.deepEqual(q.alternatives.map((a) => [a.kind, a.request.requestedStart, a.request.duration]), [['later-start', 5 * HOUR, 2 * HOUR], ['shorter', 3 * HOUR, HOUR]]);
});

test('urgent: the victims chosen are the cheapest to preempt (least memory to save), and the lease starts when their suspension ends', () => {
  const scheduler = new Scheduler(POOL, configWith({ suspendRateMBps: 64 }));
  const be = (id: string, nodes: number, memoryMiB: number): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 10 * HOUR, nodes, perNode: { cpu: 1, memoryMiB, diskMiB: 0 }, preemptible: true });
  scheduler.submit(be('big', 2, 1024), 0);
  scheduler.submit(be('small', 2, 256), 0);
  scheduler.advance(0);
  scheduler.advance(HOUR);
  scheduler.submit({ id: 'storm', kind: 'urgent', arrival: HOUR, requestedStart: null, duration: HOUR, nodes: 2, perNode: { cpu: 1, memoryMiB: 256, diskMiB: 0 }, preemptible: false }, HOUR);
  const [d] = scheduler.advance(HOUR).decisions;
  assert.ok(d.ok);
  assert.deepEqual(d.preempted, [{ leaseId: 'small', how: 'suspend' }]);
  assert.equal(d.start, HOUR + 4, '256 MiB at 64 MB/s: 4 s of suspension first');
  assert.equal(scheduler.lease('big')!.preemptions, 0);
});

test('urgent: refused with a reason when even preemption cannot make room, and offered a later reservation', () => {
  const scheduler = new Scheduler(POOL, configWith({}));
  scheduler.submit({ id: 'ar', kind: 'exact', arrival: 0, requestedStart: 0, duration: HOUR, nodes: 4, perNode: whole, preemptible: false }, 0);
  scheduler.advance(0);
  const ask: LeaseRequest = { id: 'storm', kind: 'urgent', arrival: 0, requestedStart: null, duration: HOUR, nodes: 1, perNode: whole, preemptible: false };
  const q = scheduler.quote(ask, 0);
  assert.ok(!q.ok);
  assert.equal(q.reason, 'insufficient-capacity');
  assert.equal(q.earliestStart, HOUR);
  scheduler.submit(ask, 0);
  const [d] = scheduler.advance(0).decisions;
  assert.equal(d.ok, false);
});

test('deadline: a preemptible lease is planned around a reservation in pieces, a non-preemptible one waits for a whole window', () => {
  const run = (preemptible: boolean) => {
    const requests: LeaseRequest[] = [
      { id: 'ar', kind: 'exact', arrival: 0, requestedStart: HOUR, duration: HOUR, nodes: 4, perNode: whole, preemptible: false },
      { id: 'report', kind: 'deadline', arrival: 0, requestedStart: null, deadline: 4 * HOUR, duration: 2 * HOUR, nodes: 2, perNode: whole, preemptible },
    ];
    const scheduler = simulate({ requests, nodes: POOL, config: configWith({ suspendRateMBps: 1024, resumeRateMBps: 1024 }) });
    const line = parseSchedule([...scheduleLines(scheduler.allLeases(), POOL)]).leases.find((l) => l.id === 'report')!;
    return line.segments.map((x) => [x.kind, x.start, x.end]);
  };
  assert.deepEqual(run(true), [['run', 0, HOUR - 1], ['suspend', HOUR - 1, HOUR], ['resume', 2 * HOUR, 2 * HOUR + 1], ['run', 2 * HOUR + 1, 3 * HOUR + 2]]);
  assert.deepEqual(run(false), [['run', 2 * HOUR, 4 * HOUR]]);
});

test('deadline: refused when it cannot end in time, with the earliest deadline it could meet', () => {
  const scheduler = new Scheduler(POOL, configWith({}));
  scheduler.submit({ id: 'ar', kind: 'exact', arrival: 0, requestedStart: 0, duration: 2 * HOUR, nodes: 4, perNode: whole, preemptible: false }, 0);
  scheduler.advance(0);
  const q = scheduler.quote({ id: 'report', kind: 'deadline', arrival: 0, requestedStart: null, deadline: 3 * HOUR, duration: 2 * HOUR, nodes: 1, perNode: whole, preemptible: false }, 0);
  assert.ok(!q.ok);
  assert.deepEqual(q.alternatives.map((a) => [a.kind, a.request.deadline]), [['later-deadline', 4 * HOUR]]);
});

test('periodic: all or nothing by default; with acceptPartial, the occurrences that fit, and the list of those that do not', () => {
  const blocker: LeaseRequest = { id: 'blocker', kind: 'exact', arrival: 0, requestedStart: 25 * HOUR, duration: HOUR, nodes: 4, perNode: whole, preemptible: false };
  const daily = (acceptPartial: boolean): LeaseRequest => ({
    id: 'daily', kind: 'periodic', arrival: 0, requestedStart: HOUR, duration: HOUR, nodes: 2, perNode: whole, preemptible: false,
    recurrence: { period: 24 * HOUR, count: 3, acceptPartial },
  });
  for (const partial of [false, true]) {
    const scheduler = new Scheduler(POOL, configWith({}));
    scheduler.submit(blocker, 0);
    scheduler.submit(daily(partial), 0);
    const d = scheduler.advance(0).decisions[1];
    if (!partial) {
      assert.ok(!d.ok);
      assert.deepEqual(d.refusedOccurrences, ['daily#2']);
      assert.equal(scheduler.lease('daily#1'), undefined, 'nothing half made');
    } else {
      assert.ok(d.ok);
      assert.deepEqual([d.occurrences, d.refusedOccurrences], [['daily#1', 'daily#3'], ['daily#2']]);
      assert.equal(scheduler.lease('daily#3')!.chain[0].start, 49 * HOUR);
    }
  }
});

test('periodic: occurrences that would overlap are refused as invalid, with why', () => {
  const scheduler = new Scheduler(POOL, configWith({ bootSeconds: 60 }));
  scheduler.submit({ id: 'p', kind: 'periodic', arrival: 0, requestedStart: HOUR, duration: HOUR, nodes: 1, perNode: whole, preemptible: false, recurrence: { period: HOUR, count: 2 } }, 0);
  const [d] = scheduler.advance(0).decisions;
  assert.ok(!d.ok);
  assert.equal(d.reason, 'invalid');
  assert.match(d.message, /period 3600 s is shorter than one occurrence \(3660 s with boot and shutdown\)/);
});

test('a site plugs in its own preemption policy: a score, lower gives way first', () => {
  const oldestFirst = { name: 'oldest-first', score: (c: { arrival: number }) => c.arrival };
  const victimsWith = (policy: string) => {
    const scheduler = new Scheduler(POOL, configWith({ preemptionPolicy: policy }), [oldestFirst]);
    const be = (id: string, arrival: number): LeaseRequest => ({ id, kind: 'best-effort', arrival, requestedStart: null, duration: 10 * HOUR, nodes: 2, perNode: whole, preemptible: true });
    scheduler.submit(be('first', 0), 0);
    scheduler.advance(0);
    scheduler.submit(be('second', 10), 10);
    scheduler.advance(10);
    scheduler.submit({ id: 'ar', kind: 'exact', arrival: 20, requestedStart: 2 * HOUR, duration: HOUR, nodes: 2, perNode: whole, preemptible: false }, 20);
    const [d] = scheduler.advance(20).decisions;
    return d.ok ? d.preempted!.map((p) => p.leaseId) : [];
  };
  assert.deepEqual(victimsWith('youngest-first'), ['second']);
  assert.deepEqual(victimsWith('oldest-first'), ['first']);
  assert.throws(() => new Scheduler(POOL, configWith({ preemptionPolicy: 'nobody' })), /unknown preemption policy 'nobody'; use one of youngest-first, least-work-lost/);
});
