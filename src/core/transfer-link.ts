/**
 * The image repository's outgoing link. Each transfer is a multicast to all of a lease's
 * nodes at once, so transfers are serialized on this one link.
 */
export interface LinkTransfer {
  leaseId: string;
  imageId: string;
  start: number;
  end: number;
}

export class TransferLink {
  private transfers: LinkTransfer[] = [];

  /** Earliest s >= from with [s, s + seconds) free. */
  earliestSlot(from: number, seconds: number): number {
    let s = from;
    for (const t of this.transfers) {
      if (t.end <= s) continue;
      if (t.start >= s + seconds) break;
      s = t.end;
    }
    return s;
  }

  /** Latest s >= from with s + seconds <= by and [s, s + seconds) free, or null. */
  latestSlot(from: number, by: number, seconds: number): number | null {
    let best: number | null = null;
    let gapStart = from;
    for (const t of this.transfers) {
      if (t.end <= gapStart) continue;
      const gapEnd = Math.min(t.start, by);
      if (gapEnd - gapStart >= seconds) best = gapEnd - seconds;
      if (t.start >= by) return best;
      gapStart = Math.max(gapStart, t.end);
    }
    if (by - gapStart >= seconds) best = by - seconds;
    return best;
  }

  add(transfer: LinkTransfer): void {
    let i = this.transfers.length;
    while (i > 0 && this.transfers[i - 1].start > transfer.start) i--;
    this.transfers.splice(i, 0, transfer);
  }

  /** Cancels a lease's transfers that have not begun by `now`. */
  cancel(leaseId: string, now: number): void {
    this.transfers = this.transfers.filter((t) => t.leaseId !== leaseId || t.start < now);
  }

  prune(now: number): void {
    if (this.transfers.length > 0 && this.transfers[0].end <= now) this.transfers = this.transfers.filter((t) => t.end > now);
  }

  get scheduled(): readonly LinkTransfer[] {
    return this.transfers;
  }
}
