import type { SchedulerConfig } from './config.ts';
import type { PlanContext, Planned } from './plan-context.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import { planExact, type ReservationPlan } from './reservation-planner.ts';
import type { LeaseRequest } from './types.ts';

export const MAX_OCCURRENCES = 1000;

/** The id of occurrence k (from 1) of a periodic lease. */
export const occurrenceId = (id: string, k: number): string => `${id}#${k}`;

/** The periodic lease an occurrence id belongs to, or null for any other id. */
export function seriesOf(id: string): string | null {
  const hash = id.lastIndexOf('#');
  return hash < 0 ? null : id.slice(0, hash);
}

/** How many leases a request stands for: its occurrences for a periodic lease (at least 1, at most MAX_OCCURRENCES), else 1. */
export function occurrenceCount(req: Pick<LeaseRequest, 'recurrence' | 'requestedStart'>): number {
  const r = req.recurrence;
  if (!r || !(r.period > 0)) return 1;
  const count = r.count ?? (r.until !== undefined && req.requestedStart !== null ? Math.floor((r.until - req.requestedStart - 1) / r.period) + 1 : 1);
  return Number.isInteger(count) ? Math.min(MAX_OCCURRENCES, Math.max(1, count)) : 1;
}

/**
 * The exact leases a periodic lease stands for, or what is wrong with it. Occurrences may not
 * overlap (each needs its boot, run and shutdown before the next boots).
 */
export function expandOccurrences(req: LeaseRequest, config: SchedulerConfig): LeaseRequest[] | string {
  const r = req.recurrence;
  if (!r) return 'a periodic lease needs a recurrence (period, and count or until)';
  if (req.requestedStart === null) return 'a periodic lease needs the start of its first occurrence';
  if (!Number.isInteger(r.period) || r.period <= 0) return `period ${r.period} is not a whole number of seconds > 0`;
  const length = config.bootSeconds + req.duration + config.shutdownSeconds;
  if (r.period < length) return `period ${r.period} s is shorter than one occurrence (${length} s with boot and shutdown): occurrences would overlap`;
  if ((r.count === undefined) === (r.until === undefined)) return 'give exactly one of count or until';
  const count = r.count ?? Math.floor((r.until! - req.requestedStart - 1) / r.period) + 1;
  if (!Number.isInteger(count) || count < 1) return r.count !== undefined ? `count ${r.count} is not a whole number >= 1` : `until ${r.until} is not after the first start ${req.requestedStart}`;
  if (count > MAX_OCCURRENCES) return `${count} occurrences; at most ${MAX_OCCURRENCES} are accepted in one request`;
  const { recurrence: _, ...single } = req;
  return Array.from({ length: count }, (_, i) => ({ ...single, id: occurrenceId(req.id, i + 1), requestedStart: req.requestedStart! + i * r.period }));
}

/**
 * Plans each occurrence as an exact lease, in order. Occurrences do not overlap in time, but their
 * images share one link: the transfers planned for earlier ones are counted against later ones.
 */
export function planOccurrences(ctx: PlanContext, occurrences: readonly LeaseRequest[], policy: PreemptionPolicy): Array<{ request: LeaseRequest; planned: Planned<ReservationPlan> }> {
  const link = ctx.link.clone();
  const whatIf: PlanContext = Object.create(ctx, { link: { value: link } });
  return occurrences.map((request) => {
    const planned = planExact(whatIf, request, policy);
    if (planned.ok && planned.plan.transferStart !== null) {
      const start = planned.plan.transferStart;
      link.add({ leaseId: request.id, imageId: request.image!.id, start, end: start + ctx.costs.transferSeconds(request) });
    }
    return { request, planned };
  });
}
