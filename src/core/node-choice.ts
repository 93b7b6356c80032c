import type { SlotTable } from './slot-table.ts';

/** For one instant t and one request shape: the nodes that can take it at t and until when each stays free. */
export interface FreeProfile {
  readonly t: number;
  readonly nodes: readonly number[];
  readonly until: readonly number[];
}

export interface ProfileAsk {
  t: number;
  cpu: number;
  memoryMiB: number;
  /** Whether node i may take part at all (image available in time, ...). */
  eligible?: (node: number) => boolean;
  /** Consider only nodes with room at the current instant (t is now), by the table's usage counters. */
  onlyFreeNow: boolean;
  ignore?: ReadonlySet<string>;
  ignoreFrom?: number;
}

export function freeProfile(table: SlotTable, ask: ProfileAsk): FreeProfile {
  const nodes: number[] = [];
  const until: number[] = [];
  const consider = (i: number): void => {
    if (ask.eligible && !ask.eligible(i)) return;
    const u = table.freeUntil(i, ask.t, ask.cpu, ask.memoryMiB, Infinity, ask.ignore, ask.ignoreFrom);
    if (u > ask.t) {
      nodes.push(i);
      until.push(u);
    }
  };
  // A node full now cannot take a request for some of each resource now: of a busy pool, only the few others are looked at.
  if (ask.onlyFreeNow && ask.cpu >= 1e-6 && ask.memoryMiB >= 1e-6) {
    for (const i of table.nodesNotFullNowList()) if (table.fitsNow(i, ask.cpu, ask.memoryMiB)) consider(i);
  } else if (ask.onlyFreeNow) {
    for (let i = 0; i < table.size; i++) if (table.fitsNow(i, ask.cpu, ask.memoryMiB)) consider(i);
  } else for (let i = 0; i < table.size; i++) consider(i);
  return { t: ask.t, nodes, until };
}

/** Whether n nodes of the profile stay free for at least `length` from its instant. */
export function profileHolds(profile: FreeProfile, n: number, length: number): boolean {
  if (n < 1 || profile.nodes.length < n) return false;
  // Counting beats sorting: a profile is asked this about twice before the table changes.
  const end = profile.t + length;
  let count = 0;
  for (const u of profile.until) if (u >= end && ++count >= n) return true;
  return false;
}

/** What a lease needs from n nodes of a profile. */
export interface NodeAsk {
  n: number;
  /** Chain length if it runs to the end. */
  fullLength: number;
  /** Shortest acceptable chain when the lease may be cut short by a suspension; null if it may not. */
  minLength: number | null;
  /** A further restriction on the profile's nodes. */
  eligible?: (node: number) => boolean;
  /** Nodes to take first when they qualify (where a suspended lease's memory lies). */
  preferred?: readonly number[];
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
export function chooseNodes(profile: FreeProfile, ask: NodeAsk): NodeChoice | null {
  const { t } = profile;
  const horizon = t + ask.fullLength;
  if (profile.nodes.length < ask.n) return null;
  const full: number[] = [];
  const partial: Array<{ node: number; until: number }> = [];
  const preferred = ask.preferred && ask.preferred.length > 0 ? new Set(ask.preferred) : null;
  if (preferred) {
    for (let k = 0; k < profile.nodes.length; k++) {
      const i = profile.nodes[k];
      if (preferred.has(i) && (!ask.eligible || ask.eligible(i)) && profile.until[k] >= horizon) full.push(i);
    }
  }
  for (let k = 0; k < profile.nodes.length && full.length < ask.n; k++) {
    const i = profile.nodes[k];
    if (preferred?.has(i) && profile.until[k] >= horizon) continue;
    if (ask.eligible && !ask.eligible(i)) continue;
    const u = profile.until[k];
    if (u >= horizon) full.push(i);
    else if (ask.minLength !== null && u - t >= ask.minLength) partial.push({ node: i, until: u });
  }
  if (full.length >= ask.n) return { nodes: full.slice(0, ask.n), end: horizon };
  if (ask.minLength === null || full.length + partial.length < ask.n) return null;
  partial.sort((a, b) => (preferred ? Number(preferred.has(b.node)) - Number(preferred.has(a.node)) : 0) || b.until - a.until || a.node - b.node);
  const picked = partial.slice(0, ask.n - full.length);
  const end = Math.min(...picked.map((p) => p.until));
  return { nodes: [...full, ...picked.map((p) => p.node)], end };
}
