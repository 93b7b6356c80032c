// Node choice for a cluster lease at one instant: each role, largest first, takes `count`
// distinct nodes that can hold its shape on top of what the cluster's earlier roles already took
// there, for the chain's length. The cluster fits only if every role does.

import { bandwidthFits, bandwidthOf } from './bandwidth.ts';
import { EPS } from './calendar.ts';
import { choiceOrder, clusterEnvelope } from './roles.ts';
import type { SlotTable } from './slot-table.ts';
import type { ClusterRole, LeaseRequest } from './types.ts';

export interface ClusterAsk {
  t: number;
  /** Chain length if it runs to the end. */
  fullLength: number;
  /** Shortest acceptable chain when it may be cut short by a suspension; null if it may not. */
  minLength: number | null;
  /** A restriction on every role's nodes (those that will hold the image in time). */
  eligible?: (node: number) => boolean;
  /** Per role number: the only nodes it may take (a suspended cluster staying where its memory is). */
  only?: ReadonlyArray<readonly number[]>;
  /** Per role number: nodes to take first when they qualify (where its memory is). */
  preferred?: ReadonlyArray<readonly number[]>;
  /** Reservations of these leases count as absent from ignoreFrom on (victims of a preemption). */
  ignore?: ReadonlySet<string>;
  ignoreFrom?: number;
  /** t is the current instant and nothing is ignored: a node full now can take nothing, and is passed over unasked. */
  atNow?: boolean;
}

export interface ClusterChoice {
  /** Each role's nodes, by role number. */
  roleNodes: number[][];
  /** The same, member by member (roles.ts membersOf). */
  members: number[];
  /** When the chosen nodes stop being available together (t + fullLength when the chain fits whole). */
  end: number;
}

/** What node choice asks of the pool: SlotTable's answers, or an empty pool's (emptyPool). */
export type ClusterRoom = Pick<SlotTable, 'size' | 'freeUntil'> & Partial<Pick<SlotTable, 'nextNotFullNow'>>;

/** The table's open nodes as if they held nothing: whether a cluster could ever fit. */
export function emptyPool(table: SlotTable): ClusterRoom {
  return {
    size: table.size,
    freeUntil: (n, t, cpu, mem, horizon, _ignore, _from, bw = 0) => (table.isOpen(n) && cpu <= table.nodes[n].cpu + EPS && mem <= table.nodes[n].memoryMiB + EPS && bandwidthFits(table.nodes[n], bw) ? horizon : t),
  };
}

/** The nodes a role may take, those it prefers first, each once; only those with room left now when `atNow`. */
function candidates(room: ClusterRoom, only: readonly number[] | undefined, preferred: readonly number[] | undefined, atNow: boolean): number[] {
  if (only) return [...new Set(only)].sort((a, b) => a - b);
  const first = preferred ? [...new Set(preferred)].sort((a, b) => a - b) : [];
  const seen = new Set(first);
  const out = first.slice();
  if (atNow && room.nextNotFullNow) {
    for (let n = room.nextNotFullNow(0); n >= 0; n = room.nextNotFullNow(n + 1)) if (!seen.has(n)) out.push(n);
  } else {
    for (let n = 0; n < room.size; n++) if (!seen.has(n)) out.push(n);
  }
  return out;
}

/**
 * Chooses nodes for every role of a cluster over [t, t + fullLength): for each role, nodes that
 * hold the whole chain first (preferred ones, then by index), then, if the cluster may be cut
 * short, those that stay free longest, provided each holds at least minLength. Null if a role
 * cannot be served.
 */
export function chooseCluster(table: ClusterRoom, roles: readonly ClusterRole[], ask: ClusterAsk): ClusterChoice | null {
  const { t, minLength } = ask;
  const horizon = t + ask.fullLength;
  const takenCpu = new Map<number, number>();
  const takenMem = new Map<number, number>();
  const takenBw = new Map<number, number>();
  const roleNodes: number[][] = new Array(roles.length);
  let end = horizon;
  for (const r of choiceOrder(roles)) {
    const { cpu, memoryMiB } = roles[r].perNode;
    const bw = bandwidthOf(roles[r].perNode);
    const count = roles[r].count;
    const full: number[] = [];
    const partial: Array<{ node: number; until: number }> = [];
    for (const n of candidates(table, ask.only?.[r], ask.preferred?.[r], ask.atNow === true)) {
      if (full.length >= count) break;
      if (ask.eligible && !ask.eligible(n)) continue;
      const u = table.freeUntil(n, t, cpu + (takenCpu.get(n) ?? 0), memoryMiB + (takenMem.get(n) ?? 0), horizon, ask.ignore, ask.ignoreFrom, bw + (takenBw.get(n) ?? 0));
      if (u >= horizon) full.push(n);
      else if (minLength !== null && u - t >= minLength) partial.push({ node: n, until: u });
    }
    if (full.length + (minLength === null ? 0 : partial.length) < count) return null;
    partial.sort((a, b) => b.until - a.until || a.node - b.node);
    const chosen = full.slice(0, count);
    for (let k = 0; chosen.length < count; k++) {
      chosen.push(partial[k].node);
      end = Math.min(end, partial[k].until);
    }
    chosen.sort((a, b) => a - b);
    for (const n of chosen) {
      takenCpu.set(n, (takenCpu.get(n) ?? 0) + cpu);
      takenMem.set(n, (takenMem.get(n) ?? 0) + memoryMiB);
      takenBw.set(n, (takenBw.get(n) ?? 0) + bw);
    }
    roleNodes[r] = chosen;
  }
  return { roleNodes, members: roleNodes.flat(), end };
}

