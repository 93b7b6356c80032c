interface CachedImage {
  sizeMiB: number;
  readyAt: number;
  refs: number;
  lastUsed: number;
}

/**
 * Images cached on one node: reference-counted by the leases that use them, and evicted
 * least-recently-used first, among those no lease references, when space runs out.
 */
export class ImageCache {
  private readonly entries = new Map<string, CachedImage>();
  private usedMiB = 0;

  /** `onChange` hears of every image that arrives in or leaves this cache. */
  constructor(readonly limitMiB: number, private readonly onChange: (imageId: string, present: boolean) => void = () => {}) {}

  /** When the image is (or will be) on this node, or undefined if it is not. */
  readyAt(imageId: string): number | undefined {
    return this.entries.get(imageId)?.readyAt;
  }

  refsOf(imageId: string): number {
    return this.entries.get(imageId)?.refs ?? 0;
  }

  /** Takes a reference, adding the image (ready at `readyAt`) if absent. False if it cannot be cached. */
  acquire(imageId: string, sizeMiB: number, readyAt: number, now: number): boolean {
    const e = this.entries.get(imageId);
    if (e) {
      e.refs++;
      e.lastUsed = now;
      e.readyAt = Math.min(e.readyAt, readyAt);
      return true;
    }
    if (this.usedMiB - this.unreferencedMiB() + sizeMiB > this.limitMiB) return false;
    while (this.usedMiB + sizeMiB > this.limitMiB) {
      if (!this.evictOne()) return false;
    }
    this.entries.set(imageId, { sizeMiB, readyAt, refs: 1, lastUsed: now });
    this.usedMiB += sizeMiB;
    this.onChange(imageId, true);
    return true;
  }

  /** Drops a reference; an image that never arrived is forgotten once unreferenced. */
  release(imageId: string, now: number): void {
    const e = this.entries.get(imageId);
    if (!e) return;
    e.refs = Math.max(0, e.refs - 1);
    e.lastUsed = Math.max(e.lastUsed, now);
    if (e.refs === 0 && e.readyAt > now) this.drop(imageId, e);
  }

  private unreferencedMiB(): number {
    let sum = 0;
    for (const e of this.entries.values()) if (e.refs === 0) sum += e.sizeMiB;
    return sum;
  }

  private evictOne(): boolean {
    let victim: string | null = null;
    let oldest = Infinity;
    for (const [id, e] of this.entries) {
      if (e.refs === 0 && e.lastUsed < oldest) {
        oldest = e.lastUsed;
        victim = id;
      }
    }
    if (victim === null) return false;
    this.drop(victim, this.entries.get(victim)!);
    return true;
  }

  private drop(id: string, e: CachedImage): void {
    this.entries.delete(id);
    this.usedMiB -= e.sizeMiB;
    this.onChange(id, false);
  }
}
