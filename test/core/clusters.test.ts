// Virtual clusters in the core: every kind of lease as a cluster, mixed with plain leases, on
// random pools. A cluster's roles are co-allocated: their segments share kinds and times, each
// role on distinct nodes, nodes never overcommitted, and it is never partly running.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { configArb, describeScenario, type Scenario } from './support/generators.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { clusterScenarioArb } from './support/cluster-generators.ts';
import { PlanHarness } from './support/plan-harness.ts';
import { runScenario, violationsOf } from './support/run.ts';
import { validateSchedule } from '../support/validate-schedule.ts';
import { Driver } from './support/hand-driver.ts';

interface Line {
  id: string;
  cluster?: string;
  nodes: number;
  outcome: string;
  segments: Array<{ start: number; end: number; nodes: string[]; kind: string }>;
}

/** Why the export's cluster lines break co-allocation, as messages (none when they keep it). */
function clusterViolations(s: Scenario, lines: readonly string[]): string[] {
  const out: string[] = [];
  const parsed: Line[] = lines.slice(1).map((l) => JSON.parse(l));
  const groups = new Map<string, Line[]>();
  for (const l of parsed) if (l.cluster !== undefined) groups.set(l.cluster, [...(groups.get(l.cluster) ?? []), l]);
  for (const req of s.requests) {
    if (!req.roles) continue;
    const ids = req.kind === 'periodic' ? [...groups.keys()].filter((c) => c.startsWith(`${req.id}#`) && !c.includes('/')) : [req.id];
    for (const id of ids) {
      const group = groups.get(id) ?? [];
      if (group.length !== req.roles.length) out.push(`cluster ${id}: ${group.length} lines for ${req.roles.length} roles`);
    }
  }
  for (const [id, group] of groups) {
    const shape = (l: Line) => JSON.stringify([l.outcome, l.segments.map((x) => [x.kind, x.start, x.end])]);
    if (new Set(group.map(shape)).size > 1) out.push(`cluster ${id}: roles differ in outcome or segment kinds and times`);
    for (const l of group) {
      for (const seg of l.segments) {
        if (new Set(seg.nodes).size !== seg.nodes.length) out.push(`${l.id}: a ${seg.kind} segment holds two members of one role on one node`);
        if (seg.nodes.length !== l.nodes) out.push(`${l.id}: a ${seg.kind} segment on ${seg.nodes.length} nodes for ${l.nodes} members`);
      }
    }
  }
  return out;
}

test('clusters of every kind among plain leases: capacity kept, roles co-allocated on distinct nodes, all or nothing', () => {
  fc.assert(
    fc.property(clusterScenarioArb(), (s) => {
      const run = runScenario(s);
      assert.deepEqual(violationsOf(s, run), [], describeScenario(s));
      assert.deepEqual(clusterViolations(s, run.lines), [], describeScenario(s));
    }),
    { numRuns: 300 },
  );
});

test('clusters that are suspended, resumed and migrated stay co-allocated', () => {
  fc.assert(
    fc.property(clusterScenarioArb({ kinds: ['best-effort', 'best-effort', 'exact', 'urgent'] }), (s) => {
      const run = runScenario(s);
      assert.deepEqual(violationsOf(s, run), [], describeScenario(s));
      assert.deepEqual(clusterViolations(s, run.lines), [], describeScenario(s));
    }),
    { numRuns: 300 },
  );
});

test('the same clusters give the same schedule', () => {
  fc.assert(
    fc.property(clusterScenarioArb(), (s) => {
      assert.deepEqual(runScenario(structuredClone(s)).lines, runScenario(structuredClone(s)).lines, describeScenario(s));
    }),
    { numRuns: 60 },
  );
});

test('a quoted cluster plan is what a create then does', () => {
  fc.assert(
    fc.property(clusterScenarioArb({ maxLeases: 12 }), (s) => {
      const quoted = new PlanHarness(s.nodes, s.config);
      const plain = new PlanHarness(s.nodes, s.config);
      const quotedLines = quoted.run(structuredClone(s.requests), true);
      const plainLines = plain.run(structuredClone(s.requests), false);
      assert.deepEqual(quoted.decisions, plain.decisions, describeScenario(s));
      assert.deepEqual(quotedLines, plainLines, describeScenario(s));
      assert.equal(quoted.planned.length, s.requests.length, 'no request was planned a second time');
    }),
    { numRuns: 100 },
  );
});

