// What a service opens with: its store and clock, the scheduler's configuration, and where leases
// run (one driver, or the site's back-ends with the policy and prices that go with them).

import type { SchedulerConfig } from '../core/config.ts';
import type { BurstPolicy } from '../core/bursting.ts';
import type { Driver } from '../drivers/driver.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { RetryPolicy } from './driver-retry.ts';
import type { Terms } from '../core/terms.ts';
import type { ServiceBackend } from './service-backend.ts';

export interface ServiceOptions {
  store: Store;
  /** The one driver of a service with one back-end (named after it); or give `backends`. */
  driver?: Driver;
  /** The site's back-ends, its own pool first: each lease runs on one of them (core/backends.ts). */
  backends?: readonly ServiceBackend[];
  /** When a lease that names no back-end leaves the pool for another (core/bursting.ts). */
  burst?: BurstPolicy;
  /**
   * The site's terms (core/terms.ts), put in force at open if they differ from those in force (as
   * a logged change by `termsBy`); absent, the terms in force stay (the defaults, on a new store).
   */
  terms?: Terms;
  termsBy?: string;
  clock: Clock;
  /** The scheduler's configuration until terms are put in force. */
  config: SchedulerConfig;
  /** How refused driver calls are retried (driver-retry.ts). */
  driverRetry?: Partial<RetryPolicy>;
}
