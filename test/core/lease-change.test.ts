// Changes to live leases: quoting one changes nothing; a change quoted as possible is accepted by
// a fresh scheduler at the same state, with the same result; every alternative offered is
// accepted; no change moves another lease's exact reservation; the schedule still checks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import type { LeaseChange } from '../../src/core/change-plan.ts';
import type { LeaseRecord } from '../../src/core/lease-record.ts';
import type { Scheduler } from '../../src/core/scheduler.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { describeScenario, type Scenario, scenarioArb } from './support/generators.ts';
import { clusterScenarioArb } from './support/cluster-generators.ts';
import { Driver } from './support/hand-driver.ts';
import { checkSchedule } from './support/schedule-checker.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

interface Ask {
  at: number;
  pick: number;
  what: 'extend' | 'shorten' | 'start' | 'nodes' | 'shape' | 'members' | 'bandwidth';
  amount: number;
  nodes: number;
  share: number;
}

const askArb: fc.Arbitrary<Ask> = fc.record({
  at: fc.integer({ min: 0, max: 6000 }),
  pick: fc.nat(),
  what: fc.constantFrom<Ask['what']>('extend', 'extend', 'shorten', 'start', 'nodes', 'shape', 'members', 'bandwidth'),
  amount: fc.integer({ min: 1, max: 4000 }),
  nodes: fc.integer({ min: 1, max: 4 }),
  share: fc.constantFrom(0.25, 0.5, 1),
});

/**
 * Scenarios whose leases run their whole duration (a change of duration is then what they run),
 * on nodes that may lease 100 Mbit/s, of which leases may ask some (and a change some more).
 */
const plainScenario = fc.tuple(scenarioArb({ stream: { maxLeases: 12 } }), fc.boolean(), fc.array(fc.constantFrom(undefined, 30, 60), { minLength: 12, maxLength: 12 }))
  .map(([s, leasing, asked]): Scenario => ({
    ...s,
    nodes: leasing ? s.nodes.map((n) => ({ ...n, bandwidthMbps: 100 })) : s.nodes,
    requests: s.requests.map(({ realDuration: _, ...r }, i) => (asked[i] === undefined || r.roles ? r : { ...r, perNode: { ...r.perNode, bandwidthMbps: asked[i] } })),
  }));

function changeFor(s: Scenario, lease: LeaseRecord, ask: Ask, now: number): LeaseChange {
  const req = lease.req;
  switch (ask.what) {
    case 'extend': return { duration: req.duration + ask.amount };
    case 'shorten': return { duration: Math.max(1, req.duration - ask.amount) };
    case 'start': return { start: now + ask.amount };
    case 'nodes': return { nodes: ask.nodes };
    case 'shape': return { cpu: Math.min(...s.nodes.map((n) => n.cpu)) * ask.share, memoryMiB: Math.max(1, Math.floor(Math.min(...s.nodes.map((n) => n.memoryMiB)) * ask.share)) };
    case 'bandwidth': return req.roles ? { duration: req.duration + ask.amount } : { bandwidthMbps: [10, 60, 100][ask.pick % 3] };
    case 'members': {
      const roles = req.roles ?? [];
      return roles.length > 0 ? { roles: { [roles[ask.pick % roles.length].name]: ask.nodes } } : { nodes: ask.nodes };
    }
  }
}

interface Done {
  at: number;
  id: string;
  change: LeaseChange;
}

/**
 * A scheduler that heard the scenario and the changes made so far, brought to `t` through the
 * same instants as the one it is compared with: a scheduler woken at an instant with no event of
 * its own may start what waits then (an image's transfer), as a service's is.
 */
function replayed(s: Scenario, changes: readonly Done[], instants: readonly number[], t: number): Driver {
  const d = new Driver(s);
  let k = 0;
  for (const at of [...instants, t]) {
    d.runTo(at);
    for (; k < changes.length && changes[k].at === at; k++) {
      assert.ok(d.scheduler.change(changes[k].id, changes[k].change, at).ok, `a change made before is refused in a replay: ${JSON.stringify(changes[k])}`);
      d.scheduler.advance(at);
    }
  }
  return d;
}

function fingerprint(scheduler: Scheduler, s: Scenario): string {
  const calendars = Array.from({ length: s.nodes.length }, (_, n) => scheduler.table.reservationsOn(n).map((x) => [x.leaseId, x.kind, x.start, x.end, x.cpu, x.memoryMiB]));
  return JSON.stringify([[...scheduleLines(scheduler.allLeases(), s.nodes)], calendars, scheduler.queueLength, scheduler.version]);
}

/** The planned and past runs of every exact lease but `except`, as they stand. */
function exactRuns(scheduler: Scheduler, except: string): string {
  return JSON.stringify(scheduler.allLeases().filter((l) => l.req.kind === 'exact' && l.req.id !== except && l.state !== 'cancelled' && l.state !== 'rejected')
    .map((l) => [l.req.id, [...l.history, ...l.chain].filter((x) => x.kind === 'run' && !x.removed).map((x) => [x.start, x.end, [...x.nodes]])]));
}

