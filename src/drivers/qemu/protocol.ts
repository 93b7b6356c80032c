// What the service and a node agent say to each other over the agent's WebSocket. The agent dials
// home (the service never reaches into a node), says who it is and what it runs, then answers the
// service's calls and reports what changes by itself. Both sides import these types.

import type { VmSpec, VmStatus } from '../driver.ts';
import type { StatementEnvelope } from '../image-statement.ts';

export const PROTOCOL_VERSION = 1;
export const AGENT_PATH = '/v1/agent';
/**
 * Where each node's context relay listens for the cluster members it runs, at their cluster's
 * context address (the port OpenStack's metadata service uses): a member on the private network
 * only has no route to the service, but always has one to its own node.
 */
export const CONTEXT_RELAY_PORT = 8775;

export interface NodeReport {
  name: string;
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
  /** The network bandwidth it leases to its VMs, Mbit/s; absent: none. */
  bandwidthMbps?: number;
  /** Where other agents reach this agent to hand it a suspended VM's files. */
  transferAddress: string;
  /** Where this node's QEMU listens for live migrations (a migration network, where a site has one). */
  migrationAddress: string;
  /** Where other nodes send this node's cluster networks' VXLAN traffic; none: it runs no cluster members. */
  underlayAddress?: string;
  /**
   * The depot the node shares with others (vws agent --depot): the id written in the depot's own
   * marker file, not its path, since each node may mount the shared directory elsewhere. Two nodes
   * with the same id see the same directory; none: the node keeps suspended VMs to itself.
   */
  depot?: string;
  /**
   * The batch job (a Slurm job id) whose pilot runs this agent: the node is lent for the job's time
   * and leaves the pool when it ends (vws agent --pilot-job); none: a node of the site's own.
   */
  pilot?: string;
}

/** What the agent needs to fetch an image from the service and check it. */
export interface ImageRef {
  name: string;
  sha256: string;
  sizeMiB: number;
  /** What the site's trust policy rests on for this image; absent: the agent checks the hash alone. */
  trust?: ImageTrust;
}

/**
 * The signed statements by the site's trusted signers on an image, and those signers' public keys
 * (SPKI PEM): before it boots the image the agent checks that one of them verifies with one of the
 * keys and is about the very file it holds (src/agent/images/statement-check.ts).
 */
export interface ImageTrust {
  statements: StatementEnvelope[];
  keys: string[];
  /** The policy requires a signature: no statement at all is refused too. */
  required: boolean;
}

/** The addresses of the node's bridge; VMs get theirs from the service one by one. */
export interface NetworkPlan {
  bridgeAddress: string;
  prefix: number;
}

/**
 * A cluster's private network as one node joins it (checked by the agent in
 * src/agent/network/cluster-spec.ts): the network number names its bridge, the VNI its VXLAN.
 */
export interface ClusterNetworkPlan {
  number: number;
  vni: number;
  /** This node's address on the cluster's subnet (its DHCP server's), and the subnet's prefix. */
  nodeAddress: string;
  prefix: number;
  /** The cluster's context address, on every member node's bridge besides its own: where the relay answers. */
  contextAddress: string;
  /** The underlay addresses of the other nodes holding members of the cluster. */
  peers: string[];
}

/** A NIC besides the public one: on the VM's cluster's private network. */
export interface ExtraNic {
  network: 'private';
  mac: string;
  ip: string;
  /** If given, must be privateTapName(vm.id): the agent names taps itself. */
  tap?: string;
  hostname?: string;
}

/**
 * A VM's NoCloud seed, the three files the agent writes to the VM's `cidata` drive: the guest's
 * cloud-init reads its instance-id, hostname, network and user-data from it (src/seed).
 */
export interface SeedFiles {
  metaData: string;
  userData: string;
  networkConfig: string;
}

/**
 * Where a driver gets each VM's seed: the service wires one that knows the workspace (its lease's
 * owner keys and user-data, its cluster context); null for a VM without one.
 */
export type SeedSource = (vm: VmSpec, nics?: SeedNicPlan[]) => Promise<SeedFiles | null> | SeedFiles | null;

/** One of a VM's NICs as its seed names it: by network, matched by MAC (public first, then private). */
export interface SeedNicPlan {
  network: 'public' | 'private';
  mac: string;
  /** A private NIC's cluster context address: the member reaches the broker through its node's relay there. */
  contextAddress?: string;
}

