// Holds: a held lease's resources are its own until it is committed or the hold expires; two
// holds never share resources; an expired hold leaves nothing behind; a committed one runs.

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
import { checkSchedule, parseSchedule } from './support/schedule-checker.ts';
import { assertRefused } from './support/refusals.ts';

/** Every node's reservations, summed at every instant, against its capacity. */
function overCommitted(scheduler: Scheduler, nodes: readonly NodeSpec[]): string[] {
  const out: string[] = [];
  nodes.forEach((spec, n) => {
    const events = scheduler.table.reservationsOn(n).flatMap((s) => [[s.start, s.cpu, s.memoryMiB], [s.end, -s.cpu, -s.memoryMiB]]);
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cpu = 0;
    let mem = 0;
    for (const [t, c, m] of events) {
      cpu += c;
      mem += m;
      if (cpu > spec.cpu + 1e-9 || mem > spec.memoryMiB + 1e-9) out.push(`node ${spec.id} holds ${cpu} CPU / ${mem} MiB at ${t}`);
    }
  });
  return out;
}

const holdArb = fc.record({
  offset: fc.integer({ min: 1, max: 6000 }),
  duration: fc.integer({ min: 1, max: 4000 }),
  nodesFrac: fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
  ttl: fc.integer({ min: 1, max: 3000 }),
  commit: fc.boolean(),
});

test('holds never share resources; expired ones leave nothing, committed ones run on time', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 12 } }), fc.integer({ min: 0, max: 5000 }), fc.array(holdArb, { minLength: 1, maxLength: 5 }), (s0, t, asks) => {
      // Leases run their full duration here, so that the drain below needs no early ends.
      const s = { ...s0, requests: s0.requests.map((r) => ({ ...r, realDuration: r.duration })) };
      const scheduler = simulate({ requests: s.requests, nodes: s.nodes, config: s.config, until: t });
      const minCpu = Math.min(...s.nodes.map((n) => n.cpu));
      const minMem = Math.min(...s.nodes.map((n) => n.memoryMiB));
      const held: Array<{ req: LeaseRequest; commit: boolean }> = [];
      asks.forEach((a, i) => {
        const req: LeaseRequest = {
          id: `H${i + 1}`, kind: 'exact', arrival: t, requestedStart: t + a.offset, duration: a.duration, realDuration: a.duration,
          nodes: 1 + Math.floor(a.nodesFrac * (s.nodes.length - 1)), perNode: { cpu: minCpu, memoryMiB: minMem, diskMiB: 0 }, preemptible: false,
        };
        if (scheduler.hold(req, t, a.ttl).ok) held.push({ req, commit: a.commit });
      });
      assert.deepEqual(overCommitted(scheduler, s.nodes), [], describeScenario(s));
      for (const h of held) if (h.commit) assert.ok(scheduler.commit(h.req.id, t).ok);
      for (let now = scheduler.nextEventTime(); now !== Infinity; now = scheduler.nextEventTime()) scheduler.advance(now);
      const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
      const withdrawn = new Set(held.filter((h) => !h.commit).map((h) => h.req.id));
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true, withdrawn }), [], describeScenario(s));
      const { leases } = parseSchedule(lines);
      for (const h of held) {
        const l = leases.find((x) => x.id === h.req.id)!;
        if (h.commit) assert.equal(l.outcome, 'completed', `${h.req.id} was committed`);
        else assert.deepEqual([l.outcome, l.segments], ['cancelled', []], `${h.req.id} expired`);
      }
    }),
    { numRuns: 200 },
  );
});

const NODES: NodeSpec[] = [{ id: 'n1', cpu: 1, memoryMiB: 1024, diskMiB: 0 }, { id: 'n2', cpu: 1, memoryMiB: 1024, diskMiB: 0 }];
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const exact = (id: string, start: number, nodes: number): LeaseRequest => ({ id, kind: 'exact', arrival: 0, requestedStart: start, duration: 3600, nodes, perNode: whole, preemptible: false });

test('a second hold on held resources is refused, and gets them once the first hold expires', () => {
  const scheduler = new Scheduler(NODES, configWith({}));
  scheduler.advance(0);
  const first = scheduler.hold(exact('a', 7200, 2), 0, 600);
  assert.ok(first.ok && first.state === 'held');
  const refused = scheduler.hold(exact('b', 7200, 1), 0, 600);
  assert.equal(refused.ok, false);
  assert.equal(scheduler.nextEventTime(), 600, 'the hold expires at 600');
  scheduler.advance(600);
  assert.equal(scheduler.lease('a')!.state, 'cancelled');
  assert.equal(scheduler.commit('a', 600).ok, false, 'too late to commit');
  scheduler.submit(exact('c', 7200, 2), 600);
  assert.equal(scheduler.advance(600).decisions[0].ok, true, 'the freed nodes are free again');
});

test('a hold is refused for a lease that would begin now: there is nothing to hold', () => {
  const scheduler = new Scheduler(NODES, configWith({}));
  scheduler.advance(100);
  const d = scheduler.hold(exact('now', 100, 1), 100, 600);
  assert.deepEqual([d.ok, !d.ok && 'reason' in d && d.reason], [false, 'too-late']);
  assert.equal(scheduler.table.reservationsOn(0).length + scheduler.table.reservationsOn(1).length, 0);
});

test('a hold lasts at most until just before its lease begins', () => {
  const scheduler = new Scheduler(NODES, configWith({}));
  scheduler.advance(0);
  scheduler.hold(exact('soon', 300, 1), 0, 3600);
  assert.equal(scheduler.lease('soon')!.heldUntil, 300);
});

test('quote at a time the scheduler is not at throws with what to do (a bug of the caller); a hold it cannot do is a refusal', () => {
  const scheduler = new Scheduler(NODES, configWith({}));
  scheduler.advance(50);
  assert.throws(() => scheduler.quote(exact('x', 7200, 1), 60), /advance it to 60 first/);
  assertRefused(scheduler.hold({ ...exact('y', 7200, 1), kind: 'best-effort', requestedStart: null }, 50, 60), 'unsupported', /a best-effort lease cannot be held/);
  assertRefused(scheduler.hold(exact('y', 7200, 1), 50, 0), 'invalid', /a hold must last more than 0 s, got 0/);
  assertRefused(scheduler.commit('nobody', 50), 'not-found', /no lease 'nobody' to commit/);
  assert.equal(scheduler.lease('y'), undefined, 'a refused hold leaves no lease behind');
});
