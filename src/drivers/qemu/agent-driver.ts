// The Driver whose VMs run on node agents: each operation becomes a call to the agent of the VM's
// node; migrations are a conversation with two agents (the receiver gets ready, the sender
// pushes, the receiver takes over). What the driver knows of each VM is what the agents last
// reported, so a VM is on the node whose agent says it has it.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Store } from '../../store/store.ts';
import { ALL_CAPABILITIES, type Capability } from '../capabilities.ts';
import { DEPOT_NODE, type Driver, DriverError, type VmSpec, type VmStatus } from '../driver.ts';
import type { SeedSource, Workload } from './protocol.ts';
import { imagesOf } from './image-trust.ts';
import { ParkedVms } from './parked-vms.ts';
import { StrayVms } from './stray-vms.ts';
import type { AddressBook } from './address-book.ts';
import type { AgentHub } from './agent-hub.ts';
import { VmTable } from './vm-table.ts';
import { clusterWorkload, isClusterMember, leaseOfVm, nicsOf, peersOf, type ClusterPlanning } from './cluster-plans.ts';
import { limitsProblem } from '../leased-limits.ts';

/** How many agents a status pass asks at once. */
const STATUS_AT_ONCE = 32;

export interface AgentDriverOptions {
  hub: AgentHub;
  store: Store;
  addresses: AddressBook;
  /** Cluster members' private networks; without it a VM on the private network is refused. */
  clusters?: ClusterPlanning;
  /**
   * Where the VMs last reported are kept (and those written off): after a restart of the service,
   * a VM on a node whose agent has not dialled in yet is as it was last seen, not vanished.
   */
  stateFile: string;
  /** Each VM's cloud-init seed, given to its agent in the start call; none when absent. */
  seedFor?: SeedSource;
  /** The driver's name as the service shows it (qemu; pilot where the nodes are pilots'). */
  name?: string;
}

export class AgentDriver implements Driver {
  readonly name: string;
  /** QEMU saves state to files, carries them between agents, migrates live over NBD mirrors and makes scratch disks. */
  readonly capabilities: ReadonlySet<Capability> = new Set(ALL_CAPABILITIES);
  private readonly vms = new VmTable();
  private readonly listeners: Array<(vm: VmStatus) => void> = [];
  private saving: NodeJS.Immediate | null = null;
  /** VMs in the middle of a migration: their reports from either side are not yet the truth. */
  private readonly moving = new Set<string>();
  private readonly strays: StrayVms;
  private readonly parked: ParkedVms;

  constructor(private readonly opts: AgentDriverOptions) {
    this.name = opts.name ?? 'qemu';
    const file = existsSync(opts.stateFile) ? (JSON.parse(readFileSync(opts.stateFile, 'utf8')) as VmStatus[] | SavedState) : null;
    // An array is the file as written before VMs could be written off.
    const saved: SavedState | null = Array.isArray(file) ? { vms: file, writtenOff: {} } : file;
    for (const vm of saved?.vms ?? []) this.vms.set(vm.id, vm);
    this.strays = new StrayVms(opts.hub, () => this.changed(), saved?.writtenOff);
    this.parked = new ParkedVms(opts.hub, saved?.parked);
  }

  /** The VMs last reported on the node (those parked in a depot are on none). */
  vmsOn(node: string): VmStatus[] {
    return this.vms.onNode(node);
  }

  /** The hub's listener calls this with what an agent reports. */
  heard(node: string, vm: VmStatus): void {
    if (this.moving.has(vm.id)) return;
    if (vm.node !== node) return;
    if (this.strays.isWrittenOff(node, vm.id)) return;
    // What a node says of a VM the driver has on another node is an old copy's news (a stray's, or
    // a migration's source): it must not overwrite the copy that counts.
    const known = this.vms.get(vm.id);
    // A node that has a VM the driver has in the depot took it from there (an unpark whose answer was lost).
    if (known && known.node !== node && known.node !== DEPOT_NODE) return;
    if (known?.node === DEPOT_NODE) this.parked.forget(vm.id);
    if (vm.state === 'stopped') this.vms.delete(vm.id);
    else this.vms.set(vm.id, vm);
    // The table is rewritten whole (save): a report of what it holds already, as every VM's at a
    // hello after a takeover, is no reason to. The listeners hear it all the same.
    if (vm.state === 'stopped' ? known !== undefined : !known || !sameStatus(known, vm)) this.changed();
    for (const l of this.listeners) l(vm);
  }

