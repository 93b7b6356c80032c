// What EC2 charges for an instance: per second it ran, with a minimum of 60 seconds, at its type's
// hourly price. The driver keeps one record per instance (in its state file), so a lease's cost
// on EC2 is known whatever the service makes of it later (it folds the amounts into usage).

import { ec2Charge, MINIMUM_SECONDS } from '../../core/instance-types.ts';

// The billing rule itself is pure, and the simulator prices burst leases by it: it lives in the core.
export { ec2Charge, MINIMUM_SECONDS } from '../../core/instance-types.ts';

/** One instance's billable life. */
export interface ChargeRecord {
  leaseId: string;
  vmId: string;
  instanceId: string;
  instanceType: string;
  pricePerHour: number;
  /** Unix seconds: since the instance ran (EC2's launch time). */
  from: number;
  /** Unix seconds: when it was seen terminated; null while it runs. */
  until: number | null;
}

export interface Charge extends ChargeRecord {
  /** Seconds billed so far (at least the minimum). */
  billedSeconds: number;
  amount: number;
}

/** A record as charged at `now` (a running instance is charged up to now). */
export function charged(record: ChargeRecord, now: number): Charge {
  const seconds = Math.max(0, (record.until ?? now) - record.from);
  return { ...record, billedSeconds: Math.max(MINIMUM_SECONDS, Math.ceil(seconds)), amount: ec2Charge(seconds, record.pricePerHour) };
}
