import { BoundaryHeap } from './boundary-heap.ts';
import type { SchedulerConfig } from './config.ts';
import { ImageDeployment } from './image-deployment.ts';
import { LeaseBook } from './lease-book.ts';
import { LeaseCosts } from './lease-costs.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { PlanContext } from './plan-context.ts';
import type { Segment } from './segment.ts';
import { SlotTable } from './slot-table.ts';
import { TransferLink } from './transfer-link.ts';
import type { LeaseRequest, NodeSpec } from './types.ts';

/**
 * The scheduler's state, shared by the modules that change it (each module one kind of change).
 * It is also what planners read, as a PlanContext.
 */
export class CoreState implements PlanContext {
  readonly config: SchedulerConfig;
  readonly table: SlotTable;
  readonly link = new TransferLink();
  readonly costs: LeaseCosts;
  images: ImageDeployment;
  readonly book = new LeaseBook();
  /** Where each planned segment starts and ends: the instants at which something happens. */
  readonly boundaries = new BoundaryHeap<Segment>();
  /** Best-effort leases waiting for a place (queued, or suspended), in queue order. */
  queue: LeaseRecord[] = [];
  /** Best-effort leases that backfilling placed in the future. */
  readonly future = new Set<LeaseRecord>();
  /** Nodes closed by a drain, and nodes lost (their agents away): either keeps a node from new work. */
  readonly drained = new Set<number>();
  readonly lost = new Set<number>();
  /** Nodes wanted back at once by whoever lent them (departNode promptly): they take nothing new either. */
  readonly leaving = new Set<number>();
  now = 0;
  /** Resources freed earlier than planned: leases backfilled into the future may now go earlier. */
  mustReevaluate = false;
  /** Segments begun and leases completed since the last advance took them. */
  started: Segment[] = [];
  completed: LeaseRecord[] = [];
  /**
   * Leases whose record changed (a segment placed, moved, begun, ended or dropped, or a change of
   * state) since the last advance took them, whatever input caused it, the lease's own or another's.
   * Null unless asked for (Scheduler.trackChanges): a simulation reads no view of its leases.
   */
  changed: Set<LeaseRecord> | null = null;
  /**
   * On a site of several back-ends (Scheduler.trackMoves): leases whose promise broke since the site
   * last looked, to be offered the other back-ends; and leases whose owners took no offer in time
   * and whose first offer is another back-end's, for the site to move (backend-moves.ts).
   */
  moves: { broken: LeaseRecord[]; lapsed: LeaseRecord[] } | null = null;
  private costChanges = 0;
  /** Changes to leases' requests (lease-change.ts), some of which touch no reservation: a change planned before another is not applied after it. */
  private requestChanges = 0;

  constructor(nodes: readonly NodeSpec[], config: SchedulerConfig) {
    this.config = config;
    this.table = new SlotTable(nodes);
    this.costs = new LeaseCosts(config);
    this.images = new ImageDeployment(nodes.length, config.imageCacheMiB, this.costs, this.link);
  }

  /** Every counter only grows, so their sum moves whenever any of them does. */
  get version(): number {
    return this.table.version + this.link.version + this.images.version + this.costChanges + this.requestChanges;
  }

  /** A lease's request was changed. */
  requestChanged(): void {
    this.requestChanges++;
  }

  /**
   * Takes a new configuration in place (its readers hold this object). The image mode and cache
   * size shape the image state kept from the first lease on, so they change only before one.
   */
  reconfigure(config: SchedulerConfig): void {
    const images = config.images !== this.config.images || config.imageCacheMiB !== this.config.imageCacheMiB;
    Object.assign(this.config, config);
    if (images) this.images = new ImageDeployment(this.table.size, config.imageCacheMiB, this.costs, this.link);
    this.costChanges++;
  }

  /** The cost figures were changed (setCosts). */
  costsChanged(): void {
    this.costChanges++;
  }

  get tentative(): ReadonlySet<string> {
    return new Set([...this.future].map((l) => l.req.id));
  }

  leaseById(id: string): LeaseRecord {
    return this.book.mustGet(id);
  }

  imageReadyBy(req: LeaseRequest, node: number, t: number): boolean {
    return this.images.readyBy(req, node, t);
  }

  nodesThatFit(cpu: number, memoryMiB: number, bw = 0): number {
    return this.table.openNodesThatFit(cpu, memoryMiB, bw);
  }
}