  /**
   * An agent said what it runs (and, with `depot`, what is parked in the depot it shares): a VM it
   * was last seen with and no longer has has vanished, unless it is parked now.
   */
  nodeReported(node: string, reported: VmStatus[], depot?: string): void {
    if (depot) {
      const listed = reported.filter((vm) => vm.node === DEPOT_NODE && !this.moving.has(vm.id));
      const now = this.parked.newlyParked(node, depot, listed, (id) => this.vms.get(id));
      for (const id of now) {
        this.parked.park(id, depot);
        this.record({ id, node: DEPOT_NODE, state: 'suspended', ip: null, console: null });
      }
    }
    const vms = this.strays.setApart(node, reported.filter((vm) => vm.node !== DEPOT_NODE));
    const now = new Set(vms.map((v) => v.id));
    for (const vm of this.vms.onNode(node)) {
      const { id } = vm;
      if (now.has(id) || this.moving.has(id)) continue;
      this.vms.delete(id);
      this.changed();
      this.emit({ ...vm, state: 'failed', ip: null, detail: `${id} vanished from node '${node}' (its agent no longer has it)` });
    }
    for (const vm of vms) this.heard(node, vm);
  }

  writeOff(node: string, vmIds: readonly string[]): void {
    if (vmIds.length === 0) return;
    for (const id of vmIds) if (this.vms.get(id)?.node === node) this.vms.delete(id);
    this.strays.writeOff(node, vmIds);
  }

  onStray(listener: (vm: VmStatus) => void): void {
    this.strays.listeners.push(listener);
  }

  async prepareImage(node: string, image: string): Promise<void> {
    const { disk, boot } = await imagesOf(this.opts.store, image);
    await this.opts.hub.call(node, 'prepareImages', { images: [disk!, ...(boot ? [boot.kernel, boot.initrd] : [])] });
  }

  async start(vm: VmSpec): Promise<VmStatus> {
    // Refused here, before any node hears of it: an agent would only fail the VM for it.
    const wrongLimit = limitsProblem(vm, 'vm');
    if (wrongLimit) throw new DriverError(vm.id, `cannot start: ${wrongLimit}`, { permanent: true });
    const known = this.vms.get(vm.id);
    if (known && known.state !== 'failed') return known;
    const workload = await this.workloadOf(vm);
    // The nodes already holding members learn of this one's node first: its broadcasts reach them
    // from its first frame.
    if (workload.cluster) await this.tellPeers(leaseOfVm(vm.id), workload.cluster.number, [vm.node]);
    const status = this.record(await this.opts.hub.call(vm.node, 'start', workload, vm.id));
    // Members of a cluster start side by side: one whose start began before another's was known
    // here took an incomplete list. Once it runs, every member node gets the exact list (best
    // effort, as in leftCluster; each later start or stop sends it again).
    if (workload.cluster) await this.tellPeers(leaseOfVm(vm.id), workload.cluster.number).catch(() => undefined);
    return status;
  }

  async stop(id: string, opts: { graceful: boolean }): Promise<void> {
    const vm = this.vms.get(id);
    if (vm) {
      // A parked VM is stopped by any node that shares its depot: its files there go.
      const via = vm.node === DEPOT_NODE ? this.parked.sharing(id) : vm.node;
      if (via === null) throw new DriverError(id, 'is parked in a depot, and no node that shares it is connected to remove it');
      await this.opts.hub.call(via, 'stop', { id, graceful: opts.graceful }, id);
      this.vms.delete(id);
      this.parked.forget(id);
      this.changed();
      this.emit({ ...vm, state: 'stopped', ip: null });
    }
    this.opts.addresses.release(id);
    await this.leftCluster(id);
  }

  /** On a node that shares a depot, the suspended VM is parked there too: it no longer needs its node. */
  async suspend(id: string): Promise<VmStatus> {
    const node = this.nodeOf(id);
    if (node === DEPOT_NODE) throw new DriverError(id, 'is parked in a depot: it is suspended already');
    const suspended = this.record(await this.opts.hub.call(node, 'suspend', { id }, id));
    const depot = this.opts.hub.report(node)?.depot;
    if (!depot || suspended.state !== 'suspended') return suspended;
    let parked: VmStatus;
    try {
      parked = await this.opts.hub.call(node, 'park', { id }, id);
    } catch (e) {
      throw new DriverError(id, `is suspended on node '${node}' but could not be parked in its depot (it stays on the node): ${(e as Error).message}`);
    }
    this.parked.park(id, depot);
    return this.record(parked);
  }

