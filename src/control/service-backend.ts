// A back-end as the service runs it: its driver, the scheduler settings of its own, and, for one
// that bills (an EC2 region), who may run there and what it costs. The site's pool has a driver only.

import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { Billing } from '../drivers/plugin.ts';
import type { Driver } from '../drivers/driver.ts';
import { RoutedDriver, type Routes } from '../drivers/routed-driver.ts';

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
