import type { SchedulerConfig } from '../core/config.ts';
import { stretchedSeconds } from '../core/costs.ts';
import type { LeaseRequest } from '../core/types.ts';

/** Real work of a lease in run seconds: what it does before it ends by itself. */
export function realWorkOf(req: LeaseRequest, config: SchedulerConfig): number {
  const real = Math.min(req.realDuration ?? req.duration, req.duration);
  return req.kind === 'best-effort' ? stretchedSeconds(real, config.runtimeOverheadPercent) : real;
}