  async resume(id: string): Promise<VmStatus> {
    if (this.nodeOf(id) === DEPOT_NODE) throw new DriverError(id, 'is parked in a depot: migrate it to a node that shares the depot first, then resume it there');
    const status = this.record(await this.opts.hub.call(this.nodeOf(id), 'resume', { id }, id));
    // Its node rejoined the cluster's network from the member's saved workload: every member node
    // gets the exact list again (best effort, as in leftCluster; the next change sends it too).
    const net = this.opts.clusters?.book.known(leaseOfVm(id));
    if (net) await this.tellPeers(leaseOfVm(id), net.number).catch(() => undefined);
    return status;
  }

  async migrate(id: string, toNode: string): Promise<VmStatus> {
    const from = this.nodeOf(id);
    const vm = this.vms.get(id)!;
    if (vm.state !== 'suspended') throw new DriverError(id, `is ${vm.state}: only a suspended VM migrates cold; suspend it first`);
    if (from === toNode) throw new DriverError(id, `is already on ${toNode}`);
    if (from === DEPOT_NODE) return this.unpark(id, toNode);
    const moved = await this.moveBetween(id, from, toNode, async (workload) => {
      const landing = await this.opts.hub.call(toNode, 'receive', workload, id);
      await this.opts.hub.call(from, 'send', { id, to: landing }, id);
      return { status: await this.opts.hub.call(toNode, 'received', { id }, id) };
    });
    return moved.status;
  }

  /** A parked VM comes out of its depot onto `toNode`, which must share that depot. */
  private async unpark(id: string, toNode: string): Promise<VmStatus> {
    const wrong = this.parked.takerProblem(id, toNode);
    if (wrong) throw new DriverError(id, wrong);
    const moved = await this.moveBetween(id, toNode, toNode, async (workload) => ({ status: await this.opts.hub.call(toNode, 'unpark', { workload }, id) }));
    this.parked.forget(id);
    return moved.status;
  }

  async liveMigrate(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }> {
    const from = this.nodeOf(id);
    const vm = this.vms.get(id)!;
    if (vm.state !== 'running') throw new DriverError(id, `is ${vm.state}: only a running VM migrates live`);
    if (from === toNode) throw new DriverError(id, `is already on ${toNode}`);
    return this.moveBetween(id, from, toNode, async (workload) => {
      const landing = await this.opts.hub.call(toNode, 'incoming', workload, id);
      const report = await this.opts.hub.call(from, 'migrateLive', { id, to: landing }, id);
      return { ...report, status: await this.opts.hub.call(toNode, 'arrived', { id }, id) };
    });
  }

