// Runs a generated scenario through the simulator and exports its schedule.

import type { Scheduler } from '../../../src/core/scheduler.ts';
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
