// Where workspaces (the VMs of a lease) run. The control loop tells a driver what each VM should
// be doing; the driver does it and reports what it finds. Every driver (simulated, QEMU on node
// agents, EC2, batch pilots) passes the same contract suite (test/control/driver-contract.ts).

/** One VM of a lease: `id` is `${leaseId}/${index}`. */
export interface VmSpec {
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
}

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
  /** Makes the image available on the node (a no-op where it is already cached). */
  prepareImage(node: string, image: string): Promise<void>;
  /** Boots the VM; resolves once it is running. Starting a VM that already runs is a no-op. */
  start(vm: VmSpec): Promise<VmStatus>;
  /** Stops the VM (gracefully: ACPI then, after a while, by force) and forgets it. Unknown ids are a no-op. */
  stop(id: string, opts: { graceful: boolean }): Promise<void>;
  /** Saves the VM's state and stops it; it can be resumed on the same node or migrated. */
  suspend(id: string): Promise<VmStatus>;
  /** Continues a suspended VM where it stopped, on the node that holds its saved state. */
  resume(id: string): Promise<VmStatus>;
  /** Moves a suspended VM's saved state (and disk) to another node (a cold migration). */
  migrate(id: string, toNode: string): Promise<VmStatus>;
  /**
   * Moves a running VM to another node while it runs (where the driver can): it keeps running
   * there with its memory and disk; the report says how long it took and how long it was paused.
   */
  liveMigrate?(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }>;
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
  /** Hears of written-off VMs a node came back with, once they are stopped. */
  onStray?(listener: (vm: VmStatus) => void): void;
  close(): Promise<void>;
}

/** A driver refuses an operation it cannot do in the VM's present state. */
export class DriverError extends Error {
  constructor(readonly vmId: string, readonly reason: string) {
    super(`${vmId}: ${reason}`);
    this.name = 'DriverError';
  }
}
