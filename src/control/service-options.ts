// What a service opens with: its store and clock, the scheduler's configuration, and where leases
// run (one driver, or the site's back-ends with the policy and prices that go with them).

import type { SchedulerConfig } from '../core/config.ts';
import type { BurstPolicy } from '../core/bursting.ts';
import type { Driver } from '../drivers/driver.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { RetryPolicy } from './driver-retry.ts';
import type { ServiceBackend } from './service-backend.ts';

export interface ServiceOptions {
  store: Store;
  /** The one driver of a service with one back-end (named after it); or give `backends`. */
  driver?: Driver;
  /** The site's back-ends, its own pool first: each lease runs on one of them (core/backends.ts). */
  backends?: readonly ServiceBackend[];
  /** When a lease that names no back-end leaves the pool for another (core/bursting.ts). */
  burst?: BurstPolicy;
  clock: Clock;
  /** The scheduler's configuration until terms are put in force (LeaseService.setTerms). */
  config: SchedulerConfig;
  /** How refused driver calls are retried (driver-retry.ts). */
  driverRetry?: Partial<RetryPolicy>;
}
