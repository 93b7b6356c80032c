// A back-end as the service runs it: its driver, the scheduler settings of its own, and, for one
// that bills (an EC2 region), who may run there and what it costs. The site's pool has a driver only.

import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { Billing } from '../drivers/plugin.ts';
import type { Driver } from '../drivers/driver.ts';
import { RoutedDriver, type Routes } from '../drivers/routed-driver.ts';
import { requestBeyondDriver } from './driver-fit.ts';

export interface ServiceBackend {
  name: string;
  driver: Driver;
  /** Settings of its own: an EC2 region boots in its own time. */
  config?: Partial<SchedulerConfig>;
  /** For a back-end that bills per instance: whose accounts may run there, and at what price. */
  billing?: Billing;
  /** Why the back-end takes no lease on these terms (a pilot's nodes may be taken back at any time), or null. */
  refusesTerms?(req: LeaseRequest): string | null;
}

/** The one driver the service's reconciler talks to: a lone back-end's own, else one that routes to each. */
export function siteDriver(backends: readonly ServiceBackend[], routes: Routes): Driver {
  return backends.length === 1 ? backends[0].driver : new RoutedDriver(new Map(backends.map((b) => [b.name, b.driver])), routes);
}

/**
 * Why a lease whose promise broke may not be offered, or moved to, back-end `name` (the lease's
 * owner and group in `owner`): no account there, or terms or a shape that back-end does not take
 * (core/backend-moves.ts). The owner's other groups are not known here, nor in a replay: only its
 * own name and the lease's group count, so that a replay offers the same, and no move is offered
 * that the change route would refuse.
 */
export function refusesMove(backends: readonly ServiceBackend[], owner: { owner: string; group: string | null } | undefined, req: LeaseRequest, name: string): string | null {
  const backend = backends.find((b) => b.name === name);
  if (!backend) return null;
  return (owner && backend.billing?.refusesOwner({ owner: owner.owner, group: owner.group, memberOf: owner.group === null ? [] : [owner.group] }))
    || backend.refusesTerms?.(req) || requestBeyondDriver({ ...req, backend: name }, backend.driver);
}
