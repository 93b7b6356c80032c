/**
 * One shared copy of each node list that ended segments keep. A whole SDSC log leaves 250,000
 * lists (10.5 million entries) in lease histories but only 45,000 different ones: EASY takes the
 * first free nodes by index, so the same lists come back again and again.
 */
export class NodeLists {
  private readonly buckets = new Map<number, Array<readonly number[]>>();

  /** The shared list equal to `nodes` (itself, the first time). */
  shared(nodes: readonly number[]): readonly number[] {
    let h = nodes.length;
    for (const n of nodes) h = (Math.imul(h, 31) + n) | 0;
    const bucket = this.buckets.get(h);
    if (bucket !== undefined) for (const list of bucket) if (sameList(list, nodes)) return list;
    // A copy of exactly its length: the list given may have been built by pushes, with room to spare.
    const kept = nodes.slice();
    if (bucket === undefined) this.buckets.set(h, [kept]);
    else bucket.push(kept);
    return kept;
  }
}

/** Whether two node lists hold the same nodes in the same order. */
export function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where node i is in an ascending list (its first `length` entries); -1 if it is not. */
export function indexIn(sorted: readonly number[], i: number, length = sorted.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < length && sorted[lo] === i ? lo : -1;
}
