export type BackfillMode = 'easy' | 'conservative' | 'none';
export type PreemptionMode = 'suspend' | 'requeue';
export type ImageMode = 'predeployed' | 'transfer';
/** Where a suspended lease's remainder re-enters the queue: at its original arrival, or behind what arrived before it was suspended. */
export type SuspendedQueueOrder = 'arrival' | 'suspension';

export interface SchedulerConfig {
  backfill: BackfillMode;
  /** How a preemptible lease in a reservation's way is made to give way. */
  preemption: PreemptionMode;
  suspendRateMBps: number;
  resumeRateMBps: number;
  /** Whether a suspended lease may resume on other nodes (a cold migration). */
  migration: boolean;
  migrateBandwidthMBps: number;
  images: ImageMode;
  imageBandwidthMBps: number;
  /** Per-node image cache; 0 means every lease transfers its image anew. */
  imageCacheMiB: number;
  runtimeOverheadPercent: number;
  bootSeconds: number;
  shutdownSeconds: number;
  /** A lease is only started if it can run at least factor x its suspend/resume overheads. */
  suspendThresholdFactor: number;
  /** Which preemptible leases give way to an advance reservation. */
  preemptionPolicy: string;
  /** Which give way to an urgent lease: by default those whose preemption costs least. */
  urgentPreemptionPolicy: string;
  suspendedQueueOrder: SuspendedQueueOrder;
  /**
   * How long before a reservation that preempts them begins its preemptible victims are told
   * (an exact or periodic lease may preempt only if it begins that far ahead; an urgent lease that
   * must preempt waits that long). 0: no notice, as in the HPDC'08 study.
   */
  preemptionNoticeSeconds: number;
  /**
   * Where a suspended VM's state waits: on the node it was suspended on ('node'), or off the nodes
   * in a depot they share ('depot'), as on a pilot's node, which leaves the pool when its job ends.
   * From a depot a lease resumes on any node, through a migration (the fetch) and a resume.
   */
  suspendedState: SuspendedState;
  /**
   * Nodes the back-end brings when leases wait (a pilot back-end: its most pilots' nodes, of its
   * batch nodes' shape), besides those it has: a best-effort lease they could hold waits for them
   * instead of being refused as larger than the pool. Null: the pool is what it has.
   */
  nodesToCome: { count: number; cpu: number; memoryMiB: number } | null;
  /**
   * How long a lease whose promise the site must break (a node lost under a reservation) waits in
   * 'renegotiating', holding nothing, for its owner to take one of the offers made to it
   * (renegotiation.ts); 0: it fails at once, as it did before there were offers.
   */
  renegotiationSeconds: number;
  /** What becomes of it if its owner takes no offer in time: it is cancelled, or it takes the first offer that still fits. */
  renegotiationDefault: RenegotiationDefault;
  /**
   * Whether an urgent lease that finds no room even by preempting best-effort leases may take the
   * place of reservations that have not begun; they renegotiate (or fail, where the site does not
   * renegotiate). Off by default: only best-effort leases give way.
   */
  urgentBreaksReservations: boolean;
}

export type RenegotiationDefault = 'cancel' | 'first-offer';

export type SuspendedState = 'node' | 'depot';

export const DEFAULT_CONFIG: SchedulerConfig = Object.freeze({
  backfill: 'easy',
  preemption: 'suspend',
  suspendRateMBps: 50,
  resumeRateMBps: 50,
  migration: true,
  migrateBandwidthMBps: 100,
  images: 'predeployed',
  imageBandwidthMBps: 100,
  imageCacheMiB: 20_000,
  runtimeOverheadPercent: 0,
  bootSeconds: 0,
  shutdownSeconds: 0,
  suspendThresholdFactor: 1,
  preemptionPolicy: 'youngest-first',
  urgentPreemptionPolicy: 'least-work-lost',
  suspendedQueueOrder: 'arrival',
  preemptionNoticeSeconds: 0,
  suspendedState: 'node',
  nodesToCome: null,
  renegotiationSeconds: 900,
  renegotiationDefault: 'cancel',
  urgentBreaksReservations: false,
});

export function configWith(overrides: Partial<SchedulerConfig>): SchedulerConfig {
  return { ...DEFAULT_CONFIG, ...overrides };
}
