// A driver as the service finds it by name (`vws serve --driver NAME`): how to open it on the
// service's store and data directory, and what else the service must wire once it is open.

import type { NodeSpec } from '../core/types.ts';
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
}

export interface DriverPlugin {
  readonly name: string;
  /** One line for `vws serve --help`. */
  readonly summary: string;
  /** Serve options beyond the common ones that this driver reads (without dashes). */
  readonly options: readonly string[];
  /** How nodes join, where not by `--nodes` or the API (refuses `--nodes` then). */
  readonly nodesJoin?: string;
  /**
   * Opens the driver; a bad option is a RangeError saying which and why. It imports the driver's
   * code only now, so that the registry stays cheap to read (`vws serve --help` lists it).
   */
  open(ctx: DriverContext): Promise<OpenDriver>;
}
