// Runs a generated scenario through the simulator and exports its schedule.

import type { Scheduler, StepResult } from '../../../src/core/scheduler.ts';
import { computeMetrics, type SimMetrics } from '../../../src/sim/metrics.ts';
import { scheduleLines } from '../../../src/sim/schedule-export.ts';
import { simulate } from '../../../src/sim/simulator.ts';
import type { Scenario } from './generators.ts';
import { checkSchedule } from './schedule-checker.ts';

export interface ScenarioRun {
  scheduler: Scheduler;
  lines: string[];
  metrics: SimMetrics;
}

export function runScenario(s: Scenario): ScenarioRun {
  const scheduler = simulate({ requests: s.requests, nodes: s.nodes, config: s.config });
  const lines = [...scheduleLines(scheduler.allLeases(), s.nodes)];
  return { scheduler, lines, metrics: computeMetrics(scheduler.allLeases(), s.nodes, 0) };
}

/** The checker's violations for a drained run of the scenario. */
export function violationsOf(s: Scenario, run: ScenarioRun = runScenario(s)): string[] {
  return checkSchedule(run.lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true });
}

/** One step of a scheduler driven by hand, as a line to compare: its decisions, and the segments it started, ended and completed. */
export function stepLine(now: number, step: StepResult): string {
  return JSON.stringify({
    now, decisions: step.decisions,
    started: step.started.map((x) => [x.leaseId, x.kind, x.start, x.end, x.nodes]),
    ended: step.ended.map((x) => [x.leaseId, x.kind, x.start, x.end]),
    completed: step.completed.map((l) => l.req.id),
  });
}
