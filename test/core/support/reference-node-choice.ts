// The free profile and node choice as they were before the profile kept its nodes as bits: node by
// node, in index order, every answer asked of the table. The naive reference that
// test/core/free-profile.test.ts holds the present ones to.

import { type ProfileAsk, untilFor } from '../../../src/core/free-profile.ts';
import type { NodeAsk, NodeChoice } from '../../../src/core/node-choice.ts';
import type { SlotTable } from '../../../src/core/slot-table.ts';

/**
 * For one instant t and one request shape: the nodes that can take it at t, by index, and until
 * when each stays free. Built lazily, as far as it is read: a lease that needs n nodes usually
 * finds them among the first few free ones, while a pool holding back nodes for EASY's reservation
 * may have hundreds free now. Read only while the table stays as it was when the profile was made.
 */
export class ReferenceProfile {
  readonly nodes: number[] = [];
  readonly until: number[] = [];
  /** The next node index to look at; the table's size once every node has been. */
  private next = 0;
  private readonly version: number;

  constructor(private readonly table: SlotTable, private readonly ask: ProfileAsk) {
    this.version = table.version;
  }

  get t(): number {
    return this.ask.t;
  }

  /** Looks at more nodes until `count` are known to take the request or none is left; answers how many are known. */
  fill(count: number): number {
    const { table, ask, nodes, until } = this;
    // A node full now cannot take a request for some of each resource now: of a busy pool, only the few others are looked at.
    const notFullOnly = ask.onlyFreeNow && ask.cpu >= 1e-6 && ask.memoryMiB >= 1e-6;
    while (nodes.length < count && this.next < table.size) {
      const i = notFullOnly ? table.nextNotFullNow(this.next) : this.next;
      if (i < 0) {
        this.next = table.size;
        break;
      }
      this.next = i + 1;
      const u = this.untilOf(i);
      if (u !== null) {
        nodes.push(i);
        until.push(u);
      }
    }
    return nodes.length;
  }

  /** Until when node i stays free from t, if it is one of the profile's nodes; null if not: the profile's one rule, the same for both (untilFor). */
  untilOf(i: number): number | null {
    if (this.table.version !== this.version) throw new Error('internal: a free profile read after the table changed');
    return untilFor(this.table, this.ask, i);
  }

  /** Whether entry k exists, looking at more nodes if needed. */
  has(k: number): boolean {
    return k < this.nodes.length || this.fill(k + 1) > k;
  }
}

export function freeProfile(table: SlotTable, ask: ProfileAsk): ReferenceProfile {
  return new ReferenceProfile(table, ask);
}

/** Whether n nodes of the profile stay free for at least `length` from its instant. */
export function profileHolds(profile: ReferenceProfile, n: number, length: number): boolean {
  if (n < 1) return false;
  const end = profile.t + length;
  let count = 0;
  for (let k = 0; profile.has(k); k++) if (profile.until[k] >= end && ++count >= n) return true;
  return false;
}

/**
 * Picks n nodes for [t, t + fullLength): nodes that can hold the whole chain first
 * (preferred ones, then by index), then, if the lease may be suspended, the nodes
 * that stay free longest, provided the common window is at least minLength.
 */
export function chooseNodes(profile: ReferenceProfile, ask: NodeAsk): NodeChoice | null {
  const { t } = profile;
  const horizon = t + ask.fullLength;
  if (profile.fill(ask.n) < ask.n) return null;
  const full: number[] = [];
  const preferred = ask.preferred && ask.preferred.length > 0 ? new Set(ask.preferred) : null;
  if (preferred) {
    profile.fill(Infinity);
    for (let k = 0; k < profile.nodes.length; k++) {
      const i = profile.nodes[k];
      if (preferred.has(i) && (!ask.eligible || ask.eligible(i)) && profile.until[k] >= horizon) full.push(i);
    }
  }
  // Nodes that hold the whole chain first; only if too few do, a second pass for those that hold part of it.
  for (let k = 0; full.length < ask.n && profile.has(k); k++) {
    const i = profile.nodes[k];
    const u = profile.until[k];
    if (u < horizon || (preferred !== null && preferred.has(i)) || (ask.eligible && !ask.eligible(i))) continue;
    full.push(i);
  }
  if (full.length >= ask.n) return { nodes: full.length === ask.n ? full : full.slice(0, ask.n), end: horizon };
  const minLength = ask.minLength;
  if (minLength === null) return null;
  const partial: Array<{ node: number; until: number }> = [];
  for (let k = 0; k < profile.nodes.length; k++) {
    const i = profile.nodes[k];
    const u = profile.until[k];
    if (u >= horizon || u - t < minLength || (ask.eligible && !ask.eligible(i))) continue;
    partial.push({ node: i, until: u });
  }
  if (full.length + partial.length < ask.n) return null;
  partial.sort((a, b) => (preferred ? Number(preferred.has(b.node)) - Number(preferred.has(a.node)) : 0) || b.until - a.until || a.node - b.node);
  return withPartial(full, partial, ask.n);
}

/** The whole-chain nodes and, after them, the first partly-free ones (in the order given) up to n: the chain ends when the first of those is taken. */
function withPartial(full: readonly number[], partial: ReadonlyArray<{ node: number; until: number }>, n: number): NodeChoice {
  const picked = partial.slice(0, n - full.length);
  return { nodes: [...full, ...picked.map((p) => p.node)], end: Math.min(...picked.map((p) => p.until)) };
}
