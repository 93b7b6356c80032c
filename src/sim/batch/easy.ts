// The two choices of the batch model (batch-cluster.ts): when the first waiting batch job could
// start (EASY's shadow time), and which nodes a starting batch job takes.

/** A running batch job as EASY sees it: its nodes come free at its planned end. */
export interface Planned {
  nodes: number;
  end: number;
}

/**
 * EASY's reservation for the first waiting job: the earliest planned end at which enough nodes
 * are free for it (`time`), and how many nodes are left over then (`extra`), which a backfilled
 * job may hold past that time.
 */
export function shadowOf(now: number, want: number, availableNow: number, running: readonly Planned[]): { time: number; extra: number } {
  let free = availableNow;
  if (free >= want) return { time: now, extra: free - want };
  for (const r of [...running].sort((a, b) => a.end - b.end)) {
    free += r.nodes;
    if (free >= want) return { time: r.end, extra: free - want };
  }
  return { time: Infinity, extra: 0 };
}

export interface NodeHolder {
  index: number;
  start: number;
  signalled: boolean;
}

/**
 * The nodes a batch job takes out of `available` (ascending): free ones first; then those of
 * pilots already told to go; then the pilots' that started last (they have run the least), whole
 * pilots at a time. `signal`: the pilots that must now be told to go.
 */
export function nodesToTake(available: readonly number[], want: number, pilotOf: (n: number) => NodeHolder | null): { take: number[]; signal: number[] } {
  const take: number[] = [];
  const byPilot = new Map<number, { holder: NodeHolder; nodes: number[] }>();
  for (const n of available) {
    const h = pilotOf(n);
    if (h === null) {
      if (take.length < want) take.push(n);
      continue;
    }
    const entry = byPilot.get(h.index) ?? { holder: h, nodes: [] };
    entry.nodes.push(n);
    byPilot.set(h.index, entry);
  }
  const signal: number[] = [];
  const order = [...byPilot.values()].sort((a, b) => Number(b.holder.signalled) - Number(a.holder.signalled) || b.holder.start - a.holder.start || b.holder.index - a.holder.index);
  for (const { holder, nodes } of order) {
    if (take.length >= want) break;
    take.push(...nodes.slice(0, want - take.length));
    if (!holder.signalled) signal.push(holder.index);
  }
  if (take.length < want) throw new RangeError(`asked for ${want} nodes out of ${available.length}`);
  return { take: take.sort((a, b) => a - b), signal };
}