/** A fresh seed each run, unless VWS_CHANGE_SEED names one (fast-check prints the seed of a failure). */
const seeded = process.env.VWS_CHANGE_SEED ? { seed: Number(process.env.VWS_CHANGE_SEED) } : {};

/** How the accepted changes were done, over every run: the property is not vacuous. */
const seen = new Map<string, number>();
let runs = 0;

/** The property, for one scenario and its asks. */
function changesKeepPromises(s: Scenario, asks: readonly Ask[]): void {
  const driver = new Driver(s);
  const scheduler = driver.scheduler;
  const made: Done[] = [];
  const instants: number[] = [];
  for (const ask of [...asks].sort((a, b) => a.at - b.at)) {
    driver.runTo(Math.max(ask.at, scheduler.time));
    const now = scheduler.time;
    if (instants[instants.length - 1] !== now) instants.push(now);
    const live = scheduler.allLeases().filter((l) => l.state !== 'expanded');
    if (live.length === 0) continue;
    const lease = live[ask.pick % live.length];
    const id = lease.req.id;
    const change = changeFor(s, lease, ask, now);
    const where = `change ${JSON.stringify(change)} of ${id} at ${now} after ${JSON.stringify(made)} in ${describeScenario(s)}`;
    const before = fingerprint(scheduler, s);
    const plan = scheduler.planChange(id, change, now);
    assert.equal(fingerprint(scheduler, s), before, `planning the change changed the scheduler; ${where}`);
    if (plan.ok) {
      const others = exactRuns(scheduler, id);
      const fresh = replayed(s, made, instants, now);
      const freshDone = fresh.scheduler.change(id, change, now);
      assert.ok(freshDone.ok, `quoted as possible, refused by a fresh scheduler: ${JSON.stringify(freshDone)}; ${where}`);
      assert.ok(scheduler.change(id, change, now, plan).ok, where);
      scheduler.advance(now);
      fresh.scheduler.advance(now);
      assert.equal(fingerprint(scheduler, s), fingerprint(fresh.scheduler, s), `the quoted plan and a fresh one differ; ${where}`);
      assert.equal(exactRuns(scheduler, id), others, `a change moved an exact reservation; ${where}`);
      made.push({ at: now, id, change });
      seen.set(plan.how.kind, (seen.get(plan.how.kind) ?? 0) + 1);
      if (plan.request.roles) seen.set('cluster', (seen.get('cluster') ?? 0) + 1);
    } else {
      if (plan.alternatives.length > 0) seen.set('alternatives', (seen.get('alternatives') ?? 0) + 1);
      for (const alt of plan.alternatives) {
        const fresh = replayed(s, made, instants, now);
        const r = fresh.scheduler.change(id, alt.change, now);
        assert.ok(r.ok, `alternative ${JSON.stringify(alt)} refused: ${JSON.stringify(r)}; refusal ${plan.message}; ${where}`);
      }
    }
  }
  driver.runUntilIdle();
  const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
  const withdrawn = new Set(scheduler.allLeases().filter((l) => l.state === 'cancelled').map((l) => l.req.id));
  assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true, withdrawn }), [], `after ${JSON.stringify(made)} in ${describeScenario(s)}`);
  // The shared checker, on a sample (a Python process each).
  if (made.length > 0 && runs++ % 8 === 0) {
    const checked = validateSchedule(`${lines.join('\n')}\n`, ['--runtime-overhead', String(s.config.runtimeOverheadPercent)]);
    assert.equal(checked.status, 0, `${checked.output}\nafter ${JSON.stringify(made)} in ${describeScenario(s)}`);
  }
}

test('a change keeps its promises: quoting changes nothing, a quoted change is what a fresh scheduler does, alternatives are accepted, exact reservations stay, the schedule checks', () => {
  fc.assert(
    fc.property(plainScenario, fc.array(askArb, { minLength: 1, maxLength: 3 }), (s, asks) => changesKeepPromises(s, asks)),
    { numRuns: 200, ...seeded },
  );
});

test('a change of a cluster lease before it begins (its members by role, its duration, its start) keeps the same promises', () => {
  const clusters = clusterScenarioArb({ kinds: ['exact', 'exact', 'best-effort', 'deadline'] }).map((s): Scenario => ({ ...s, requests: s.requests.map(({ realDuration: _, ...r }) => r) }));
  const before = seen.get('cluster') ?? 0;
  fc.assert(fc.property(clusters, fc.array(askArb, { minLength: 1, maxLength: 3 }), (s, asks) => changesKeepPromises(s, asks)), { numRuns: 100, ...seeded });
  assert.ok((seen.get('cluster') ?? 0) > before, 'no change of a cluster was accepted in 100 runs');
});

// Over both properties' 300 runs: a queued best-effort lease is picked by one in a few hundred asks.
test('the change properties did each kind of change', () => {
  for (const how of ['replan', 'in-place', 'requeue', 'alternatives']) assert.ok((seen.get(how) ?? 0) > 0, `no change was ${how} in 300 runs: ${JSON.stringify([...seen])}`);
});

