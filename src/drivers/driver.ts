// Where workspaces (the VMs of a lease) run. The control loop tells a driver what each VM should
// be doing; the driver does it and reports what it finds. Drivers differ in what they can do (an
// EC2 instance cannot be suspended to a file and carried to another host): each declares its
// capabilities, the service plans only what they include, and the contract suite
// (test/drivers/driver-contract.ts) runs the tests they call for (contract-requirements.ts).

import type { Capability } from './capabilities.ts';
import type { LeasedLimits } from './leased-limits.ts';

/**
 * One VM of a lease: `id` is `${leaseId}/${index}`. Its network bandwidth and disk I/O limits, where
 * its lease gave them (leased-limits.ts), are what a driver with the enforceLimits capability holds it to.
 */
export interface VmSpec extends LeasedLimits {
  id: string;
  leaseId: string;
  index: number;
  node: string;
  cpu: number;
  memoryMiB: number;
  /** Image name, or null for a blank VM. */
  image: string | null;
  mac: string;
  /** A blank scratch disk of this size for the lease's data, if it asked for disk space. */
  scratchMiB?: number;
  /** A cluster member's networks (its role's); absent: the public network only. */
  networks?: ReadonlyArray<'public' | 'private'>;
}

/**
 * Where a suspended VM is when its files wait in a depot that several nodes share, on no node:
 * a name no node can take (node names start with a letter or digit), so that losing the node it
 * was suspended on neither fails it nor has it stopped there.
 */
export const DEPOT_NODE = '@depot';

export type VmState = 'starting' | 'running' | 'suspending' | 'suspended' | 'resuming' | 'migrating' | 'stopping' | 'stopped' | 'failed';

export interface VmStatus {
  id: string;
  node: string;
  state: VmState;
  /** Once the guest has taken its address. */
  ip: string | null;
  /** A console or log link where the driver has one. */
  console: string | null;
  /** Why a VM failed or stopped by itself. */
  detail?: string;
}

export interface Driver {
  readonly name: string;
  /** What the driver can do beyond starting and stopping VMs; an operation it leaves out is refused with an UnsupportedOperation. */
  readonly capabilities: ReadonlySet<Capability>;
  /** Makes the image available on the node (a no-op where it is already cached). */
  prepareImage(node: string, image: string): Promise<void>;
  /** Boots the VM; resolves once it is running. Starting a VM that already runs is a no-op. */
  start(vm: VmSpec): Promise<VmStatus>;
  /** Stops the VM (gracefully: ACPI then, after a while, by force) and forgets it. Unknown ids are a no-op. */
  stop(id: string, opts: { graceful: boolean }): Promise<void>;
  /** Saves the VM's state and stops it; it can be resumed on the same node or migrated (suspendToFile). */
  suspend(id: string): Promise<VmStatus>;
  /** Continues a suspended VM where it stopped, on the node that holds its saved state (suspendToFile). */
  resume(id: string): Promise<VmStatus>;
  /** Moves a suspended VM's saved state (and disk) to another node (coldMigration). */
  migrate(id: string, toNode: string): Promise<VmStatus>;
  /**
   * Moves a running VM to another node while it runs (liveMigration): it keeps running there with
   * its memory and disk; the report says how long it took and how long it was paused.
   */
  liveMigrate(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }>;
  /** Every VM the driver knows, whatever the control loop thinks. */
  status(): Promise<VmStatus[]>;
  /** Hears of VMs that change by themselves (exit, fail, take an address). */
  onChange(listener: (vm: VmStatus) => void): void;
  /**
   * The service lost the node and gave its VMs up (their leases were moved or failed): forget
   * them, and should the node come back with them, stop them there (where the driver's nodes can
   * go away and come back).
   */
  writeOff?(node: string, vmIds: readonly string[]): void;
  /**
   * Why a VM of this shape can never run here, or null: a back-end with a fixed menu (a cloud's
   * instance types, its images) says so before a lease is accepted rather than when it starts.
   */
  refusesShape?(shape: { cpu: number; memoryMiB: number; image: string | null }): string | null;
  /** Hears of written-off VMs a node came back with, once they are stopped. */
  onStray?(listener: (vm: VmStatus) => void): void;
  close(): Promise<void>;
}

/**
 * A driver refuses an operation it cannot do in the VM's present state. A permanent refusal is one
 * that trying again cannot change (an image the back-end does not have, an owner with no account
 * there): the service fails the lease at once rather than retrying.
 */
export class DriverError extends Error {
  readonly permanent: boolean;

  constructor(readonly vmId: string, readonly reason: string, opts: { permanent?: boolean } = {}) {
    super(`${vmId}: ${reason}`);
    this.name = 'DriverError';
    this.permanent = opts.permanent ?? false;
  }
}

/** A driver refuses an operation its capabilities leave out, whatever the VM's state. */
export class UnsupportedOperation extends DriverError {
  constructor(vmId: string, readonly driver: string, readonly capability: Capability, operation: string) {
    super(vmId, `cannot ${operation}: the ${driver} driver does not have the capability ${capability}; the service must not ask it to`);
    this.name = 'UnsupportedOperation';
  }
}

/** Refuses `operation` unless `driver` declares `capability`; call it first in the operation. */
export function requireCapability(driver: Pick<Driver, 'name' | 'capabilities'>, capability: Capability, vmId: string, operation: string): void {
  if (!driver.capabilities.has(capability)) throw new UnsupportedOperation(vmId, driver.name, capability, operation);
}

/** How long operations take on one node, as measured by a driver whose nodes measure them. */
export interface NodeEstimate {
  /** Exponentially weighted: recent measurements count most, one odd one does not swing the plan. */
  suspendMiBps: number | null;
  resumeMiBps: number | null;
  migrateMiBps: number | null;
  bootSeconds: number | null;
  samples: number;
}
