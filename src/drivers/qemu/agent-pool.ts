// A pool of nodes run by agents: the hub their channels end in, the driver the service uses, the
// VM network's address book, and what happens when an agent says hello (a new node joins the
// pool; a known one is reconciled again, and is available again if it had been lost), stays away
// (the node is unavailable: its leases are dealt with by the service's policy) or reports how
// long an operation took (the scheduler's cost figures follow the slowest node).

import { join } from 'node:path';
import type { NodeReport, SeedSource, Timing } from './protocol.ts';
import type { Store } from '../../store/store.ts';
import type { VmStatus } from '../driver.ts';
import type { PoolControl } from '../pool-control.ts';
import { AddressBook } from './address-book.ts';
import { AgentDriver } from './agent-driver.ts';
import { AgentHub } from './agent-hub.ts';
import { ClusterAddressBook, DEFAULT_CLUSTER_ADDRESSES, networksOverlap, type ClusterAddressOptions } from './cluster-address-book.ts';
import { planningFigures, type Slowest, worthLogging } from './measured-costs.ts';
import { OperationEstimates } from './operation-estimates.ts';

export interface AgentPoolOptions {
  store: Store;
  /** Where the pool keeps its files (addresses, VMs last seen). */
  dir: string;
  /** The VM network, A.B.C.D/P. */
  network: string;
  /** Where cluster networks' subnets and VNIs come from (default DEFAULT_CLUSTER_ADDRESSES). */
  clusterAddresses?: ClusterAddressOptions;
  seedFor?: SeedSource;
  graceMs?: number;
  callTimeoutMs?: number;
  log?: (line: string) => void;
  /** Where the nodes come from pilot jobs of a batch system (./pilot): who may join, and when each leaves. */
  pilots?: PilotHooks;
  /** The driver's name (qemu by default). */
  driverName?: string;
}

/** What a pool whose nodes are lent by a batch system's pilot jobs asks of the pilots' manager. */
export interface PilotHooks {
  /** A pilot's agent says hello: the epoch second its node leaves the pool; throws to refuse it (not one of the site's pilots). */
  admit(node: NodeReport): Promise<number>;
  /** Its agent says the batch system takes the node back (the job's signal). */
  leaving(node: string): void;
}

export class AgentPool {
  readonly hub: AgentHub;
  readonly driver: AgentDriver;
  readonly addresses: AddressBook;
  readonly clusterAddresses: ClusterAddressBook;
  /** Each node's underlay address for cluster networks, from its last hello. */
  private readonly underlays = new Map<string, string>();
  readonly estimates = new OperationEstimates();
  private service: PoolControl | null = null;
  /** The slowest figures last logged as costs, and the logging under way (one at a time). */
  private loggedCosts: Slowest | null = null;
  private loggingCosts: Promise<void> | null = null;

  constructor(private readonly opts: AgentPoolOptions) {
    this.addresses = new AddressBook(opts.network, join(opts.dir, 'addresses.json'));
    this.hub = new AgentHub({ graceMs: opts.graceMs ?? 60_000, callTimeoutMs: opts.callTimeoutMs ?? 600_000, log: (l) => this.log(l) }, {
      hello: (node, vms) => this.hello(node, vms),
      vm: (node, vm) => this.driver.heard(node, vm),
      timing: (node, t) => this.timing(node, t),
      away: (node) => this.away(node),
      leaving: (node) => opts.pilots?.leaving(node),
    });
    this.clusterAddresses = new ClusterAddressBook(opts.clusterAddresses ?? DEFAULT_CLUSTER_ADDRESSES, join(opts.dir, 'clusters.json'));
    // A member on both networks would have two routes to the same addresses.
    if (networksOverlap(this.clusterAddresses.options.range, opts.network)) {
      throw new RangeError(`the cluster networks' range ${this.clusterAddresses.options.range} overlaps the VM network ${opts.network}: choose ranges apart`);
    }
    const clusters = { book: this.clusterAddresses, underlayOf: (node: string) => this.underlays.get(node) };
    this.driver = new AgentDriver({ hub: this.hub, store: opts.store, addresses: this.addresses, clusters, stateFile: join(opts.dir, 'vms.json'), seedFor: opts.seedFor, ...(opts.driverName ? { name: opts.driverName } : {}) });
  }

  /** The service is open: agents that say hello from now on join its pool. */
  bind(service: PoolControl): void {
    this.service = service;
    service.useNodeEstimates((node) => this.estimates.of(node) ?? null);
    this.logCostsIfChanged();
    void this.opts.store.listNodes().then(
      (rows) => this.hub.expect(rows.filter((r) => r.status === 'active' || r.status === 'draining').map((r) => r.id)),
      (e: Error) => this.log(`could not list the pool's nodes: ${e.message}`),
    );
  }

