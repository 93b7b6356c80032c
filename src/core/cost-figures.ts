// The figures of the cost model that measurements may replace while the scheduler runs: how fast
// memory is saved, restored and moved, and how long a boot takes. The rest of the configuration
// is policy, which stays as the service was started with.

import type { SchedulerConfig } from './config.ts';

export type CostFigures = Partial<Pick<SchedulerConfig, 'suspendRateMBps' | 'resumeRateMBps' | 'migrateBandwidthMBps' | 'bootSeconds'>>;

const RATES = ['suspendRateMBps', 'resumeRateMBps', 'migrateBandwidthMBps'] as const;
/** Every figure that may be set: nothing else of the configuration is. */
export const COST_FIGURE_KEYS = [...RATES, 'bootSeconds'] as const;

/** What is wrong with the figures, or null when the scheduler can plan with them. */
export function costFiguresProblem(figures: CostFigures): string | null {
  for (const key of RATES) {
    const v = figures[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) return `${key} must be a positive number of MiB/s, got ${v}`;
  }
  const boot = figures.bootSeconds;
  // Core time is whole seconds: a fractional boot would put segment boundaries between them.
  if (boot !== undefined && !(Number.isInteger(boot) && boot >= 0)) return `bootSeconds must be a whole number of seconds >= 0, got ${boot}`;
  if (RATES.every((k) => figures[k] === undefined) && boot === undefined) return 'no figure to set: give at least one of suspendRateMBps, resumeRateMBps, migrateBandwidthMBps, bootSeconds';
  return null;
}
