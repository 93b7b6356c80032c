// An accepted advance reservation starts exactly on time even when best-effort leases are in
// its way: they are suspended (preemption 'suspend') or cancelled and queued again ('requeue');
// non-preemptible ones are never touched.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import './support/setup.ts';
import type { LeaseRecord } from '../../src/core/lease-record.ts';
import { configArb, describeScenario, preemptionScenarioArb, type PreemptionScenario } from './support/generators.ts';
import { moveSeconds, nonPreemptibleViolations, suspensionSegmentsIn } from './support/lease-checks.ts';
import { runScenario, violationsOf } from './support/run.ts';
import { parseSchedule } from './support/schedule-checker.ts';

function firstNodes(l: LeaseRecord): string[] {
  const seg = l.lost[0]?.segments[0] ?? l.history[0];
  return seg ? seg.nodes.map((i) => `n${i + 1}`) : [];
}

/** The fill leases whose nodes the accepted reservation took (empty if it was rejected). */
function victimsOf(s: PreemptionScenario, run: ReturnType<typeof runScenario>): LeaseRecord[] {
  const arRun = run.scheduler.lease('AR')!.history.find((x) => x.kind === 'run');
  if (!arRun) return [];
  const arNodes = new Set(arRun.nodes.map((i) => `n${i + 1}`));
  return s.fill.map((f) => run.scheduler.lease(f.id)!).filter((l) => firstNodes(l).some((n) => arNodes.has(n)));
}

/** Everything the scenario promises, as a list of problems (empty when all holds). */
function preemptionProblems(s: PreemptionScenario): string[] {
  const run = runScenario(s);
  const problems = [...violationsOf(s, run), ...nonPreemptibleViolations(s.requests, run.lines)];
  const { leases } = parseSchedule(run.lines);
  const arLine = leases.find((l) => l.id === 'AR')!;
  const records = new Map(run.scheduler.allLeases().map((l) => [l.req.id, l]));
  const fits = s.ar.nodes <= s.preemptibleNodes;
  if (!fits) {
    if (arLine.outcome !== 'rejected') problems.push(`AR asks ${s.ar.nodes} nodes, only ${s.preemptibleNodes} can be freed, yet it is ${arLine.outcome}`);
    for (const f of s.fill) if (records.get(f.id)!.preemptions > 0) problems.push(`${f.id} preempted for a rejected reservation`);
    return problems;
  }
  if (arLine.outcome !== 'completed') return [...problems, `AR asks ${s.ar.nodes} of ${s.preemptibleNodes} preemptible nodes but is ${arLine.outcome} (${arLine.reason ?? ''})`];
  const arRun = arLine.segments.find((x) => x.kind === 'run');
  if (!arRun || arRun.start !== s.ar.requestedStart) problems.push(`AR runs from ${arRun?.start}, not ${s.ar.requestedStart}`);
  const arNodes = new Set(arRun?.nodes ?? []);
  const from = s.ar.requestedStart! - s.config.bootSeconds;

  for (const f of s.fill) {
    const rec = records.get(f.id)!;
    const lines = leases.filter((l) => l.id === f.id || l.id.startsWith(`${f.id}/attempt-`));
    const segs = lines.flatMap((l) => l.segments);
    const victim = firstNodes(rec).some((n) => arNodes.has(n));
    if (!victim) {
      if (rec.lost.length > 0 || segs.filter((x) => x.kind === 'run').length !== 1 || segs.some((x) => x.kind === 'suspend')) {
        problems.push(`${f.id} was not in the reservation's way but was cut: ${JSON.stringify(segs)}`);
      }
      continue;
    }
    if (!f.preemptible) {
      problems.push(`${f.id} is not preemptible but the reservation took its nodes`);
      continue;
    }
    if (s.config.preemption === 'suspend') {
      const sus = moveSeconds(f.perNode.memoryMiB, s.config.suspendRateMBps);
      if (rec.lost.length > 0) problems.push(`${f.id} lost its work although it could be suspended in time`);
      const cut = segs.find((x) => x.kind === 'run' && x.end === from - sus);
      if (!cut) problems.push(`${f.id}: no run ends at ${from - sus} (the reservation's first segment at ${from} minus a ${sus} s suspension): ${JSON.stringify(segs)}`);
      if (sus > 0 && !segs.some((x) => x.kind === 'suspend' && x.start === from - sus && x.end === from)) {
        problems.push(`${f.id}: no suspend segment [${from - sus}, ${from}): ${JSON.stringify(segs)}`);
      }
    } else {
      if (rec.lost.length === 0) problems.push(`${f.id} was in the reservation's way but was not cancelled and queued again (preemption requeue)`);
    }
  }
  if (s.config.preemption === 'requeue') problems.push(...suspensionSegmentsIn(run.lines));
  return problems;
}

function assertScenarios(arb: fc.Arbitrary<PreemptionScenario>, numRuns: number): void {
  fc.assert(
    fc.property(arb, (s) => {
      const problems = preemptionProblems(s);
      assert.deepEqual(problems, [], `scenario ${describeScenario(s)}`);
    }),
    { numRuns },
  );
}

test('an accepted reservation starts on time over suspended best-effort leases (preemption suspend)', () => {
  // The reservation is asked for at least 600 s ahead and boots in under 100 s: the victims' notice (until its boot) fits, so it may preempt.
  assertScenarios(preemptionScenarioArb(configArb({ preemption: fc.constant('suspend'), preemptionNoticeSeconds: fc.integer({ min: 0, max: 500 }) })), 300);
});

test('an accepted reservation starts on time over re-queued best-effort leases (preemption requeue)', () => {
  assertScenarios(preemptionScenarioArb(configArb({ preemption: fc.constant('requeue'), preemptionNoticeSeconds: fc.integer({ min: 0, max: 500 }) })), 300);
});

test('every suspension of a victim counts in the lease and in the metrics, a zero-cost one (infinite suspend rate) too', () => {
  fc.assert(
    fc.property(preemptionScenarioArb(configArb({ preemption: fc.constant('suspend') })), (s) => {
      const run = runScenario(s);
      const victims = victimsOf(s, run).filter((l) => l.req.preemptible && l.lost.length === 0);
      for (const v of victims) {
        assert.ok(v.suspensions >= 1, `${v.req.id} was suspended for the reservation but counts ${v.suspensions} suspensions; ${describeScenario(s)}`);
      }
      assert.ok(run.metrics.suspensions >= victims.length, `metrics count ${run.metrics.suspensions} suspensions for ${victims.length} suspended victims; ${describeScenario(s)}`);
    }),
    { numRuns: 200 },
  );
});
