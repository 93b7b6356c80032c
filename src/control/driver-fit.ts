// The scheduler plans only what the driver can do: no suspension where VMs cannot be suspended to a
// file (preempted leases are requeued instead), no resumption elsewhere without cold migration, no
// live move without live migration, no scratch disk where the driver makes none.

import type { SchedulerConfig } from '../core/config.ts';
import type { Quote } from '../core/negotiation.ts';
import type { LeaseRequest } from '../core/types.ts';
import type { Capability } from '../drivers/capabilities.ts';

export function configForDriver(config: SchedulerConfig, capabilities: ReadonlySet<Capability>): SchedulerConfig {
  return { ...config, ...fixedForDriver(capabilities) };
}

/** What a back-end keeps whatever policy the site sets, for what its driver cannot do. */
export function fixedForDriver(capabilities: ReadonlySet<Capability>): Partial<SchedulerConfig> {
  return {
    ...(capabilities.has('suspendToFile') ? {} : { preemption: 'requeue' as const }),
    ...(capabilities.has('coldMigration') ? {} : { migration: false }),
  };
}

interface DriverFacts {
  name: string;
  capabilities: ReadonlySet<Capability>;
  refusesShape?(shape: { cpu: number; memoryMiB: number; image: string | null }): string | null;
}

/** Why the driver cannot run this request, or null. */
export function requestBeyondDriver(req: LeaseRequest, driver: DriverFacts): string | null {
  if (req.perNode.diskMiB > 0 && !driver.capabilities.has('scratchDisks')) {
    return `lease '${req.id}' asks for ${req.perNode.diskMiB} MiB of disk per node, but the ${driver.name} driver makes no scratch disks: ask for none (diskMiB 0)`;
  }
  if (driver.refusesShape) {
    const shapes = req.roles ? req.roles.map((r) => ({ of: `role '${r.name}'`, ...r.perNode, image: r.image?.id ?? null })) : [{ of: 'its VMs', ...req.perNode, image: req.image?.id ?? null }];
    for (const { of, cpu, memoryMiB, image } of shapes) {
      const why = driver.refusesShape({ cpu, memoryMiB, image });
      if (why) return `lease '${req.id}' cannot run on the ${driver.name} driver (${of}): ${why}`;
    }
  }
  return null;
}

/** The refusal of a request beyond the driver, as a quote says it (nothing to wait for, nothing else to offer). */
export function beyondDriverQuote(req: LeaseRequest, message: string): Extract<Quote, { ok: false }> {
  return { ok: false, leaseId: req.id, kind: req.kind, reason: 'invalid', message, earliestStart: null, alternatives: [] };
}

/** Why an owner's or administrator's action is beyond the driver, or null. */
export function actionBeyondDriver(action: 'suspend' | 'migrate-live', driver: DriverFacts): string | null {
  if (action === 'suspend' && !driver.capabilities.has('suspendToFile')) return `the ${driver.name} driver cannot suspend VMs to a file: stop the lease instead`;
  if (action === 'migrate-live' && !driver.capabilities.has('liveMigration')) return `the ${driver.name} driver cannot migrate running VMs`;
  return null;
}