  private async hello(node: NodeReport, vms: VmStatus[]): Promise<{ bridgeAddress: string; prefix: number }> {
    if (!this.service) throw new Error('the service is starting: try again in a moment');
    const row = await this.opts.store.getNode(node.name);
    if (row?.status === 'removed') throw new Error(`node '${node.name}' was removed from the pool: add it under another name`);
    const departsAt = await this.admitPilot(node);
    if (!row) {
      const added = await this.service.addNode({ id: node.name, cpu: node.cpu, memoryMiB: node.memoryMiB, diskMiB: node.diskMiB, ...(node.bandwidthMbps !== undefined ? { bandwidthMbps: node.bandwidthMbps } : {}) }, undefined, node.pilot);
      // Another hello of the same node may have added it meanwhile; anything else refuses the agent.
      if (!added.ok && added.code !== 'already-exists') throw new Error(`node '${node.name}' was not added: ${added.message}`);
    }
    if (departsAt !== null && (row?.departsAt ?? null) === null) {
      const set = await this.service.setNodeDeparture(node.name, departsAt);
      if (!set.ok) throw new Error(`node '${node.name}': its departure was not set: ${set.message}`);
    }
    // Asked whatever the row said: a loss being logged as the agent came back is decided in turn.
    if (row && (await this.service.markNodeAvailable(node.name))) this.log(`node '${node.name}' is available again`);
    if (node.underlayAddress) this.underlays.set(node.name, node.underlayAddress);
    else this.underlays.delete(node.name);
    this.driver.nodeReported(node.name, vms, node.depot);
    this.log(`node '${node.name}' connected (${node.cpu} CPUs, ${node.memoryMiB} MiB, ${vms.length} VMs)`);
    // What the node runs may have drifted while it was away: converge once its channel is up.
    setImmediate(() => {
      this.driver.channelUp(node.name);
      void this.service?.reconcileNow(node.name).catch((e: Error) => this.log(`reconcile after '${node.name}' came back: ${e.message}`));
    });
    return { bridgeAddress: this.addresses.node(node.name), prefix: this.addresses.prefix };
  }

  /** When a pilot's node leaves the pool, or null for a node of the site's own; throws to refuse the agent. */
  private async admitPilot(node: NodeReport): Promise<number | null> {
    const pilots = this.opts.pilots;
    if (!pilots && node.pilot === undefined) return null;
    if (!pilots) throw new Error(`node '${node.name}' says it runs in pilot job ${node.pilot}, and this service runs no pilots: start vws agent without --pilot-job`);
    if (node.pilot === undefined) throw new Error(`node '${node.name}' runs no pilot job, and this service's nodes come from pilot jobs (--driver pilot): the pilots' job script starts vws agent with --pilot-job`);
    return pilots.admit(node);
  }

  private away(node: string): void {
    this.log(`the agent of node '${node}' has been away for ${(this.opts.graceMs ?? 60_000) / 1000} s: the node is unavailable`);
    if (!this.service) return;
    this.service.markNodeUnavailable(node).then((loss) => {
      if (loss) this.log(`node '${node}' unavailable: restarted elsewhere ${list(loss.restarted)}; requeued ${list(loss.requeued)}; failed ${list(loss.failed)}; waiting for it ${list(loss.waiting)}`);
    }, (e: Error) => this.log(`could not mark node '${node}' unavailable: ${e.message}`));
  }

  private timing(node: string, t: Timing): void {
    this.estimates.note(node, t);
    this.logCostsIfChanged();
  }

  /**
   * Logs the scheduler's cost figures anew when the slowest node's estimates moved enough (or
   * for the first time), one input at a time: timings that arrive meanwhile are looked at when it
   * is logged, so the last word is not lost and a burst of timings makes one input.
   */
  private logCostsIfChanged(): void {
    const service = this.service;
    if (!service || this.loggingCosts) return;
    const slowest = this.estimates.slowest();
    if (!worthLogging(this.loggedCosts, slowest)) return;
    this.loggingCosts = service.setMeasuredCosts(planningFigures(slowest)).then((r) => {
      // Refused figures (not finite, not positive) are not retried until the timings change.
      if (!r.ok) this.log(`the service refused the measured costs: ${r.message}`);
      this.loggedCosts = slowest;
      this.loggingCosts = null;
      this.logCostsIfChanged();
    }, (e: Error) => {
      // The next timing tries again.
      this.loggingCosts = null;
      this.log(`could not log the measured costs: ${e.message}`);
    });
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }
}

const list = (ids: string[]): string => (ids.length ? ids.join(', ') : 'none');