/**
 * Why a cluster can never be accepted on this pool, as a refusal's reason and message naming the
 * role; null if it might be. `fit` counts the open nodes that could hold one VM of a shape.
 */
export function clusterAdmission(req: LeaseRequest, fit: (cpu: number, memoryMiB: number, bw: number) => number, table: SlotTable): { reason: 'exceeds-pool' | 'invalid'; message: string } | null {
  const roles = req.roles!;
  for (const role of roles) {
    const { cpu, memoryMiB, diskMiB } = role.perNode;
    // A role's shape is summed with others' on shared nodes: one that is not a positive finite size would hide another's.
    if (!(Number.isFinite(cpu) && cpu > 0 && Number.isFinite(memoryMiB) && memoryMiB > 0 && Number.isFinite(diskMiB) && diskMiB >= 0)) {
      return { reason: 'invalid', message: `role '${role.name}': perNode needs cpu and memoryMiB above 0 and diskMiB of 0 or more, all finite (got ${cpu} CPU, ${memoryMiB} MiB, ${diskMiB} MiB disk)` };
    }
  }
  const envelope = clusterEnvelope(roles);
  if (req.nodes !== envelope.nodes) return { reason: 'invalid', message: `nodes (${req.nodes}) must be the sum of the roles' counts (${envelope.nodes})` };
  // Costs (suspend, resume, migrate) are read from perNode: the largest role's, so that every role's chain has the same times.
  if (req.perNode.cpu !== envelope.perNode.cpu || req.perNode.memoryMiB !== envelope.perNode.memoryMiB) {
    return { reason: 'invalid', message: `perNode (${req.perNode.cpu} CPU, ${req.perNode.memoryMiB} MiB) must be the largest of each resource over the roles (${envelope.perNode.cpu} CPU, ${envelope.perNode.memoryMiB} MiB)` };
  }
  for (const role of roles) {
    const { cpu, memoryMiB } = role.perNode;
    const n = fit(cpu, memoryMiB, bandwidthOf(role.perNode));
    const shape = `${cpu} CPU and ${memoryMiB} MiB`;
    if (n === 0) return { reason: 'exceeds-pool', message: `role '${role.name}' asks for VMs of ${shape}, which no open node of the pool can hold: make the role's VMs smaller` };
    if (role.count > n) return { reason: 'exceeds-pool', message: `role '${role.name}' asks for ${role.count} VMs of ${shape} on distinct nodes, but only ${n} open nodes can hold one: ask for ${n} or fewer` };
  }
  if (!chooseCluster(emptyPool(table), roles, { t: 0, fullLength: 1, minLength: null })) {
    return { reason: 'exceeds-pool', message: `the pool's open nodes cannot hold all ${roles.length} roles at once, even empty (roles ${roles.map((r) => `'${r.name}' ${r.count} x ${r.perNode.cpu} CPU, ${r.perNode.memoryMiB} MiB`).join('; ')}): ask for fewer or smaller VMs` };
  }
  return null;
}

/** The cluster with `count` members in the role that has the most (the first such), its envelope made again: a "fewer workers" alternative. */
export function withFewerMembers(req: LeaseRequest, count: number): LeaseRequest {
  const roles = req.roles!;
  const big = largestRole(roles);
  const changed = roles.map((r, k) => (k !== big ? r : r.minCount === undefined ? { ...r, count } : { ...r, count, minCount: Math.min(r.minCount, count) }));
  const envelope = clusterEnvelope(changed);
  return { ...req, roles: changed, nodes: envelope.nodes, perNode: { ...req.perNode, ...envelope.perNode } };
}

/** The role number with the most members (the first, on a tie). */
export function largestRole(roles: readonly ClusterRole[]): number {
  let best = 0;
  for (let k = 1; k < roles.length; k++) if (roles[k].count > roles[best].count) best = k;
  return best;
}
