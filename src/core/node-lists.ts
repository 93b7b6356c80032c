/**
 * One shared copy of each node list that segments keep. A whole SDSC log reserves 336,000 lists
 * (17.6 million entries) but only 52,600 different ones (6.6 million entries): EASY takes the first
 * free nodes by index, so the same lists come back again and again.
 */
export class NodeLists {
  private readonly buckets = new Map<number, Array<readonly number[]>>();
  /** The list last given and its shared copy: a chain's segments, placed one after another, are given one list (70,000 times on the SDSC log). */
  private lastGiven: readonly number[] | null = null;
  private lastShared: readonly number[] | null = null;

  /** The shared list equal to `nodes` (itself, the first time). */
  shared(nodes: readonly number[]): readonly number[] {
    let h = nodes.length;
    for (const n of nodes) h = nodeListHashStep(h, n);
    return this.sharedByHash(nodes, h);
  }

  /** shared, given the list's hash: a caller that goes over the nodes anyway folds it in as it goes (see nodeListHashStep). */
  sharedByHash(nodes: readonly number[], h: number): readonly number[] {
    // No caller changes a list it has handed over (a plan's node lists are made for it), so the same list holds the same nodes.
    if (nodes === this.lastGiven) return this.lastShared!;
    this.lastGiven = nodes;
    this.lastShared = this.lookUp(nodes, h);
    return this.lastShared;
  }

  private lookUp(nodes: readonly number[], h: number): readonly number[] {
    const bucket = this.buckets.get(h);
    if (bucket !== undefined) for (const list of bucket) if (sameList(list, nodes)) return list;
    // A copy of exactly its length: the list given may have been built by pushes, with room to spare.
    const kept = nodes.slice();
    if (bucket === undefined) this.buckets.set(h, [kept]);
    else bucket.push(kept);
    return kept;
  }
}

/** One node's step of a list's hash, which starts at the list's length and takes its nodes in order. */
export function nodeListHashStep(h: number, n: number): number {
  return (Math.imul(h, 31) + n) | 0;
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
