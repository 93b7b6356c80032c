import type { SegmentKind } from './types.ts';

/**
 * One reservation in the slot table: a lease holds `cpu` and `memoryMiB` on each
 * of `nodes` (pool indices) over [start, end) for the purpose `kind`.
 */
export interface Segment {
  readonly seq: number;
  readonly leaseId: string;
  readonly kind: SegmentKind;
  readonly start: number;
  /** Changed only by SlotTable.setEnd, so that the table's version moves with it. */
  readonly end: number;
  /** Shared with every other segment on the same nodes, in the same order (SlotTable.reserve): never changed. */
  readonly nodes: readonly number[];
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Network bandwidth held on each node, Mbit/s (bandwidth.ts); 0 for a lease that leases none. */
  readonly bandwidthMbps: number;
  /** Whether the table has counted this segment in its usage at the current instant. */
  active: boolean;
  removed: boolean;
  /**
   * For a cluster lease: which of its roles (an index into its request's roles) the segment
   * serves. Set only on a cluster's segments, so that every other keeps its shape.
   */
  readonly role?: number;
}

/**
 * The lease id of a node's departure (SlotTable.setDeparture): a segment that holds the whole node
 * from the instant it leaves the pool on, so that nothing is planned across it. No lease has this
 * id (ids are never empty), and nothing that maps segments to leases sees these segments.
 */
export const DEPARTURE = '';

/** Whether a segment counts its lease's work: a cluster's run counts once per phase, by its first role. */
export function countsWork(seg: Segment): boolean {
  return seg.kind === 'run' && !(seg.role! > 0);
}