  async status(): Promise<VmStatus[]> {
    // Asked side by side, a few dozen at a time: one after another, 2,000 agents took a pass whole seconds.
    const nodes = [...this.opts.hub.connectedNodes()];
    const ask = async (): Promise<void> => {
      for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
        try {
          this.nodeReported(node, await this.opts.hub.call(node, 'status', {}), this.opts.hub.report(node)?.depot);
        } catch {
          // The node went away while asked: what it said last stands.
        }
      }
    };
    await Promise.all(Array.from({ length: STATUS_AT_ONCE }, ask));
    return [...this.vms.values()];
  }

  onChange(listener: (vm: VmStatus) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
    this.strays.listeners.length = 0;
    if (this.saving) {
      clearImmediate(this.saving);
      this.save();
    }
  }

  private changed(): void {
    this.saving ??= setImmediate(() => this.save());
  }

  /** The node's channel is up (after its hello): the written-off VMs its hello reported are stopped. */
  channelUp(node: string): void {
    this.strays.channelUp(node);
  }

  private save(): void {
    this.saving = null;
    const tmp = `${this.opts.stateFile}.tmp`;
    const state: SavedState = { vms: [...this.vms.values()], writtenOff: this.strays.saved(), parked: this.parked.saved() };
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.opts.stateFile);
  }

  /** `from` is the node that has the VM: the target itself for a VM parked in a depot they share. */
  private async moveBetween<T extends { status: VmStatus }>(id: string, from: string, to: string, move: (w: Workload) => Promise<T>): Promise<T> {
    const workload = await this.opts.hub.call(from, 'workload', { id }, id);
    let there: Workload = { ...workload, vm: { ...workload.vm, node: to } };
    if (workload.cluster && this.opts.clusters) {
      // The cluster network as the target node joins it: its own address on the subnet, its peers.
      const p = this.opts.clusters;
      const lease = leaseOfVm(id);
      const others = this.memberNodes(lease, id);
      if (!p.underlayOf(to)) throw new DriverError(id, `node '${to}' reports no underlay address for cluster networks: restart its agent with --underlay ADDRESS`);
      // The context address from the book too: a workload made before clusters had one carries none.
      there = { ...there, cluster: { ...workload.cluster, nodeAddress: p.book.node(lease, to), contextAddress: p.book.contextAddress(lease), peers: peersOf(p, id, to, others) } };
      await this.tellPeers(lease, workload.cluster.number, [to]);
    }
    if (workload.disk) await this.opts.hub.call(to, 'prepareImages', { images: [workload.disk, ...(workload.boot ? [workload.boot.kernel, workload.boot.initrd] : [])] }, id);
    this.moving.add(id);
    this.emit({ ...this.vms.get(id)!, state: 'migrating' });
    try {
      const result = await move(there);
      this.moving.delete(id);
      this.record(result.status);
      // The source node may hold no member any more: the others stop flooding to it (best effort, as in leftCluster).
      if (workload.cluster) await this.tellPeers(leaseOfVm(id), workload.cluster.number).catch(() => undefined);
      return result;
    } catch (e) {
      this.moving.delete(id);
      await this.opts.hub.call(to, 'abandon', { id }, id).catch(() => undefined);
      // The VM stays where it was, in the state the sender reports.
      const back = (await this.opts.hub.call(from, 'status', {}, id).catch(() => [] as VmStatus[])).find((v) => v.id === id);
      if (back) this.record(back);
      throw e;
    }
  }

  private nodeOf(id: string): string {
    const vm = this.vms.get(id);
    if (!vm) throw new DriverError(id, 'no node runs this VM');
    return vm.node;
  }

  private record(vm: VmStatus): VmStatus {
    this.vms.set(vm.id, vm);
    this.changed();
    this.emit(vm);
    return vm;
  }

  private emit(vm: VmStatus): void {
    for (const l of this.listeners) l(vm);
  }

  private async workloadOf(vm: VmSpec): Promise<Workload> {
    const images = vm.image ? await imagesOf(this.opts.store, vm.image) : { disk: null, boot: null };
    let w: Workload = { vm, ip: this.opts.addresses.vm(vm.id), ...images };
    if (isClusterMember(vm)) {
      if (!this.opts.clusters) throw new DriverError(vm.id, 'is on its cluster\'s private network, but this service has no cluster networks configured');
      w = clusterWorkload(this.opts.clusters, w, this.memberNodes(vm.leaseId, vm.id));
    }
    let seed;
    try {
      // The seed's network-config names each NIC by the MAC the VM will have.
      seed = (await this.opts.seedFor?.(w.vm, nicsOf(w))) ?? null;
    } catch (e) {
      throw new DriverError(vm.id, `its cloud-init seed could not be made: ${(e as Error).message}`);
    }
    return seed ? { ...w, seed } : w;
  }

  /** The nodes holding the lease's VMs other than `except`. */
  private memberNodes(lease: string, except?: string): Set<string> {
    return new Set([...this.vms.values()].filter((v) => v.id !== except && leaseOfVm(v.id) === lease).map((v) => v.node));
  }

  /**
   * Each node holding members of the lease gets the full list of the other member nodes (with
   * `plus`): the call sets the list, so a lost or repeated one is put right by the next.
   */
  private async tellPeers(lease: string, number: number, plus: string[] = []): Promise<void> {
    const p = this.opts.clusters;
    if (!p) return;
    const nodes = new Set([...this.memberNodes(lease), ...plus]);
    for (const node of this.memberNodes(lease)) {
      await this.opts.hub.call(node, 'clusterPeers', { number, peers: peersOf(p, lease, node, nodes) }, lease);
    }
  }

  /** A member stopped: its address is free; the last one's going frees the cluster's network. */
  private async leftCluster(id: string): Promise<void> {
    const p = this.opts.clusters;
    const lease = leaseOfVm(id);
    const net = p?.book.known(lease);
    if (!p || !net) return;
    p.book.releaseMember(lease, id);
    if (this.memberNodes(lease).size === 0) {
      p.book.release(lease);
      return;
    }
    // Best effort: a stale peer only gets floods its node drops (the VNI is gone there), and the
    // next member change sends the whole list again.
    await this.tellPeers(lease, net.number).catch(() => undefined);
  }
}

function sameStatus(a: VmStatus, b: VmStatus): boolean {
  return a.state === b.state && a.node === b.node && a.ip === b.ip && a.console === b.console && a.detail === b.detail;
}

interface SavedState {
  vms: VmStatus[];
  writtenOff: Record<string, string[]>;
  /** VM id to the depot it is parked in (absent from files written before depots). */
  parked?: Record<string, string>;
}
