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
  /** Queue passes ask the same question for every waiting lease; the answer holds until the link changes. */
  private earliestMemo: Array<{ from: number; seconds: number; slot: number }> = [];
  private changes = 0;

  /** Bumped by every change to the planned transfers. */
  get version(): number {
    return this.changes;
  }

  /** Earliest s >= from with [s, s + seconds) free. */
  earliestSlot(from: number, seconds: number): number {
    for (const m of this.earliestMemo) if (m.from === from && m.seconds === seconds) return m.slot;
    const slot = this.firstGap(from, seconds);
    if (this.earliestMemo.length >= 8) this.earliestMemo = [];
    this.earliestMemo.push({ from, seconds, slot });
    return slot;
  }

  private firstGap(from: number, seconds: number): number {
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
    this.changes++;
    this.earliestMemo = [];
    let i = this.transfers.length;
    while (i > 0 && this.transfers[i - 1].start > transfer.start) i--;
    this.transfers.splice(i, 0, transfer);
  }

  /** Cancels a lease's transfers that have not begun by `now`. */
  cancel(leaseId: string, now: number): void {
    this.changes++;
    this.earliestMemo = [];
    this.transfers = this.transfers.filter((t) => t.leaseId !== leaseId || t.start < now);
  }

  prune(now: number): void {
    this.changes++;
    this.earliestMemo = [];
    if (this.transfers.length > 0 && this.transfers[0].end <= now) this.transfers = this.transfers.filter((t) => t.end > now);
  }

  /** A copy to plan on: what-if transfers added to it leave this link as it is. */
  clone(): TransferLink {
    const copy = new TransferLink();
    copy.transfers = [...this.transfers];
    return copy;
  }

  get scheduled(): readonly LinkTransfer[] {
    return this.transfers;
  }
}
