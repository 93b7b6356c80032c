// The burst block of `vws sim --json` (issue 16): where the leases went, and what the leases that
// ran on a priced back-end (EC2) cost, so a site reads on a trace what bursting costs and saves.

import type { BurstPolicy } from '../core/bursting.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import { type Ec2Model, ec2CostOf } from './ec2-model.ts';
import { pastRampUp, waitsOf } from './waits.ts';

export interface BackendFigures {
  /** Leases sent there (a periodic lease counts as its occurrences). */
  leases: number;
  completed: number;
  /** Of its completed best-effort leases past the ramp-up (the top-level figures are of all of them). */
  meanWait: number;
  meanBoundedSlowdown: number;
  /** Priced back-ends: VM-hours from boot start to shutdown end, and EC2's charge for them. */
  instanceHours?: number;
  dollars?: number;
  /** The charge in the site's units, where the EC2 configuration gives unitsPerDollar. */
  siteUnits?: number;
}

export interface BurstMetrics {
  afterSeconds: number;
  /** By back-end name, the pool first. */
  backends: Record<string, BackendFigures>;
}

export interface BurstScope {
  policy: BurstPolicy;
  names: readonly string[];
  backendOf: (lease: LeaseRecord) => string;
  /** The back-ends that charge, by name. */
  priced: Readonly<Record<string, Ec2Model>>;
}

export function burstMetrics(leases: readonly LeaseRecord[], scope: BurstScope): BurstMetrics {
  const backends: Record<string, BackendFigures> = {};
  for (const name of scope.names) {
    backends[name] = { leases: 0, completed: 0, meanWait: 0, meanBoundedSlowdown: 0 };
    if (scope.priced[name]) Object.assign(backends[name], { instanceHours: 0, dollars: 0 }, scope.priced[name].unitsPerDollar !== undefined ? { siteUnits: 0 } : {});
  }
  const bestEffort: LeaseRecord[] = [];
  for (const l of leases) {
    if (l.state === 'expanded') continue;
    const name = scope.backendOf(l);
    const figures = backends[name];
    figures.leases++;
    if (l.state === 'completed') figures.completed++;
    if (l.req.kind === 'best-effort' && l.state === 'completed') bestEffort.push(l);
    const model = scope.priced[name];
    if (model) {
      const cost = ec2CostOf(model, l);
      figures.instanceHours! += cost.instanceSeconds / 3600;
      figures.dollars! += cost.dollars;
    }
  }
  const measured = pastRampUp(bestEffort, true);
  for (const name of scope.names) {
    Object.assign(backends[name], waitsOf(measured.filter((l) => scope.backendOf(l) === name)));
    const model = scope.priced[name];
    if (model?.unitsPerDollar !== undefined) backends[name].siteUnits = backends[name].dollars! * model.unitsPerDollar;
  }
  return { afterSeconds: scope.policy.afterSeconds, backends };
}
