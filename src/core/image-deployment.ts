import { ImageCache } from './image-cache.ts';
import type { LeaseCosts } from './lease-costs.ts';
import type { LeaseRecord } from './lease-record.ts';
import type { TransferLink } from './transfer-link.ts';
import type { LeaseRequest } from './types.ts';

/**
 * Images on the pool's nodes: one LRU cache per node, an index of which nodes hold (or are
 * being sent) each image, and the transfers on the repository's link that bring them.
 */
export class ImageDeployment {
  private readonly caches: ImageCache[];
  private readonly holders = new Map<string, Set<number>>();
  private changes = 0;

  constructor(nodeCount: number, private readonly cacheMiB: number, private readonly costs: LeaseCosts, private readonly link: TransferLink) {
    this.caches = [];
    for (let n = 0; n < nodeCount; n++) this.addNode();
  }

  /** Bumped by every change to what the caches hold or will hold. */
  get version(): number {
    return this.changes;
  }

  /** An empty cache for a node added to the pool (the next index). */
  addNode(): void {
    this.changes++;
    const n = this.caches.length;
    this.caches.push(new ImageCache(this.cacheMiB, (image, present) => this.note(image, n, present)));
  }

  /** Whether the lease's image is on `node` by `t` (always, for a lease that needs none sent). */
  readyBy(req: LeaseRequest, node: number, t: number): boolean {
    if (!this.costs.needsTransfer(req)) return true;
    const at = this.caches[node].readyAt(req.image!.id);
    return at !== undefined && at <= t;
  }

  /** When the image is (or will be) on the node, undefined if it is not there. */
  readyAt(imageId: string, node: number): number | undefined {
    return this.caches[node].readyAt(imageId);
  }

  /** How many leases hold a reference to the image on the node. */
  holdersOf(imageId: string, node: number): number {
    return this.caches[node].refsOf(imageId);
  }

  /** How many nodes hold the image or are being sent it. */
  holderCount(imageId: string): number {
    return this.holders.get(imageId)?.size ?? 0;
  }

  /** Sends the lease's image to `nodes` over the link from `start`, and has it referenced there. */
  send(lease: LeaseRecord, nodes: readonly number[], start: number, now: number): void {
    this.changes++;
    const img = lease.req.image!;
    const end = start + this.costs.transferSeconds(lease.req);
    this.link.add({ leaseId: lease.req.id, imageId: img.id, start, end });
    lease.imageRefs = [...lease.imageRefs, ...nodes.filter((n) => this.caches[n].acquire(img.id, img.sizeMiB, end, now))];
  }

  /** References the lease's image where it is already cached. */
  useCached(lease: LeaseRecord, nodes: readonly number[], now: number): void {
    this.changes++;
    const img = lease.req.image!;
    lease.imageRefs = [...lease.imageRefs, ...nodes.filter((n) => this.caches[n].acquire(img.id, img.sizeMiB, now, now))];
  }

  release(lease: LeaseRecord, now: number): void {
    if (lease.imageRefs.length > 0) this.changes++;
    const img = lease.req.image;
    if (img) for (const n of lease.imageRefs) this.caches[n].release(img.id, now);
    lease.imageRefs = [];
  }

  private note(imageId: string, node: number, present: boolean): void {
    let holders = this.holders.get(imageId);
    if (!holders) this.holders.set(imageId, (holders = new Set()));
    if (present) holders.add(node);
    else holders.delete(node);
  }
}
