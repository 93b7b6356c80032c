import type { SchedulerConfig } from './config.ts';
import type { LeaseCosts } from './lease-costs.ts';
import { type LeaseRecord, remainingWork } from './lease-record.ts';
import type { SlotTable } from './slot-table.ts';
import type { PreemptionPolicy } from './preemption-policy.ts';
import type { ReservationPlan } from './reservation-planner.ts';
import type { TransferLink } from './transfer-link.ts';
import type { LeaseRequest, RejectReason } from './types.ts';

/** What planners may read of the scheduler's state. Planning changes nothing. */
export interface PlanContext {
  readonly table: SlotTable;
  readonly link: TransferLink;
  readonly config: SchedulerConfig;
  readonly costs: LeaseCosts;
  readonly now: number;
  /** Best-effort leases placed in the future by backfilling: the scheduler's own tentative plan, which a firm lease may displace. */
  readonly tentative: ReadonlySet<string>;
  leaseById(id: string): LeaseRecord;
  imageReadyBy(req: LeaseRequest, node: number, t: number): boolean;
  /** How many nodes of the pool could hold one VM of this shape at all. */
  nodesThatFit(cpu: number, memoryMiB: number): number;
  /** planExact, which the scheduler may answer from its memory of an unchanged state. */
  planExact?(req: LeaseRequest, policy: PreemptionPolicy | null): Planned<ReservationPlan>;
}

export type Planned<P> = { ok: true; plan: P } | { ok: false; reason: RejectReason; message: string };

export const refuse = (reason: RejectReason, message: string): { ok: false; reason: RejectReason; message: string } => ({ ok: false, reason, message });

/** How a lease in the way gives its resources up from a given instant. */
export type PreemptionKind = 'suspend' | 'requeue' | 'unschedule' | 'power-off';

export interface Preemption {
  leaseId: string;
  how: PreemptionKind;
}

/**
 * Decides how `lease` makes way from `at` on: one that has not begun is taken back to the queue
 * (its work kept); one whose work is done powers off; one running is suspended so that the
 * suspension has ended by `at`, if preemption is by suspension and its run allows it; otherwise
 * it is cancelled and queued again, losing its work.
 */
export function preemptionKind(ctx: PlanContext, lease: LeaseRecord, at: number): PreemptionKind {
  const chain = lease.chain;
  if (chain.length === 0) return 'unschedule';
  if (remainingWork(lease) <= 0) return 'power-off';
  if (chain[0].start >= at) return 'unschedule';
  if (ctx.config.preemption === 'suspend' && suspensionPoint(ctx, lease, at) !== null) return 'suspend';
  if (chain[0].start >= ctx.now && !chain[0].active) return 'unschedule';
  return 'requeue';
}

/** Where the run to cut is, and when its suspension begins so that it ends by `at`; null if it cannot. */
export function suspensionPoint(ctx: PlanContext, lease: LeaseRecord, at: number): { runIndex: number; suspendAt: number } | null {
  const s = ctx.costs.suspendSeconds(lease.req);
  let runIndex = -1;
  for (let i = lease.chain.length - 1; i >= 0; i--) {
    if (lease.chain[i].kind === 'run' && lease.chain[i].start < at) {
      runIndex = i;
      break;
    }
  }
  if (runIndex < 0) return null;
  const run = lease.chain[runIndex];
  const suspendAt = at - s;
  if (suspendAt < ctx.now || suspendAt <= run.start) return null;
  if (at - run.start < ctx.costs.suspendThreshold(lease.req, lease.state === 'suspended')) return null;
  return { runIndex, suspendAt };
}
