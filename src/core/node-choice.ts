import type { SlotTable } from './slot-table.ts';

/** What a lease needs from n nodes, starting at t. */
export interface NodeAsk {
  t: number;
  n: number;
  cpu: number;
  memoryMiB: number;
  /** Chain length if it runs to the end. */
  fullLength: number;
  /** Shortest acceptable chain when the lease may be cut short by a suspension; null if it may not. */
  minLength: number | null;
  /** Whether node i may take part (image available in time, allowed set, ...). */
  eligible: (node: number) => boolean;
  /** Nodes to take first when they qualify (where a suspended lease's memory lies). */
  preferred?: readonly number[];
  /** Whether to consider only nodes with room at the current instant (t is now). */
  onlyFreeNow: boolean;
  ignore?: ReadonlySet<string>;
  ignoreFrom?: number;
}

export interface NodeChoice {
  nodes: number[];
  /** When the chosen nodes stop being available together (t + fullLength when the chain fits whole). */
  end: number;
}

/**
 * Picks n nodes for [t, t + fullLength): nodes that can hold the whole chain first
 * (preferred ones, then by index), then, if the lease may be suspended, the nodes
 * that stay free longest, provided the common window is at least minLength.
 */
export function chooseNodes(table: SlotTable, ask: NodeAsk): NodeChoice | null {
  const horizon = ask.t + ask.fullLength;
  if (ask.onlyFreeNow && table.nodesNotFullNow < ask.n) return null;
  const full: number[] = [];
  const partial: Array<{ node: number; until: number }> = [];
  const preferred = ask.preferred ?? [];
  const consider = (i: number): void => {
    if (ask.onlyFreeNow && !table.fitsNow(i, ask.cpu, ask.memoryMiB)) return;
    if (!ask.eligible(i)) return;
    const until = table.freeUntil(i, ask.t, ask.cpu, ask.memoryMiB, horizon, ask.ignore, ask.ignoreFrom);
    if (until >= horizon) full.push(i);
    else if (until > ask.t && ask.minLength !== null && until - ask.t >= ask.minLength) partial.push({ node: i, until });
  };
  for (const i of preferred) consider(i);
  const isPreferred = preferred.length > 0 ? new Set(preferred) : null;
  for (let i = 0; i < table.size; i++) {
    if (isPreferred?.has(i)) continue;
    consider(i);
    if (full.length >= ask.n) break;
  }
  if (full.length >= ask.n) return { nodes: full.slice(0, ask.n), end: horizon };
  if (ask.minLength === null || full.length + partial.length < ask.n) return null;
  partial.sort((a, b) => b.until - a.until || a.node - b.node);
  const picked = partial.slice(0, ask.n - full.length);
  const end = picked[picked.length - 1].until;
  return { nodes: [...full, ...picked.map((p) => p.node)], end };
}
