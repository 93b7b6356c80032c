// Quotes: what they promise holds. A refusal's earliest start is feasible and nothing earlier is;
// every alternative offered is accepted when requested unchanged right after the quote; an
// acceptance is what a submission then gets; and quoting changes nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import type { Scheduler } from '../../src/core/scheduler.ts';
import type { LeaseRequest } from '../../src/core/types.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { describeScenario, type Scenario, scenarioArb } from './support/generators.ts';

/** The scheduler as the scenario leaves it at `t`: rebuilt from scratch, which determinism makes exact. */
function schedulerAt(s: Scenario, t: number): Scheduler {
  return simulate({ requests: s.requests, nodes: s.nodes, config: s.config, until: t });
}

function fingerprint(scheduler: Scheduler, s: Scenario): string {
  const calendars = Array.from({ length: s.nodes.length }, (_, n) => scheduler.table.reservationsOn(n).map((x) => [x.leaseId, x.kind, x.start, x.end]));
  return JSON.stringify([[...scheduleLines(scheduler.allLeases(), s.nodes)], calendars, scheduler.queueLength]);
}

/** Submits `req` at `t` to a fresh scheduler in the scenario's state at `t` and returns its decision. */
function decisionFor(s: Scenario, t: number, req: LeaseRequest) {
  const scheduler = schedulerAt(s, t);
  scheduler.submit(req, t);
  return scheduler.advance(t).decisions.find((d) => d.leaseId === req.id)!;
}

interface Ask {
  at: number;
  offset: number;
  duration: number;
  nodesFrac: number;
  share: number;
  kind: 'exact' | 'immediate' | 'urgent';
}

const askArb: fc.Arbitrary<Ask> = fc.record({
  at: fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
  offset: fc.integer({ min: 0, max: 8000 }),
  duration: fc.integer({ min: 1, max: 6000 }),
  nodesFrac: fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
  share: fc.constantFrom(0.25, 0.5, 1),
  kind: fc.constantFrom<Ask['kind']>('exact', 'exact', 'immediate', 'urgent'),
});

function askIn(s: Scenario, ask: Ask): { t: number; req: LeaseRequest } {
  const last = Math.max(0, ...s.requests.map((r) => r.arrival));
  const t = Math.floor(ask.at * (last + 3000));
  const minCpu = Math.min(...s.nodes.map((n) => n.cpu));
  const minMem = Math.min(...s.nodes.map((n) => n.memoryMiB));
  const req: LeaseRequest = {
    id: 'Q', kind: ask.kind, arrival: t, requestedStart: ask.kind === 'exact' ? t + ask.offset : null, duration: ask.duration,
    nodes: 1 + Math.floor(ask.nodesFrac * s.nodes.length), perNode: { cpu: minCpu * ask.share, memoryMiB: minMem * ask.share, diskMiB: 0 }, preemptible: false,
  };
  return { t, req };
}

test('a quote keeps its promises: earliest start feasible and earliest, alternatives accepted, acceptance as quoted, nothing changed', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 14 } }), askArb, (s, ask) => {
      const { t, req } = askIn(s, ask);
      const scheduler = schedulerAt(s, t);
      const before = fingerprint(scheduler, s);
      const q = scheduler.quote(req, t);
      const where = `quote ${JSON.stringify(q)} for ${JSON.stringify(req)} at ${t} in ${describeScenario(s)}`;
      if (q.ok) {
        const d = decisionFor(s, t, req);
        assert.ok(d.ok, `accepted when quoted, refused when submitted: ${JSON.stringify(d)}; ${where}`);
        assert.equal(d.start, q.start, where);
        assert.deepEqual(d.nodes, q.nodes, where);
      } else {
        if (q.earliestStart !== null && req.kind === 'exact') {
          assert.ok(q.earliestStart >= req.requestedStart!, where);
          const steps = 24;
          const span = q.earliestStart - req.requestedStart!;
          for (let k = 0; k < steps && span > 0; k++) {
            const start = req.requestedStart! + Math.floor((k * span) / steps);
            assert.equal(scheduler.quote({ ...req, requestedStart: start }, t).ok, false, `start ${start} also works, before the earliest ${q.earliestStart}; ${where}`);
          }
          if (span > 0) assert.equal(scheduler.quote({ ...req, requestedStart: q.earliestStart - 1 }, t).ok, false, `a second earlier works; ${where}`);
          assert.ok(decisionFor(s, t, { ...req, requestedStart: q.earliestStart }).ok, `the earliest start is refused; ${where}`);
        }
        for (const alt of q.alternatives) {
          const d = decisionFor(s, t, alt.request);
          assert.ok(d.ok, `alternative ${alt.kind} refused: ${JSON.stringify(d)}; ${where}`);
          assert.equal(d.start, alt.start, `alternative ${alt.kind} starts elsewhere; ${where}`);
        }
      }
      assert.equal(fingerprint(scheduler, s), before, `quoting changed the scheduler; ${where}`);
    }),
    { numRuns: 150 },
  );
});

test('a deadline quote is kept: accepted as quoted, or its later-deadline alternative is accepted and ends by it', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 14 } }), askArb, fc.integer({ min: 0, max: 6000 }), fc.boolean(), (s, ask, slack, preemptible) => {
      const { t, req: base } = askIn(s, ask);
      const req: LeaseRequest = { ...base, kind: 'deadline', requestedStart: null, deadline: t + base.duration + slack, preemptible };
      const q = schedulerAt(s, t).quote(req, t);
      const where = `quote ${JSON.stringify(q)} for ${JSON.stringify(req)} at ${t} in ${describeScenario(s)}`;
      if (q.ok) {
        assert.ok(q.end <= req.deadline!, where);
        const d = decisionFor(s, t, req);
        assert.ok(d.ok && d.end === q.end, `${JSON.stringify(d)}; ${where}`);
      } else {
        for (const alt of q.alternatives) {
          const d = decisionFor(s, t, alt.request);
          assert.ok(d.ok && d.end! <= alt.request.deadline!, `${JSON.stringify(d)}; ${where}`);
        }
      }
    }),
    { numRuns: 150 },
  );
});

test('a decision right after a quote (answered from the remembered plan) is what a scheduler that was not asked decides', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { maxLeases: 12 } }), askArb, (s, ask) => {
      const { t, req } = askIn(s, ask);
      const asked = schedulerAt(s, t);
      asked.quote(req, t);
      asked.submit(req, t);
      const afterQuote = asked.advance(t).decisions;
      const fresh = schedulerAt(s, t);
      fresh.submit(req, t);
      assert.deepEqual(afterQuote, fresh.advance(t).decisions, describeScenario(s));
      assert.equal(fingerprint(asked, s), fingerprint(fresh, s));
    }),
    { numRuns: 150 },
  );
});
