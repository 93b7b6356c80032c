/**
 * Where and until when capacity was given back (a reservation released or cut short) since the
 * last forget. The nodes are kept in typed buffers that are reused, not in arrays emptied and grown
 * again: it is noted on each of some 150,000 early ends of the whole SDSC log. Two buffers take
 * turns, so that the list last read stays as it was until the next forget.
 */
export class FreedNodes {
  /** The latest instant up to which capacity was given back; -Infinity if none was, Infinity if a node was added or opened. */
  until = -Infinity;
  private list = new Int32Array(64);
  private spare = new Int32Array(64);
  private count = 0;
  private tooMany = false;

  /** Capacity was given back on `nodes` up to `end`; more than `limit` nodes since the last forget are not listed. */
  note(nodes: readonly number[], end: number, limit: number): void {
    this.until = Math.max(this.until, end);
    if (this.tooMany) return;
    if (this.count + nodes.length > limit) {
      this.tooMany = true;
      return;
    }
    if (this.count + nodes.length > this.list.length) {
      const bigger = new Int32Array(Math.max(this.list.length * 2, this.count + nodes.length));
      bigger.set(this.list.subarray(0, this.count));
      this.list = bigger;
    }
    for (const n of nodes) this.list[this.count++] = n;
  }

  /** The nodes noted (one may be listed more than once), or null if too many were. */
  get nodes(): Int32Array | null {
    return this.tooMany ? null : this.list.subarray(0, this.count);
  }

  forget(): void {
    const spare = this.spare;
    this.spare = this.list;
    this.list = spare;
    this.count = 0;
    this.tooMany = false;
    this.until = -Infinity;
  }
}
