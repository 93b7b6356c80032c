// The simulator's EC2 region, a back-end the site's leases may burst to (issue 16): capacity the
// pool does not have, for a boot delay and a price. Its nodes stand for instance slots, each as
// large as the largest instance type so that any VM a type fits has room; what a VM pays is set by
// the smallest type that fits it (the type the EC2 driver would launch), billed as EC2 bills.

import type { BackendSpec } from '../core/backends.ts';
import type { SchedulerConfig } from '../core/config.ts';
import { ec2Charge, type InstanceType, typeFor } from '../core/instance-types.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import { MOST_DISK_MIB } from '../core/limits.ts';
import { vmShapes } from '../core/roles.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';

export const EC2_BACKEND = 'ec2';
export const DEFAULT_EC2_SLOTS = 1024;
export const DEFAULT_BURST_BOOT_SECONDS = 60;

export interface Ec2Model {
  instanceTypes: readonly InstanceType[];
  /** Instances at once: the region's nodes ec2-1..ec2-N. */
  slots: number;
  /** From launch to a VM that runs, in seconds. */
  bootSeconds: number;
  /** The site's units of resource usage per dollar, if it prices EC2 in them. */
  unitsPerDollar?: number;
}

/** The region's nodes: one per slot, each as large as the largest instance type in each resource. */
export function ec2Nodes(model: Ec2Model): NodeSpec[] {
  if (!Number.isInteger(model.slots) || model.slots < 1) throw new RangeError(`EC2 slots must be a positive integer, got ${model.slots}`);
  if (model.instanceTypes.length === 0) throw new RangeError('the EC2 model needs at least one instance type');
  const cpu = Math.max(...model.instanceTypes.map((t) => t.cpu));
  const memoryMiB = Math.max(...model.instanceTypes.map((t) => t.memoryMiB));
  // Instances get EBS volumes of any size: disk never limits a burst.
  return Array.from({ length: model.slots }, (_, i) => ({ id: `ec2-${i + 1}`, cpu, memoryMiB, diskMiB: MOST_DISK_MIB }));
}

/**
 * The pool's configuration as EC2 has it: its own boot delay; a preempted lease is requeued, as an
 * instance cannot be suspended to a file nor moved; AMIs are in the region already. The runtime
 * overhead is the pool's: both run the lease in a VM.
 */
export function ec2Config(pool: SchedulerConfig, model: Ec2Model): SchedulerConfig {
  if (!Number.isInteger(model.bootSeconds) || model.bootSeconds < 0) throw new RangeError(`the EC2 boot delay must be whole seconds >= 0, got ${model.bootSeconds}`);
  return { ...pool, bootSeconds: model.bootSeconds, preemption: 'requeue', migration: false, images: 'predeployed' };
}

export function ec2Backend(pool: SchedulerConfig, model: Ec2Model): BackendSpec {
  return { name: EC2_BACKEND, config: ec2Config(pool, model), nodes: ec2Nodes(model) };
}

/** Whether some instance type fits every VM of the request (else it cannot burst). */
export function fitsInstanceTypes(model: Ec2Model, req: LeaseRequest): boolean {
  return vmShapes(req).every((s) => typeof typeFor(model.instanceTypes, s.perNode.cpu, s.perNode.memoryMiB) !== 'string');
}

export interface Ec2Cost {
  /** VM-seconds from boot start to shutdown end, summed over the lease's attempts. */
  instanceSeconds: number;
  dollars: number;
}

/** Seconds from the first segment's start to the last one's end, of one role's segments (all, if none). */
function spanOf(segments: readonly Segment[], role: number | undefined): number {
  let start = Infinity;
  let end = -Infinity;
  for (const s of segments) {
    if (!(s.end > s.start) || (role !== undefined && s.role !== role)) continue;
    start = Math.min(start, s.start);
    end = Math.max(end, s.end);
  }
  return end > start ? end - start : 0;
}

/**
 * What a lease that ran on EC2 cost: each of its VMs, in each attempt (a requeued lease launches
 * anew), runs one instance of the smallest type that fits, billed per second with EC2's minimum.
 */
export function ec2CostOf(model: Ec2Model, lease: LeaseRecord): Ec2Cost {
  const cost: Ec2Cost = { instanceSeconds: 0, dollars: 0 };
  const attempts = [...lease.lost.map((a) => a.segments), lease.history];
  for (const shape of vmShapes(lease.req)) {
    const type = typeFor(model.instanceTypes, shape.perNode.cpu, shape.perNode.memoryMiB);
    if (typeof type === 'string') throw new RangeError(`lease '${lease.req.id}' ran on EC2 but ${type}`);
    for (const segments of attempts) {
      const seconds = spanOf(segments, shape.role);
      if (seconds === 0) continue;
      cost.instanceSeconds += shape.count * seconds;
      cost.dollars += shape.count * ec2Charge(seconds, type.pricePerHour);
    }
  }
  return cost;
}
