// What EC2 charges for an instance: per second it ran, with a minimum of 60 seconds, at its type's
// hourly price. The driver keeps one record per instance (in its state file), so a lease's cost
// on EC2 is known whatever the service makes of it later (it folds the amounts into usage).

import type { Instance } from '@aws-sdk/client-ec2';
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

/**
 * The driver's charge records (the very array its state file saves): one begins when an instance is
 * first seen running, and ends when it is seen ending, by the service's hand or behind its back.
 */
export class ChargeBook {
  /**
   * The same records by lease: every lease view and usage total asks for one lease's charges, and
   * the records grow with every instance ever launched.
   */
  private readonly byLease = new Map<string, ChargeRecord[]>();

  constructor(private readonly records: ChargeRecord[], private readonly now: () => number) {
    for (const r of records) this.index(r);
  }

  /** The lease's charges so far (running instances up to now). */
  of(leaseId: string): Charge[] {
    const now = this.now();
    return (this.byLease.get(leaseId) ?? []).map((c) => charged(c, now));
  }

  /** Once per instance: seen running again, it keeps the charge it has. */
  begin(vm: { leaseId: string; vmId: string; instanceType: string; pricePerHour: number }, instance: Instance): void {
    if (this.records.some((c) => c.instanceId === instance.InstanceId)) return;
    const from = instance.LaunchTime ? instance.LaunchTime.getTime() / 1000 : this.now();
    const record: ChargeRecord = { leaseId: vm.leaseId, vmId: vm.vmId, instanceId: instance.InstanceId!, instanceType: vm.instanceType, pricePerHour: vm.pricePerHour, from, until: null };
    this.records.push(record);
    this.index(record);
  }

  private index(record: ChargeRecord): void {
    const list = this.byLease.get(record.leaseId);
    if (list) list.push(record);
    else this.byLease.set(record.leaseId, [record]);
  }

  end(instanceId: string | null): void {
    const record = this.records.find((c) => c.instanceId === instanceId && c.until === null);
    if (record) record.until = Math.max(record.from, this.now());
  }
}
