import type { SchedulerConfig } from './config.ts';
import type { LeaseCosts } from './lease-costs.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { SlotTable } from './slot-table.ts';
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
  /** Moves with every change a plan depends on (reservations, transfers, image caches, cost figures): a plan made at one version holds while it stays. */
  readonly version: number;
  leaseById(id: string): LeaseRecord;
  imageReadyBy(req: LeaseRequest, node: number, t: number): boolean;
  /** How many nodes of the pool could hold one VM of this shape at all. */
  nodesThatFit(cpu: number, memoryMiB: number, bw?: number): number;
  /**
   * Leases whose reservations a planner treats as absent (never as victims): a lease being changed
   * is planned anew as if its own reservations were not there (lease-change.ts).
   */
  readonly ignoring?: ReadonlySet<string>;
  /** The nodes that lease holds: tried first, where they are free. */
  readonly keepNodes?: readonly number[];
}

export type Planned<P> = { ok: true; plan: P } | { ok: false; reason: RejectReason; message: string };

export const refuse = (reason: RejectReason, message: string): { ok: false; reason: RejectReason; message: string } => ({ ok: false, reason, message });
