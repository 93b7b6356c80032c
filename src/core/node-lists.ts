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
    for (const n of nodes) h = nodeListHashStep(h, n);
    return this.sharedByHash(nodes, h);
  }

  /** shared, given the list's hash: a caller that goes over the nodes anyway folds it in as it goes (see nodeListHashStep). */
  sharedByHash(nodes: readonly number[], h: number): readonly number[] {
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
