// A driver as the service finds it by name (`vws serve --driver NAME`): how to open it on the
// service's store and data directory, and what else the service must wire once it is open.

import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRequest, NodeSpec } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { Driver } from './driver.ts';
import type { PoolControl } from './pool-control.ts';
import type { AgentHub } from './qemu/agent-hub.ts';
import type { SeedSource } from './qemu/protocol.ts';

export interface DriverContext {
  store: Store;
  /** The service's data directory: the driver keeps its state files there, under names of its own. */
  dataDir: string;
  /** The network VMs take their addresses from (A.B.C.D/P), for drivers that take `--vm-network`. */
  vmNetwork?: string;
  /** Each VM's cloud-init seed, for drivers that boot guests from one (qemu). */
  seeds?: SeedSource;
  /** The private range cluster networks' subnets are cut from (A.B.C.D/P), for drivers that take `--cluster-network`. */
  clusterNetwork?: string;
  /** The site's EC2 configuration file, for drivers that take `--ec2-config`. */
  ec2Config?: string;
  /** The site's pilot policy file, for drivers that take `--pilot-config`. */
  pilotConfig?: string;
  log?: (line: string) => void;
}

export interface OpenDriver {
  driver: Driver;
  /** Where node agents dial in (the API accepts them there), for drivers whose nodes run agents. */
  agents?: AgentHub;
  /** Called once the service is open, for drivers whose nodes join and leave by themselves. */
  bind?(service: PoolControl): void;
  /** The nodes the driver brings (a cloud's region or zones): the service adds those its pool lacks. */
  nodes?: NodeSpec[];
  /** For a back-end that bills per instance (a cloud): whose accounts may run there, and at what price. */
  billing?: Billing;
  /** Where its nodes come from pilot jobs: the pilots, for `vws pilot` (GET /v1/pilots). */
  pilots?: PilotControl;
  /** Its own boot time, where it differs from the pool's (a cloud's instances). */
  bootSeconds?: number;
  /** What its scheduler keeps whatever the site's policy says (a pilot's suspended VMs wait in a depot). */
  config?: Partial<SchedulerConfig>;
  /** Why it takes no lease on these terms, or null. */
  refusesTerms?(req: LeaseRequest): string | null;
}

/** Who a lease is for: the owner, the group it is shared with, and every group the owner belongs to. */
export interface LeaseOwner {
  owner: string;
  group: string | null;
  memberOf: readonly string[];
}

/** One VM shape of a request, as many times as the request has VMs of it. */
export interface VmShape {
  cpu: number;
  memoryMiB: number;
  count: number;
}

export interface Billing {
  /** Why this owner's leases may not run here (no account for the user or its groups), or null. */
  refusesOwner(who: LeaseOwner): string | null;
  /** Dollars for running these VMs `seconds` each, as the back-end bills; null if a shape has no price. */
  dollarsFor(vms: readonly VmShape[], seconds: number): number | null;
  /** Dollars charged for the lease's instances so far (running ones up to now). */
  chargedDollars(leaseId: string): number;
  /** The site's unit of usage per dollar, where the site converts; null: prices stay in dollars. */
  unitsPerDollar: number | null;
}

/** What an administrator does with a back-end's pilots. */
export interface PilotControl {
  list(): Promise<unknown[]>;
  /** False if the batch system knows no such pilot of the site's. */
  drain(id: string): Promise<boolean>;
  cancel(id: string): Promise<boolean>;
}

export interface DriverPlugin {
  readonly name: string;
  /** One line for `vws serve --help`. */
  readonly summary: string;
  /** Serve options beyond the common ones that this driver reads (without dashes). */
  readonly options: readonly string[];
  /** It brings capacity of its own (a cloud region) that a site's leases can burst to (`--burst-to`). */
  readonly burstable?: boolean;
  /** How nodes join, where not by `--nodes` or the API (refuses `--nodes` then). */
  readonly nodesJoin?: string;
  /**
   * Opens the driver; a bad option is a RangeError saying which and why. It imports the driver's
   * code only now, so that the registry stays cheap to read (`vws serve --help` lists it).
   */
  open(ctx: DriverContext): Promise<OpenDriver>;
}