/** Everything a node needs to run a VM: its spec, its address, and the images it boots from. */
export interface Workload {
  vm: VmSpec;
  ip: string;
  disk: ImageRef | null;
  boot: { kernel: ImageRef; initrd: ImageRef; cmdline: string } | null;
  /** A cluster member's NIC on its private network (at most one), and that network. */
  nics?: ExtraNic[];
  cluster?: ClusterNetworkPlan;
  /** false: a member on the private network only, with no NIC on the node's public bridge. */
  publicNic?: boolean;
  /** Attached as a read-only drive; kept with the VM through suspend, resume and migration. */
  seed?: SeedFiles;
}

/** Where a VM's state goes to, on the node that receives it. */
export interface Landing {
  address: string;
  port: number;
  /** Shown by the sender so that nobody else can push state to the receiving port. */
  ticket: string;
  /** For a live migration: where the receiver exports its disk for the sender to mirror into. */
  diskPort?: number;
}

export interface LiveMigrationReport {
  totalMs: number;
  downtimeMs: number;
}

/** The calls the service makes, with their arguments and what they answer. */
export interface AgentCalls {
  prepareImages: { args: { images: ImageRef[] }; value: void };
  start: { args: Workload; value: VmStatus };
  stop: { args: { id: string; graceful: boolean }; value: void };
  suspend: { args: { id: string }; value: VmStatus };
  resume: { args: { id: string }; value: VmStatus };
  /** Cold migration, receiving side: be ready to take a suspended VM's files. */
  receive: { args: Workload; value: Landing };
  /** Cold migration, sending side: push the suspended VM's files, then forget it. */
  send: { args: { id: string; to: Landing }; value: void };
  /** The receiving side, once the files are in: the VM is suspended here now. */
  received: { args: { id: string }; value: VmStatus };
  /** Live migration, receiving side: an incoming QEMU waiting for the sender. */
  incoming: { args: Workload; value: Landing };
  /** Live migration, sending side: migrate the running VM, then forget it. */
  migrateLive: { args: { id: string; to: Landing }; value: LiveMigrationReport };
  /** The receiving side, once the sender finished: the VM runs here now. */
  arrived: { args: { id: string }; value: VmStatus };
  /** Either side of a migration that failed: drop what was made for it. */
  abandon: { args: { id: string }; value: void };
  status: { args: Record<string, never>; value: VmStatus[] };
  /** A suspended VM's files go into the node's depot; the node forgets it (the VM is then at DEPOT_NODE). */
  park: { args: { id: string }; value: VmStatus };
  /** A VM parked in the depot this node shares comes here, suspended, ready to resume. */
  unpark: { args: { workload: Workload }; value: VmStatus };
  /** What a VM on the node (or parked in its depot) was started with: what the other side of a migration needs. */
  workload: { args: { id: string }; value: Workload };
  /** The nodes holding members of a cluster changed: its VXLAN floods to exactly these. */
  clusterPeers: { args: { number: number; peers: string[] }; value: void };
  /** A pilot's agent may go (nothing is left for it to do): it answers, then ends, and its node goes back to the batch system. */
  leave: { args: Record<string, never>; value: void };
}

export type AgentOp = keyof AgentCalls;

/** How long an operation took on a node, for the scheduler's running estimates. */
export interface Timing {
  op: 'boot' | 'suspend' | 'resume' | 'migrate' | 'live-migrate';
  memoryMiB: number;
  ms: number;
}

export type AgentMessage =
  | { type: 'hello'; version: number; node: NodeReport; vms: VmStatus[] }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: { message: string; refused: boolean } }
  | { type: 'vm'; vm: VmStatus }
  | { type: 'timing'; timing: Timing }
  /** A pilot's batch system takes the node back (its preemption, or its time limit near): the node must be left soon. */
  | { type: 'leaving' };

export type ServiceMessage =
  | { type: 'welcome'; network: NetworkPlan }
  | { type: 'refused'; message: string }
  | { type: 'call'; id: number; op: AgentOp; args: unknown };

/** Reads a frame, or says what is wrong with it (a peer of another version, or garbage). */
export function parseFrame<T extends { type: string }>(data: unknown, from: string): T {
  let value: unknown;
  try {
    value = JSON.parse(String(data));
  } catch {
    throw new Error(`${from} sent a frame that is not JSON: ${String(data).slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') {
    throw new Error(`${from} sent a frame without a type: ${String(data).slice(0, 80)}`);
  }
  return value as T;
}
