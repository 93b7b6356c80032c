import type { FreeProfile } from './free-profile.ts';
import { indexIn } from './node-lists.ts';

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
  if (profile.fill(ask.n) < ask.n) return null;
  const preferred = ask.preferred && ask.preferred.length > 0 ? ascendingOnce(ask.preferred) : null;
  const { eligible, n } = ask;
  // Collected in a buffer kept from call to call, and copied out at the size found.
  const buffer = scratch;
  let count = 0;
  if (preferred) {
    for (const i of preferred) {
      const u = profile.untilIn(i);
      if (u !== null && u >= horizon && (!eligible || eligible(i))) buffer[count++] = i;
    }
  }
  // Nodes that hold the whole chain first; only if too few do, a second pass for those that hold part of it.
  if (count < n) count = profile.collectFreeUntil(horizon, n, buffer, count, preferred, eligible);
  if (count >= n) return { nodes: buffer.slice(0, n), end: horizon };
  const minLength = ask.minLength;
  if (minLength === null) return null;
  // The partly-free nodes, as their places in `limited`, in a list kept from call to call: most
  // calls find too few of them, and a whole log makes millions of calls.
  const limited = profile.limited();
  const picked = partialScratch;
  let m = 0;
  for (let k = 0; k < limited.count; k++) {
    const i = limited.nodes[k];
    const u = limited.until[k];
    if (u >= horizon || u - t < minLength || (eligible && !eligible(i))) continue;
    prefScratch[k] = preferred !== null && indexIn(preferred, i) >= 0 ? 1 : 0;
    picked[m++] = k;
  }
  if (count + m < n) return null;
  picked.length = m;
  const { nodes: ln, until: lu } = limited;
  // Listed by node, the partly-free nodes are most often in order already (all free until EASY's reservation): then not sorted.
  let ordered = true;
  for (let k = 1; k < m && ordered; k++) ordered = prefScratch[picked[k - 1]] > prefScratch[picked[k]] || (prefScratch[picked[k - 1]] === prefScratch[picked[k]] && lu[picked[k - 1]] >= lu[picked[k]]);
  if (!ordered) picked.sort((a, b) => prefScratch[b] - prefScratch[a] || lu[b] - lu[a] || ln[a] - ln[b]);
  const nodes = buffer.slice(0, count);
  let end = Infinity;
  for (let k = 0; k < n - count && k < m; k++) {
    nodes.push(ln[picked[k]]);
    end = Math.min(end, lu[picked[k]]);
  }
  return { nodes, end };
}

const partialScratch: number[] = [];
const prefScratch: number[] = [];
const scratch: number[] = [];

/** The distinct nodes of a list, ascending. */
function sortedOnce(nodes: readonly number[]): number[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < sorted.length; r++) if (r === 0 || sorted[r] !== sorted[r - 1]) sorted[w++] = sorted[r];
  sorted.length = w;
  return sorted;
}

/** The distinct nodes of a list, ascending: the list itself when it is already (a suspended lease's nodes mostly are). */
export function ascendingOnce(nodes: readonly number[]): readonly number[] {
  for (let k = 1; k < nodes.length; k++) if (nodes[k] <= nodes[k - 1]) return sortedOnce(nodes);
  return nodes;
}

function ascending(nodes: readonly number[]): boolean {
  for (let k = 1; k < nodes.length; k++) if (nodes[k] < nodes[k - 1]) return false;
  return true;
}

/** The whole-chain nodes and, after them, the first partly-free ones (in the order given) up to n: the chain ends when the first of those is taken. */
function withPartial(full: readonly number[], partial: ReadonlyArray<{ node: number; until: number }>, n: number): NodeChoice {
  const nodes = full.slice();
  let end = Infinity;
  for (let k = 0; k < n - full.length && k < partial.length; k++) {
    nodes.push(partial[k].node);
    end = Math.min(end, partial[k].until);
  }
  return { nodes, end };
}

/**
 * chooseNodes when only the nodes `among` may be chosen and each of them is preferred (a suspended
 * lease staying where its memory is): the same answer, from those nodes alone rather than the
 * whole profile, which a busy pool's EASY reservation can make hundreds of nodes long.
 */
export function chooseAmong(profile: FreeProfile, among: readonly number[], ask: Omit<NodeAsk, 'eligible' | 'preferred'>): NodeChoice | null {
  const { t } = profile;
  const horizon = t + ask.fullLength;
  const full: number[] = [];
  const partial: Array<{ node: number; until: number }> = [];
  for (const i of ascending(among) ? among : [...among].sort((a, b) => a - b)) {
    const u = profile.untilKnown(i);
    if (u === null) continue;
    if (u >= horizon) full.push(i);
    else if (ask.minLength !== null && u - t >= ask.minLength) partial.push({ node: i, until: u });
  }
  if (full.length >= ask.n) return { nodes: full.slice(0, ask.n), end: horizon };
  if (ask.minLength === null || full.length + partial.length < ask.n) return null;
  partial.sort((a, b) => b.until - a.until || a.node - b.node);
  return withPartial(full, partial, ask.n);
}