test('the shared checker accepts schedules with clusters, and checks their lines together', () => {
  fc.assert(
    fc.property(clusterScenarioArb({ kinds: ['best-effort', 'best-effort', 'exact', 'urgent', 'deadline'] }), (s) => {
      const run = runScenario(s);
      const checked = validateSchedule(`${run.lines.join('\n')}\n`, ['--runtime-overhead', String(s.config.runtimeOverheadPercent)]);
      assert.equal(checked.status, 0, `${checked.output}\n${describeScenario(s)}`);
    }),
    { numRuns: 25 },
  );
});

test('owner actions and a lost node act on a cluster as a whole: it never runs in part, and the schedule checks', () => {
  const action = fc.record({ at: fc.integer({ min: 1, max: 4000 }), what: fc.constantFrom('suspend', 'resume', 'finish', 'cancel', 'lose'), pick: fc.nat() });
  fc.assert(
    // Without a runtime overhead: an early end's real duration is rounded back from stretched seconds (unstretchedSeconds), which the checker's exact run total does not allow for, clusters or not.
    fc.property(clusterScenarioArb({ kinds: ['best-effort', 'best-effort', 'exact', 'deadline', 'urgent'], config: configArb({ runtimeOverheadPercent: fc.constant(0) }) }), fc.array(action, { maxLength: 6 }), (s, actions) => {
      // As in a live service: no request knows its real duration; an early end says how long it ran.
      const driver = new Driver({ ...s, requests: s.requests.map(({ realDuration: _, ...r }) => r) });
      const scheduler = driver.scheduler;
      const lost: number[] = [];
      const finished = new Set<string>();
      for (const a of [...actions].sort((x, y) => x.at - y.at)) {
        driver.runTo(Math.max(a.at, scheduler.time));
        const now = scheduler.time;
        const clusters = scheduler.allLeases().filter((l) => l.req.roles);
        const c = clusters.length > 0 ? clusters[a.pick % clusters.length] : undefined;
        if (a.what === 'lose') {
          const n = a.pick % s.nodes.length;
          if (!lost.includes(n) && scheduler.loseNode(n, now).ok) lost.push(n);
        } else if (c && a.what === 'suspend') scheduler.suspendByOwner(c.req.id, now);
        else if (c && a.what === 'resume') scheduler.resumeByOwner(c.req.id, now);
        else if (c && a.what === 'finish' && scheduler.finishEarly(c.req.id, now).ok) finished.add(c.req.id);
        else if (c && a.what === 'cancel') scheduler.cancel(c.req.id, now);
        scheduler.advance(now);
        for (const l of clusters) {
          const active = l.chain.filter((x) => x.active);
          assert.ok(active.length === 0 || active.length === l.req.roles!.length, `${l.req.id} runs in part at ${now}: ${describeScenario(s)}`);
        }
      }
      const back = scheduler.time + 1;
      driver.runTo(back);
      for (const n of lost) scheduler.regainNode(n, back);
      for (const l of scheduler.allLeases()) if (l.parked) scheduler.resumeByOwner(l.req.id, back);
      scheduler.advance(back);
      driver.runUntilIdle();
      const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
      const withdrawn = new Set(scheduler.allLeases().filter((l) => l.state === 'cancelled').flatMap((l) => (l.req.roles ? l.req.roles.map((r) => `${l.req.id}/${r.name}`) : [l.req.id])));
      // A lease's attempt records are named by its line: a cluster's by each role's line (LEASE/ROLE).
      const finishedByOwner = new Set([...finished].flatMap((id) => [id, ...(scheduler.allLeases().find((l) => l.req.id === id)?.req.roles ?? []).map((r) => `${id}/${r.name}`)]));
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true, withdrawn, finishedByOwner }), [], describeScenario(s));
      assert.deepEqual(clusterViolations(s, lines), [], describeScenario(s));
    }),
    { numRuns: 200 },
  );
});
