// Scenarios with virtual clusters: the generators' random streams, with some leases turned into
// clusters of one to three roles whose shapes are fitted to the pool like any lease's.

import fc from 'fast-check';
import { clusterEnvelope } from '../../../src/core/roles.ts';
import type { SchedulerConfig } from '../../../src/core/config.ts';
import type { ClusterRole, LeaseKind, LeaseRequest, NodeSpec } from '../../../src/core/types.ts';
import { configArb, nodesThatFit, poolArb, rawStreamArb, resolveStream, type Scenario } from './generators.ts';

/** A role's shape before it is fitted to a pool: shares of the smallest node, and a count as a fraction of the nodes that fit. */
interface RawRole {
  cpuShare: number;
  memShare: number;
  countFrac: number;
}

const SHARES = [0.25, 0.5, 1] as const;
const ROLE_NAMES = ['head', 'worker', 'storage'];

const rawRoleArb: fc.Arbitrary<RawRole> = fc.record({
  cpuShare: fc.constantFrom(...SHARES),
  memShare: fc.constantFrom(...SHARES),
  countFrac: fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
});

/** The lease as a cluster of these roles, fitted to the pool: each role's count at most the nodes that can hold one of its VMs. */
export function asCluster(pool: readonly NodeSpec[], req: LeaseRequest, raw: readonly RawRole[]): LeaseRequest {
  const minCpu = Math.min(...pool.map((n) => n.cpu));
  const minMem = Math.min(...pool.map((n) => n.memoryMiB));
  const roles: ClusterRole[] = raw.map((r, k) => {
    const perNode = { cpu: minCpu * r.cpuShare, memoryMiB: minMem * r.memShare, diskMiB: 0 };
    const fit = nodesThatFit(pool, perNode.cpu, perNode.memoryMiB);
    // Counts shared out so that most clusters fit the pool, and some do not.
    return { name: ROLE_NAMES[k], count: Math.max(1, Math.min(fit, 1 + Math.floor((r.countFrac * fit) / (raw.length - 0.5)))), perNode, networks: ['private'], provides: [], requires: [] };
  });
  const envelope = clusterEnvelope(roles);
  return { ...req, nodes: envelope.nodes, perNode: envelope.perNode, roles };
}

export interface ClusterStreamOptions {
  kinds?: readonly LeaseKind[];
  maxLeases?: number;
  config?: fc.Arbitrary<SchedulerConfig>;
}

/** A pool, a stream in which about a third of the leases are clusters, and a configuration. */
export function clusterScenarioArb(opts: ClusterStreamOptions = {}): fc.Arbitrary<Scenario> {
  const stream = rawStreamArb({ kinds: opts.kinds, maxLeases: opts.maxLeases ?? 20, exceedPercent: 0 });
  const clusterMarks = fc.array(fc.option(fc.array(rawRoleArb, { minLength: 1, maxLength: 3 }), { nil: null, freq: 2 }), { minLength: 40, maxLength: 40 });
  return fc.tuple(poolArb({ maxNodes: 8 }), stream, clusterMarks, opts.config ?? configArb()).map(([nodes, raw, marks, config]) => {
    const requests = resolveStream(nodes, raw).map((req, i) => (marks[i] ? asCluster(nodes, req, marks[i]!) : req));
    return { nodes, requests, config };
  });
}
